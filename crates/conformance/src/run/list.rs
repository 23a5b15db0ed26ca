//! `xauth-conformance list`: what `run` would run with the same selection, counted by feature
//! (a Markdown table) and optionally scenario by scenario, without starting anything.

use crate::cli::ListArgs;
use crate::feature_files;
use crate::plan::{self, Decision, Plan, Requirements};
use crate::profile::Profile;

use super::phase::{EXIT_PASSED, EXIT_SETUP, SetupError};

/// `xauth-conformance list`: the scenario count by feature (a Markdown table), optionally
/// every scenario; returns the exit status.
pub async fn list(args: &ListArgs) -> i32 {
    match list_inner(args).await {
        Ok(text) => {
            print!("{text}");
            EXIT_PASSED
        }
        Err(SetupError(msg)) => {
            eprintln!("xauth-conformance: error: {msg}");
            EXIT_SETUP
        }
    }
}

async fn list_inner(args: &ListArgs) -> Result<String, SetupError> {
    use std::fmt::Write as _;
    let profile = match &args.profile {
        Some(p) => Profile::load(p)?,
        None => Profile::default(),
    };
    let tag_filter = args.tags.as_deref().map(plan::parse_tags).transpose()?;
    let features = feature_files::resolve(args.features.as_deref())?;
    let requirements = Requirements {
        profile,
        issuer_has_secret: true,
        loopback: true,
        slow: args.slow,
        strict: args.strict,
        profile_given: args.profile.is_some(),
    };
    let plan = Plan::make(features.dir(), tag_filter.as_ref(), &requirements).await?;
    let mut rows: Vec<(String, String, usize, usize)> = Vec::new();
    for p in &plan.scenarios {
        if p.decision == Decision::Deselected {
            continue;
        }
        if rows.last().is_none_or(|r| r.0 != p.feature_file) {
            rows.push((p.feature_file.clone(), p.feature_name.clone(), 0, 0));
        }
        if let Some(r) = rows.last_mut() {
            match p.decision {
                Decision::Run => r.2 += 1,
                _ => r.3 += 1,
            }
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| feature file | feature | scenarios | skipped by the profile |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|");
    for (file, name, run, skip) in &rows {
        let _ = writeln!(out, "| `{file}` | {name} | {run} | {skip} |");
    }
    let run: usize = rows.iter().map(|r| r.2).sum();
    let skip: usize = rows.iter().map(|r| r.3).sum();
    let _ = writeln!(out, "| **total** | | **{run}** | **{skip}** |");
    if args.scenarios {
        for p in plan
            .scenarios
            .iter()
            .filter(|p| p.decision != Decision::Deselected)
        {
            let note = match &p.decision {
                Decision::Skip(r) => format!("  ({r})"),
                _ => String::new(),
            };
            let _ = writeln!(out, "{}:{}: {}{note}", p.feature_file, p.key.line, p.name);
        }
    }
    Ok(out)
}
