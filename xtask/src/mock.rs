//! `cargo xtask mock`: the fake Supabase auth server (xauth-issuer) in the foreground.

use std::ffi::OsString;

use crate::process::{Outcome, cargo, run};

/// Runs `xauth-issuer` with `args`.
pub fn mock(args: &[OsString]) -> Outcome {
    let mut cmd = cargo();
    cmd.args([
        "run",
        "--quiet",
        "-p",
        "xauth-issuer",
        "--bin",
        "xauth-issuer",
        "--",
    ]);
    cmd.args(args);
    run(cmd)
}
