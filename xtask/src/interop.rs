//! `cargo xtask interop`: the real supabase-js and jose clients against the issuer binary.

use std::process::Command;

use crate::process::{Outcome, cargo, run, target_dir, workspace_root};

/// Runs the interop tests; `build` false reuses the binary `cargo test --workspace` built.
pub fn interop(build: bool) -> Outcome {
    let issuer = target_dir().join("debug").join("xauth-issuer");
    if build || !issuer.is_file() {
        let mut cmd = cargo();
        cmd.args([
            "build",
            "--quiet",
            "-p",
            "xauth-issuer",
            "--bin",
            "xauth-issuer",
        ]);
        run(cmd)?;
    }
    let dir = workspace_root().join("interop").join("supabase-js");
    let mut install = Command::new("npm");
    install
        .current_dir(&dir)
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]);
    run(install)?;
    let mut test = Command::new("node");
    test.current_dir(&dir)
        .args(["--test", "--test-reporter=spec"])
        .env("XAUTH_ISSUER_BIN", &issuer);
    run(test)
}

// ---------------------------------------------------------------------------------------------
// `interop/mcp`: the official MCP TypeScript SDK's OAuth client and MCP client against the issuer
// and the reference's `/mcp`, then the official MCP conformance package's applicable server
// scenarios (interop/mcp/README.md). `cargo xtask interop` and `cargo xtask ci` run it.

/// Runs `interop/mcp`: `npm ci`, `node --test` (the SDK tests), `node conformance.mjs` (the
/// conformance scenarios that apply; exits non-zero on a failure). `build` false reuses the
/// binaries `cargo test --workspace` built.
pub fn interop_mcp(build: bool) -> Outcome {
    let debug = target_dir().join("debug");
    let issuer = debug.join("xauth-issuer");
    let reference = debug.join("xauth-reference");
    if build || !issuer.is_file() || !reference.is_file() {
        let mut cmd = cargo();
        cmd.args([
            "build",
            "--quiet",
            "-p",
            "xauth-issuer",
            "--bin",
            "xauth-issuer",
            "-p",
            "xauth-reference",
            "--bin",
            "xauth-reference",
        ]);
        run(cmd)?;
    }
    let dir = workspace_root().join("interop").join("mcp");
    let mut install = Command::new("npm");
    install
        .current_dir(&dir)
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]);
    run(install)?;
    let mut test = Command::new("node");
    test.current_dir(&dir)
        .args(["--test", "--test-reporter=spec"])
        .env("XAUTH_ISSUER_BIN", &issuer)
        .env("XAUTH_REFERENCE_BIN", &reference);
    run(test)?;
    let mut conformance = Command::new("node");
    conformance
        .current_dir(&dir)
        .arg("conformance.mjs")
        .env("XAUTH_ISSUER_BIN", &issuer)
        .env("XAUTH_REFERENCE_BIN", &reference);
    run(conformance)
}
