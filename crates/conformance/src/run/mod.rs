//! `xauth-conformance run`: setup (`setup`: profile, expected failures, features, issuer,
//! plan, implementation), the cucumber phase (`scenarios`: a before-hook tells each World its
//! scenario; an after-hook calls [`crate::hooks::SharedState::restore_shared_state`] after
//! every `@serial` scenario, however it ended), the post phases, reports,
//! teardown. `xauth-conformance list` is [`list`]; the steps the runner's own tests use are
//! [`selftest`]; SIGINT/SIGTERM handling is `signals`; the exit statuses, [`SetupError`] and
//! [`PostPhase`] are in `phase` (so the parts never import this file).
//!
//! Every setup error is reported as one line on stderr before any scenario runs, with exit
//! status 2. The spawned implementation is stopped on every path: normal end, setup error,
//! Ctrl-C/SIGTERM (exit 130) and panic (its `Drop` kills the process group).
//!
//! - **Post phases** ([`PostPhase`]): after the scenarios, the runner runs each registered
//!   phase (the proptest properties) with the same [`RunContext`]; a phase returns
//!   [`FeatureReport`](crate::report::FeatureReport)s that join the report, the summary and
//!   the exit code like scenarios do.
//! - **The mutation gate** (`crate::gate`) runs this binary once per seeded defect and reads
//!   the JSON reports (`report::schema`). One process per run keeps the process-global
//!   [`crate::context`] simple and every run isolated (fresh issuer state, fresh
//!   implementation).

mod list;
mod phase;
mod scenarios;
pub mod selftest;
mod setup;
mod signals;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::cli::RunArgs;
use crate::context::{self, RunContext, Timeouts};
use crate::deadline::Deadlines;
use crate::issuer_boot::RunningIssuer;
use crate::plan::{Decision, Requirements};
use crate::report::{self, RunMeta, RunReport, collect};
use crate::severity::Severity;
use crate::spawn::Spawned;

pub use list::list;
pub use phase::{EXIT_FAILED, EXIT_INTERRUPTED, EXIT_PASSED, EXIT_SETUP, PostPhase, SetupError};
pub use scenarios::{SuiteWorld, finished_failed, is_serial};
pub use setup::{distinct_loopback_sources_available, is_loopback};

/// Runs the suite with the World `W` (the scenario steps) and returns the exit status.
pub async fn run<W: SuiteWorld>(args: &RunArgs, post: &[Box<dyn PostPhase>]) -> i32 {
    let mut resources = Resources::default();
    // Registered before anything starts, so a signal at any point stops the implementation.
    let signals = signals::Signals::register();
    let outcome = {
        let fut = run_inner::<W>(args, post, &mut resources);
        tokio::select! {
            r = fut => Some(r),
            _ = signals.recv() => None,
        }
    };
    let code = match outcome {
        Some(Ok(code)) => code,
        Some(Err(SetupError(msg))) => {
            eprintln!("xauth-conformance: error: {msg}");
            EXIT_SETUP
        }
        None => {
            eprintln!("xauth-conformance: interrupted; stopping the implementation");
            EXIT_INTERRUPTED
        }
    };
    resources.teardown(args.stop_grace).await;
    code
}

/// What must be stopped at the end, whatever happens.
#[derive(Default)]
struct Resources {
    spawned: Vec<Spawned>,
    issuer: Option<RunningIssuer>,
}

impl Resources {
    async fn teardown(&mut self, grace: Duration) {
        for s in self.spawned.drain(..) {
            s.stop(grace).await;
        }
        if let Some(i) = self.issuer.take() {
            // Bounded: a client that keeps a connection open must not hold the run.
            if tokio::time::timeout(Duration::from_secs(5), i.shutdown())
                .await
                .is_err()
            {
                tracing::warn!("the issuer did not shut down within 5 s");
            }
        }
    }
}

