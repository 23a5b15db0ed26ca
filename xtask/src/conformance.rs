//! `cargo xtask conformance`: build, then run the suite; without `--target`/`--spawn` against
//! the embedded reference started with the fast profile's `[reference] args`.

use std::ffi::OsString;
use std::process::Command;

use crate::process::{Outcome, cargo, has_flag, run, target_dir, workspace_root};
use crate::profile::{
    FAST_PROFILE, FAST_RUN_FLAGS, fast_reference_args, reference_args_of, shell_join,
};

/// The reference's MCP endpoint in the `resource` audience mode (the fast profile has the
/// `supabase` mode): its own profile and `[reference] args`.
pub const MCP_RESOURCE_PROFILE: &str = "fixtures/profiles/reference-mcp-resource.toml";

/// `cargo xtask conformance`: build, then run the suite.
pub fn conformance(args: &[OsString]) -> Outcome {
    conformance_with(args, true, &[])
}

/// The variable naming the PostgreSQL database the PAT family also runs on (`.ci/run` sets
/// it; a developer without PostgreSQL leaves it unset).
pub const PG_URL_VAR: &str = "XAUTH_TEST_DATABASE_URL";

/// The PAT family against two replicas of the reference sharing the PostgreSQL database of
/// [`PG_URL_VAR`] (`DATABASE_URL` for both); skipped, saying so, when it is unset.
pub fn pats_on_postgres() -> Outcome {
    let Some(url) = std::env::var_os(PG_URL_VAR).filter(|v| !v.is_empty()) else {
        println!(
            "xtask: the PAT family on PostgreSQL with two replicas: SKIPPED ({PG_URL_VAR} is unset; .ci/run sets it)"
        );
        return Ok(());
    };
    println!("xtask: the PAT family on PostgreSQL with two replicas of the reference");
    let args: Vec<OsString> = ["--tags", "@pat", "--spawn-replicas", "2"]
        .into_iter()
        .map(OsString::from)
        .collect();
    conformance_with(&args, false, &[("DATABASE_URL", url)])
}

/// The MCP family against the reference in the `resource` audience mode ([`MCP_RESOURCE_PROFILE`]),
/// reusing the binaries `cargo test --workspace` built.
pub fn mcp_resource_mode() -> Outcome {
    println!("xtask: the MCP family against the reference in the resource audience mode");
    let bin = target_dir().join("debug").join("xauth-reference");
    let spawn = format!(
        "{} {}",
        bin.display(),
        shell_join(&reference_args_of(MCP_RESOURCE_PROFILE)?)
    );
    let args: Vec<OsString> = [
        "--profile",
        MCP_RESOURCE_PROFILE,
        "--spawn",
        spawn.as_str(),
        "--tags",
        "@mcp",
        "--strict",
        "--issuer-addr",
        "127.0.0.1:0",
    ]
    .into_iter()
    .map(OsString::from)
    .collect();
    conformance_with(&args, false, &[])
}

/// Runs the suite with `env` added to its environment (and so the spawned reference's);
/// `build` false reuses binaries that `cargo test --workspace` just built (building them again
/// with the non-test feature set would recompile ~25 crates).
pub fn conformance_with(args: &[OsString], build: bool, env: &[(&str, OsString)]) -> Outcome {
    let against_reference = !has_flag(args, "--target") && !has_flag(args, "--spawn");
    let bin_dir = target_dir().join("debug");
    let built = bin_dir.join("xauth-conformance").is_file()
        && (!against_reference || bin_dir.join("xauth-reference").is_file());
    if build || !built {
        let mut cmd = cargo();
        cmd.args(["build", "--quiet", "-p", "xauth-conformance"]);
        if against_reference {
            cmd.args(["-p", "xauth-reference"]);
        }
        run(cmd)?;
    }

    let mut suite = Command::new(bin_dir.join("xauth-conformance"));
    suite.current_dir(workspace_root()).arg("run");
    suite.envs(env.iter().map(|(k, v)| (*k, v)));
    if against_reference {
        let mut spawn = bin_dir.join("xauth-reference").display().to_string();
        if !has_flag(args, "--profile") {
            // The reference started with short TTL/cooldown/window values and the profile that
            // declares them, so the stateful families wait seconds, not minutes.
            spawn = format!("{spawn} {}", shell_join(&fast_reference_args()?));
            suite
                .arg("--profile")
                .arg(FAST_PROFILE)
                .args(FAST_RUN_FLAGS);
        }
        suite.arg("--spawn").arg(spawn);
        // The reference claims the strict reading too, so its run includes the @strict scenarios.
        if !has_flag(args, "--strict") {
            suite.arg("--strict");
        }
        if !has_flag(args, "--issuer-addr") && !has_flag(args, "--issuer") {
            // An ephemeral port, so a developer's running mock on 54321 never collides.
            suite.args(["--issuer-addr", "127.0.0.1:0"]);
        }
    }
    // Against another implementation without --profile, the suite's built-in default applies:
    // it declares no leeway, so the leeway-boundary scenarios are skipped rather than guessed.
    suite.args(args);
    run(suite)
}
