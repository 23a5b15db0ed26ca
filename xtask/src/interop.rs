//! `cargo xtask interop`: real clients against our binaries. `interop/supabase-js`: the real
//! supabase-js and jose clients against the issuer. `interop/mcp`: the official MCP TypeScript
//! SDK's OAuth client and MCP client against the issuer's OAuth server and the reference's
//! `/mcp`, then the official MCP conformance package's applicable server scenarios
//! (interop/mcp/README.md).

use std::path::PathBuf;
use std::process::Command;

use crate::process::{Outcome, cargo, run, target_dir, workspace_root};

/// The debug binaries of `packages` (each package's binary has its name), built unless `build`
/// is false and they exist (`cargo test --workspace` just built them).
fn binaries(packages: &[&str], build: bool) -> Result<Vec<PathBuf>, crate::process::Failure> {
    let debug = target_dir().join("debug");
    let bins: Vec<PathBuf> = packages.iter().map(|p| debug.join(p)).collect();
    if build || !bins.iter().all(|b| b.is_file()) {
        let mut cmd = cargo();
        cmd.args(["build", "--quiet"]);
        for p in packages {
            cmd.args(["-p", p, "--bin", p]);
        }
        run(cmd)?;
    }
    Ok(bins)
}

/// `npm ci`, then `node --test` in `interop/<name>` with `env`.
fn node_tests(name: &str, env: &[(&str, &PathBuf)]) -> Outcome {
    let dir = workspace_root().join("interop").join(name);
    let mut install = Command::new("npm");
    install
        .current_dir(&dir)
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]);
    run(install)?;
    let mut test = Command::new("node");
    test.current_dir(&dir)
        .args(["--test", "--test-reporter=spec"])
        .envs(env.iter().map(|(k, v)| (*k, v.as_os_str())));
    run(test)
}

/// Runs `interop/supabase-js`; `build` false reuses the binary `cargo test --workspace` built.
pub fn interop(build: bool) -> Outcome {
    let bins = binaries(&["xauth-issuer"], build)?;
    node_tests("supabase-js", &[("XAUTH_ISSUER_BIN", &bins[0])])
}

/// Runs `interop/mcp`: its tests, then `node conformance.mjs` (the conformance scenarios that
/// apply; non-zero on a failure). `build` false reuses the binaries `cargo test --workspace`
/// built.
pub fn interop_mcp(build: bool) -> Outcome {
    let bins = binaries(&["xauth-issuer", "xauth-reference"], build)?;
    let env = [
        ("XAUTH_ISSUER_BIN", &bins[0]),
        ("XAUTH_REFERENCE_BIN", &bins[1]),
    ];
    node_tests("mcp", &env)?;
    let mut conformance = Command::new("node");
    conformance
        .current_dir(workspace_root().join("interop").join("mcp"))
        .arg("conformance.mjs")
        .envs(env.iter().map(|(k, v)| (*k, v.as_os_str())));
    run(conformance)
}
