//! Developer commands for the xauth workspace: `cargo xtask <command>`.
//!
//! Dependency-free on purpose (it compiles in about a second). Every command shells out to the
//! same `cargo` that runs it, from the workspace root, and stops at the first failing step.
//! One module per command; `process` (running things) and `profile` (what xtask reads out of
//! target profiles) are shared.

use std::env;
use std::ffi::OsString;
use std::process::ExitCode;

mod bench;
mod ci;
mod conformance;
mod interop;
mod mock;
mod mutants;
mod process;
mod profile;
mod targets;

use process::Failure;

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  conformance [ARGS]   run the conformance suite; without --target/--spawn it builds and spawns
                       the embedded reference API (xauth-reference) with the [reference] args of
                       fixtures/profiles/reference-fast.toml. ARGS go to `xauth-conformance run`.
  mock [ARGS]          run the fake Supabase auth server (xauth-issuer) on 127.0.0.1:54321
  interop              drive xauth-issuer with the real supabase-js and jose, and the official MCP
                       TypeScript SDK and conformance package against the issuer's OAuth server
                       and the reference's /mcp (needs node + npm)
  targets [NAME...] [-- ARGS]
                       the suite (default mode) against each correct implementation in
                       interop/targets/ (node-jose, python-pyjwt; needs node + npm and python3
                       with venv): installs its dependencies, runs it with the spawn command its
                       profile.toml names, requires 0 failed. ARGS go to `xauth-conformance run`.
  ci                   what CI runs: fmt check, clippy -D warnings, all tests, the supabase-js
                       interop tests, the interop targets, conformance, the mutation gate
  mutants [ARGS]       the mutation gate: the whole suite against xauth-reference clean and once
                       per seeded defect; fails if a defect is not caught by a scenario of the
                       catalogue rows it declares. Uses fixtures/profiles/reference-fast.toml
                       (and the reference flags of its [reference] args). ARGS go to
                       `xauth-conformance gate`.
  bench <issuer|verifier|reference|pat|all>
                       run a benchmark (release build)
  help                 this text";

fn main() -> ExitCode {
    let mut args = env::args_os().skip(1);
    let Some(command) = args.next() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let rest: Vec<OsString> = args.collect();
    let result = match command.to_str() {
        Some("conformance") => conformance::conformance(&rest),
        Some("mock") => mock::mock(&rest),
        Some("interop") => interop::interop(true).and_then(|()| interop::interop_mcp(true)),
        Some("targets") => targets::targets(&rest, true),
        Some("ci") => ci::ci(),
        Some("bench") => bench::bench(&rest),
        Some("mutants") => mutants::mutants(&rest),
        Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("unknown command {command:?}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure { code, message }) => {
            if !message.is_empty() {
                eprintln!("xtask: {message}");
            }
            ExitCode::from(code)
        }
    }
}
