//! The mutation gate (`xauth-conformance gate`): proves the suite has teeth.
//!
//! It runs the whole suite (scenarios and properties) against `xauth-reference` once clean, and
//! once per seeded defect (`xauth-reference --list-defects`: the name, and a `rows=A07,A08`
//! column naming the catalogue rows that must catch it) the scenarios tagged with those rows
//! (`--tags '@A07 or @A08'`; `--whole-suite` runs everything), each run in its own process
//! (`xauth-conformance run --spawn '<reference> --defect NAME' --issuer-addr 127.0.0.1:0 --json
//! FILE --quiet`, so every run has a fresh issuer on an ephemeral port and a fresh
//! implementation), `--jobs` at a time. It reads each JSON report back into
//! [`JsonReport`](crate::report::schema::JsonReport): a defect is caught only by a scenario whose status is `failed` (a suite
//! `error` is not a catch) and that is tagged with one of the rows the defect declares
//! (`properties` for the properties phase). Other failures (with `--whole-suite`) are listed as
//! "also failed (not counted)": a timing flake elsewhere in the suite cannot pass for a catch. It prints a table
//! defect → catching scenarios, and exits 0 when the clean run passes and every defect is
//! caught, 1 when a defect survives or the clean run fails, 2 on a usage or setup error.
//!
//! ```text
//! $ xauth-conformance gate --reference target/debug/xauth-reference
//! defect        verdict    time  [declared rows] caught by
//! (clean)       passed      96s  349 passed, 0 failed, 20 skipped
//! alg-none      caught      97s  [A01] 9 scenarios: algorithms :: An unsigned token …; … (+6 more)
//! ```

mod defects;
mod launch;
mod table;

use std::time::Instant;

use futures::StreamExt as _;

use crate::cli::GateArgs;
pub use defects::{Defect, list_defects};
use launch::{run_one, snapshot_features, spawn_command};
use table::describe;
pub use table::{FailedScenario, Row, RunOutcome, read_report, render_table};

/// Exit status of the gate: clean run passed and every defect caught.
pub const GATE_PASSED: i32 = 0;
/// Exit status: a defect survived or the clean run failed.
pub const GATE_FAILED: i32 = 1;
/// Exit status: usage or setup error.
pub const GATE_SETUP: i32 = 2;

/// Runs the gate; returns the exit status.
pub async fn gate(args: &GateArgs) -> i32 {
    match gate_inner(args).await {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("xauth-conformance gate: error: {msg}");
            GATE_SETUP
        }
    }
}

async fn gate_inner(args: &GateArgs) -> Result<i32, String> {
    let started = Instant::now();
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    if !args.reference.is_file() {
        return Err(format!(
            "--reference {}: no such file",
            args.reference.display()
        ));
    }
    spawn_command(args, None)?;
    let listed = list_defects(&args.reference).await?;
    let defects = if args.defects.is_empty() {
        listed
    } else {
        let mut chosen = Vec::new();
        for d in &args.defects {
            match listed.iter().find(|l| &l.name == d) {
                Some(l) => chosen.push(l.clone()),
                None => {
                    return Err(format!(
                        "--defect {d}: the reference does not list it (known: {})",
                        listed
                            .iter()
                            .map(|l| l.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
        }
        chosen
    };
    let dir = match &args.work_dir {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| format!("--work-dir {}: {e}", d.display()))?;
            d.clone()
        }
        None => tempfile::Builder::new()
            .prefix("xauth-gate-")
            .tempdir()
            .map_err(|e| format!("cannot create a work directory: {e}"))?
            .keep(),
    };
    // Every run judges the same suite: the feature files are copied once, before any run.
    let features = snapshot_features(args.features.as_deref(), &dir.join("features"))?;
    let seed = args.properties_seed.unwrap_or_else(rand::random);
    println!(
        "the mutation gate: the suite against {} clean and with each of {} seeded defects, {} at a time \
         (properties: {} cases, seed {seed}); reports in {}",
        args.reference.display(),
        defects.len(),
        args.jobs,
        args.properties_cases,
        dir.display()
    );
    let runs: Vec<Option<Defect>> = std::iter::once(None)
        .chain(defects.into_iter().map(Some))
        .collect();
    let total = runs.len();
    let mut run_args = args.clone();
    run_args.features = Some(features);
    let run_args = &run_args;
    let exe_ref = &exe;
    let dir_ref = &dir;
    let mut stream = futures::stream::iter(
        runs.into_iter()
            .enumerate()
            .map(|(i, d)| async move { (i, run_one(exe_ref, run_args, seed, dir_ref, d).await) }),
    )
    .buffer_unordered(args.jobs as usize);
    let mut rows: Vec<(usize, Row)> = Vec::new();
    while let Some((i, row)) = stream.next().await {
        let (verdict, _) = describe(&row);
        println!(
            "  [{}/{total}] {} {verdict} ({} s)",
            rows.len() + 1,
            row.label(),
            row.elapsed.as_secs()
        );
        rows.push((i, row));
    }
    rows.sort_by_key(|(i, _)| *i);
    let rows: Vec<Row> = rows.into_iter().map(|(_, r)| r).collect();
    print!("\n{}", render_table(&rows));
    let defects_total = rows.iter().filter(|r| r.defect.is_some()).count();
    let caught = rows.iter().filter(|r| r.defect.is_some() && r.ok()).count();
    let clean_ok = rows.iter().any(|r| r.defect.is_none() && r.ok());
    println!(
        "\n{caught} of {defects_total} defects caught; clean run {}; {:.0} s",
        if clean_ok { "passed" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    if rows
        .iter()
        .all(|r| matches!(r.outcome, RunOutcome::Broken(_)))
    {
        // the suite could not run at all: a setup problem, not a verdict on the suite's teeth
        return Ok(GATE_SETUP);
    }
    Ok(if clean_ok && caught == defects_total {
        GATE_PASSED
    } else {
        GATE_FAILED
    })
}