async fn run_inner<W: SuiteWorld>(
    args: &RunArgs,
    post: &[Box<dyn PostPhase>],
    res: &mut Resources,
) -> Result<i32, SetupError> {
    // 1. Everything that needs no network.
    let offline = setup::offline(args)?;
    let profile = &offline.profile;

    // 2. The issuer.
    let issuer = setup::issuer(args).await?;
    let endpoint = issuer.endpoint().clone();
    let issuer_in_process = issuer.in_process();
    res.issuer = Some(issuer);

    // 3. The plan (feature files parsed, requirements checked) before the implementation runs.
    let loopback = setup::network(args, &endpoint.base_url);
    let requirements = Requirements {
        profile: profile.clone(),
        issuer_has_secret: endpoint.jwt_secret.is_some(),
        loopback,
        slow: args.slow,
        strict: args.strict,
        profile_given: args.profile.is_some(),
    };
    let plan = std::sync::Arc::new(setup::plan(args, &offline, &requirements, post).await?);

    // 4. The implementation.
    // 4a. The canary upstream an MCP server must never pass a client's token to.
    let canary = if profile.mcp.enabled {
        let c = crate::net::canary::Canary::start(args.canary_addr)
            .await
            .map_err(|e| {
                SetupError(format!(
                    "cannot start the canary upstream on {}: {e} (--canary-addr)",
                    args.canary_addr
                ))
            })?;
        if !args.quiet && args.spawn.is_none() {
            println!(
                "canary upstream: {} (start your MCP server with MCP_UPSTREAM_URL set to it)",
                c.url()
            );
        }
        Some(std::sync::Arc::new(c))
    } else {
        None
    };
    let instances = setup::target(
        args,
        profile,
        &endpoint,
        canary.as_ref().map(|c| c.url()),
        &mut res.spawned,
    )
    .await?;
    let target = instances.target;

    // 5. The context the steps read.
    let deadlines = Deadlines::default();
    let ctx = context::install(RunContext {
        target: target.clone(),
        replicas: instances.replicas.clone(),
        canary,
        profile: profile.clone(),
        issuer: endpoint.clone(),
        timeouts: Timeouts {
            request: args.request_timeout,
            scenario: args.scenario_timeout,
        },
        loopback_sources: loopback,
        deadlines: deadlines.clone(),
    })
    .map_err(|e| SetupError(e.to_string()))?;

    if !args.quiet {
        let count =
            |d: fn(&Decision) -> bool| plan.scenarios.iter().filter(|p| d(&p.decision)).count();
        println!(
            "xauth-conformance {}: {} scenarios to run ({} skipped) from {} feature files ({}) against {}{}; issuer {}",
            env!("CARGO_PKG_VERSION"),
            count(|d| *d == Decision::Run),
            count(|d| matches!(d, Decision::Skip(_))),
            plan.scenarios
                .iter()
                .filter(|p| p.decision != Decision::Deselected)
                .map(|p| &p.key.file)
                .collect::<HashSet<_>>()
                .len(),
            offline.features.origin(),
            target,
            if instances.replicas.is_empty() {
                String::new()
            } else {
                format!(
                    " and {} replica(s) ({})",
                    instances.replicas.len(),
                    instances
                        .replicas
                        .iter()
                        .map(url::Url::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            endpoint.base_url,
        );
    }

    // 6. The scenarios.
    let started_at = chrono::Utc::now();
    let start = Instant::now();
    let fail_on = args.fail_on();
    let (live, aborted) = scenarios::run::<W>(
        args,
        &plan,
        offline.features.dir(),
        &offline.expect_fail,
        fail_on,
        deadlines,
    )
    .await;

    // 7. Post phases (properties, …).
    let mut extra = Vec::new();
    for phase in post {
        tracing::info!(phase = phase.name(), "post phase");
        let mut features = phase.run(&ctx).await;
        let severity = phase.severity().as_str();
        for s in features.iter_mut().flat_map(|f| f.scenarios.iter_mut()) {
            if !Severity::tagged(&s.tags) {
                s.tags.push(severity.to_owned());
            }
        }
        extra.extend(features);
    }

    // 8. Reports.
    let meta = RunMeta {
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        started_at: started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        duration: start.elapsed(),
        target: target.to_string(),
        spawn: args.spawn.clone(),
        profile_file: args.profile.as_ref().map(|p| p.display().to_string()),
        profile_name: profile.name.clone(),
        issuer: endpoint.base_url.to_string(),
        issuer_in_process,
        tags: args.tags.clone(),
        features_origin: offline.features.origin().to_owned(),
        expect_fail_file: args.expect_fail.as_ref().map(|p| p.display().to_string()),
        strict_expect_fail: args.strict_expect_fail,
        fail_on,
    };
    let mut report = collect::assemble(&live, &plan, &offline.expect_fail, meta, aborted);
    report.features.extend(extra);
    finish_report(&report, args)
}

/// One report format: the report as file contents.
type Renderer = fn(&RunReport) -> String;

/// Prints the report (the closing line only with `--quiet`) and writes the requested files;
/// returns the exit status.
fn finish_report(report: &RunReport, args: &RunArgs) -> Result<i32, SetupError> {
    if args.quiet {
        println!("{}", report.closing_line());
    } else {
        print!("{}", report::terminal::render(report));
    }
    let writers: [(&str, &Option<std::path::PathBuf>, Renderer); 4] = [
        ("--junit", &args.junit, report::junit::render),
        ("--json", &args.json, report::json::render),
        ("--sarif", &args.sarif, report::sarif::render),
        ("--html", &args.html, report::html::render),
    ];
    for (flag, path, render) in writers {
        if let Some(path) = path {
            std::fs::write(path, render(report))
                .map_err(|e| SetupError(format!("{flag} {}: {e}", path.display())))?;
        }
    }
    Ok(report.exit_code())
}

/// The World used when no scenario steps are linked in: it knows only the self-test steps.
#[derive(Debug, Default, cucumber::World)]
pub struct RunnerWorld;

impl crate::hooks::SharedState for RunnerWorld {}

impl crate::deadline::ScenarioBound for RunnerWorld {
    fn bind_scenario(&mut self, _key: crate::plan::ScenarioKey) {}
}
