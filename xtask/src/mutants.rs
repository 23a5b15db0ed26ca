//! `cargo xtask mutants`: build, then run the mutation gate (`xauth-conformance gate`) against
//! the reference started with the fast profile's `[reference] args`, and report its wall time.

use std::ffi::OsString;
use std::process::Command;

use crate::process::{Outcome, cargo, has_flag, run, target_dir, workspace_root};
use crate::profile::{FAST_PROFILE, FAST_RUN_FLAGS, fast_reference_args, shell_join};

/// `cargo xtask mutants [ARGS]`: ARGS go to `xauth-conformance gate`.
pub fn mutants(args: &[OsString]) -> Outcome {
    mutants_with(args, true)
}

/// The gate; `build` false reuses the binaries `cargo test --workspace` just built (building
/// them again with the non-test feature set would recompile ~25 crates, about 90 s in CI).
pub fn mutants_with(args: &[OsString], build: bool) -> Outcome {
    let started = std::time::Instant::now();
    let bin_dir = target_dir().join("debug");
    let built =
        bin_dir.join("xauth-conformance").is_file() && bin_dir.join("xauth-reference").is_file();
    if build || !built {
        let mut build = cargo();
        build.args([
            "build",
            "--quiet",
            "-p",
            "xauth-conformance",
            "-p",
            "xauth-reference",
        ]);
        run(build)?;
    }
    let built = started.elapsed();
    let mut gate = Command::new(bin_dir.join("xauth-conformance"));
    gate.current_dir(workspace_root())
        .arg("gate")
        .arg("--reference")
        .arg(bin_dir.join("xauth-reference"))
        // the reference claims the strict reading too (as in `cargo xtask conformance`)
        .arg("--run-arg=--strict");
    if !has_flag(args, "--profile") {
        gate.arg("--profile").arg(FAST_PROFILE);
        if !has_flag(args, "--reference-args") {
            gate.arg(format!(
                "--reference-args={}",
                shell_join(&fast_reference_args()?)
            ));
        }
        for flag in FAST_RUN_FLAGS {
            gate.arg(format!("--run-arg={flag}"));
        }
    }
    gate.args(args);
    let gated = std::time::Instant::now();
    let result = run(gate);
    eprintln!(
        "xtask mutants: build {:.0} s, the mutation gate {:.0} s, total {:.0} s",
        built.as_secs_f64(),
        gated.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    result
}
