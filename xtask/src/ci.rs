//! `cargo xtask ci`: what CI runs, in the order that fails fastest.

use crate::process::{Outcome, cargo, run};

/// fmt check, clippy `-D warnings`, all tests, the supabase-js interop tests, the interop
/// targets, conformance against the reference, the PAT family on PostgreSQL with two replicas,
/// the MCP family in the resource audience mode, the mutation gate.
pub fn ci() -> Outcome {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    run(fmt)?;

    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    run(clippy)?;

    let mut test = cargo();
    test.args(["test", "--workspace"]);
    run(test)?;

    crate::interop::interop(false)?;
    // The official MCP TypeScript SDK's OAuth flow against the issuer and the reference's /mcp,
    // and the official MCP conformance package's applicable server scenarios.
    crate::interop::interop_mcp(false)?;
    // Correct implementations in other languages must pass the default suite: a failure here
    // is a false alarm of the suite (or a broken target), never a finding.
    crate::targets::targets(&[], false)?;
    crate::conformance::conformance_with(&[], false, &[])?;
    // PATs on a real PostgreSQL, two replicas sharing it: a revocation on one is seen by the
    // other at once (everything else runs on the embedded SQLite).
    crate::conformance::pats_on_postgres()?;
    // The MCP family in the other audience mode (the fast profile has the supabase mode).
    crate::conformance::mcp_resource_mode()?;
    // The mutation gate: the suite must catch every seeded defect, so a weakened scenario
    // cannot land.
    crate::mutants::mutants_with(&[], false)
}
