//! `xauth-conformance run`: setup (profile, expected failures, features, issuer, plan,
//! implementation), the cucumber phase, the post phases, reports, teardown.
//!
//! Every setup error is reported as one line on stderr before any scenario runs, with exit
//! status 2. The spawned implementation is stopped on every path: normal end, setup error,
//! Ctrl-C/SIGTERM (exit 130) and panic (its `Drop` kills the process group).
//!
//! # Room for the stateful families (issue 6)
//! - **Post phases** ([`PostPhase`]): after the scenarios, the runner runs each registered
//!   phase (the proptest properties will be one) with the same [`RunContext`]; a phase
//!   returns [`FeatureReport`]s that join the report, the summary and the exit code like
//!   scenarios do.
//! - **Mutation gate**: `cargo xtask mutants` runs this binary once per seeded defect
//!   (`--spawn 'xauth-reference --defect NAME' --json FILE`) and reads the JSON reports
//!   (`report::json`): a defect is caught by the scenarios whose status is `failed`. One process
//!   per run keeps the process-global [`context`] simple and every run
//!   isolated (fresh issuer state, fresh implementation).

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cucumber::World;
use futures::future::LocalBoxFuture;

use crate::cli::RunArgs;
use crate::context::{self, RunContext, Timeouts};
use crate::deadline::{Deadlines, ScenarioBound};
use crate::expect_fail::ExpectFail;
use crate::feature_files;
use crate::issuer_boot::{self, RunningIssuer};
use crate::plan::{self, Decision, Plan, Requirements, ScenarioKey};
use crate::profile::Profile;
use crate::report::{self, FeatureReport, RunMeta, RunReport, collect};
use crate::severity::Severity;
use crate::spawn::{self, Spawned};
use cucumber::gherkin::tagexpr::TagOperation;

/// Exit status: every scenario passed (or failed as expected).
pub const EXIT_PASSED: i32 = 0;
/// Exit status: a scenario failed.
pub const EXIT_FAILED: i32 = 1;
/// Exit status: usage or setup error.
pub const EXIT_SETUP: i32 = 2;
/// Exit status: interrupted by SIGINT/SIGTERM.
pub const EXIT_INTERRUPTED: i32 = 130;

/// A phase run after the scenarios against the same target (e.g. proptest properties).
pub trait PostPhase {
    /// Its name in logs.
    fn name(&self) -> &str;
    /// Runs it; each returned feature joins the report.
    fn run<'a>(&'a self, ctx: &'a RunContext) -> LocalBoxFuture<'a, Vec<FeatureReport>>;
    /// Whether the run's `--tags` expression selects anything of this phase (so that
    /// `--tags '@properties'` is a valid selection even though it names no scenario).
    fn selected_by(&self, _tags: &TagOperation) -> bool {
        false
    }
    /// The severity of this phase's scenarios that carry no severity tag; the runner adds it
    /// to their tags. Default critical: the properties find mutated or forged tokens that
    /// must never be accepted.
    fn severity(&self) -> Severity {
        Severity::Critical
    }
}

/// A setup error: one line, exit 2.
#[derive(Debug)]
pub struct SetupError(pub String);

impl<E: std::fmt::Display> From<E> for SetupError {
    fn from(e: E) -> Self {
        SetupError(e.to_string())
    }
}

/// Runs the suite with the World `W` (the scenario steps) and returns the exit status.
pub async fn run<W>(args: &RunArgs, post: &[Box<dyn PostPhase>]) -> i32
where
    W: World + ScenarioBound + cucumber::codegen::WorldInventory + std::fmt::Debug,
{
    let mut resources = Resources::default();
    // Registered before anything starts, so a signal at any point stops the implementation.
    let signals = Signals::register();
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
    spawned: Option<Spawned>,
    issuer: Option<RunningIssuer>,
}

impl Resources {
    async fn teardown(&mut self, grace: Duration) {
        if let Some(s) = self.spawned.take() {
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

/// SIGINT and SIGTERM, registered at once (a signal that arrives before [`Signals::recv`]
/// is polled is kept, not lost to the default action).
struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn register() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self {
                term: signal(SignalKind::terminate()).ok(),
                int: signal(SignalKind::interrupt()).ok(),
            }
        }
        #[cfg(not(unix))]
        {
            Self {}
        }
    }

    async fn recv(mut self) {
        #[cfg(unix)]
        {
            let term = async {
                match self.term.as_mut() {
                    Some(t) => {
                        t.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let int = async {
                match self.int.as_mut() {
                    Some(i) => {
                        i.recv().await;
                    }
                    None => {
                        let _ = tokio::signal::ctrl_c().await;
                    }
                }
            };
            tokio::select! {
                _ = term => {},
                _ = int => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

async fn run_inner<W>(
    args: &RunArgs,
    post: &[Box<dyn PostPhase>],
    res: &mut Resources,
) -> Result<i32, SetupError>
where
    W: World + ScenarioBound + cucumber::codegen::WorldInventory + std::fmt::Debug,
{
    // 1. Everything that needs no network.
    let profile = match &args.profile {
        Some(p) => Profile::load(p)?,
        None => Profile::default(),
    };
    let expect_fail = Arc::new(match &args.expect_fail {
        Some(p) => ExpectFail::load(p)?,
        None => ExpectFail::default(),
    });
    let tag_filter = args.tags.as_deref().map(plan::parse_tags).transpose()?;
    let features = feature_files::resolve(args.features.as_deref())?;
    if args.target.is_none() && args.spawn.is_none() {
        return Err(SetupError(
            "nothing to test: give --target URL (a running implementation) or --spawn 'CMD'".into(),
        ));
    }
    if let Some(cmd) = &args.spawn {
        spawn::split_command(cmd)?;
    }
    for (flag, path) in [
        ("--junit", &args.junit),
        ("--json", &args.json),
        ("--sarif", &args.sarif),
        ("--html", &args.html),
    ] {
        if let Some(path) = path {
            // Fail now, not after the run: open (creating, not truncating) for writing.
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| SetupError(format!("{flag} {}: {e}", path.display())))?;
        }
    }
    if let Some(t) = &args.target
        && !matches!(t.scheme(), "http" | "https")
    {
        return Err(SetupError(format!(
            "--target {t}: only http and https URLs"
        )));
    }

    // 2. The issuer.
    let issuer = match (&args.issuer, &args.control_key) {
        (Some(url), Some(key)) => issuer_boot::attach(url, key, args.request_timeout).await?,
        (Some(_), None) => return Err(SetupError("--issuer needs --control-key".into())),
        _ => issuer_boot::start_in_process(args.issuer_addr(), args.issuer_jwks_max_age).await?,
    };
    let endpoint = issuer.endpoint().clone();
    let issuer_in_process = issuer.in_process();
    res.issuer = Some(issuer);

    // 3. The plan (feature files parsed, requirements checked) before the implementation runs.
    let on_loopback = match (&args.spawn, &args.target) {
        (Some(_), _) => true,
        (None, Some(t)) => is_loopback(t),
        (None, None) => false,
    };
    // Each scenario sends from its own 127.0.x.y address (per-IP limits must not leak between
    // scenarios); that needs an IPv4 loopback target and a system that routes all of 127/8
    // (Linux does; macOS only has 127.0.0.1 unless aliases are added).
    let ipv4_target = args.spawn.is_some() || args.target.as_ref().is_some_and(is_ipv4_loopback);
    let loopback = on_loopback && ipv4_target && distinct_loopback_sources_available();
    if on_loopback && !loopback {
        eprintln!(
            "xauth-conformance: warning: scenarios cannot each send from their own 127.0.x.y \
             address here ({}): the @needs-loopback scenarios are skipped, and every scenario \
             shares one client address, so a per-IP rate limit sees the whole run (raise it or \
             declare rate_limit.ip.enabled = false for this run)",
            if ipv4_target {
                "this system does not route 127.0.1.1; on macOS add loopback aliases"
            } else {
                "the target is not an IPv4 loopback address"
            }
        );
    }
    if !on_loopback && is_loopback(&endpoint.base_url) {
        eprintln!(
            "xauth-conformance: warning: the target {} is not on this machine but the issuer is \
             at {}: the target cannot fetch its JWKS unless it runs here too (point --issuer at \
             an issuer the target can reach)",
            args.target.as_ref().map_or("", |t| t.as_str()),
            endpoint.base_url
        );
    }
    let requirements = Requirements {
        profile: profile.clone(),
        issuer_has_secret: endpoint.jwt_secret.is_some(),
        loopback,
        slow: args.slow,
        strict: args.strict,
        profile_given: args.profile.is_some(),
    };
    let plan = Arc::new(Plan::make(features.dir(), tag_filter.as_ref(), &requirements).await?);
    let to_run = plan
        .scenarios
        .iter()
        .filter(|p| p.decision == Decision::Run)
        .count();
    if let Some(filter) = &tag_filter
        && plan
            .scenarios
            .iter()
            .all(|p| p.decision == Decision::Deselected)
        && !post.iter().any(|phase| phase.selected_by(filter))
    {
        return Err(SetupError(format!(
            "--tags {:?} selects no scenario",
            args.tags.as_deref().unwrap_or("")
        )));
    }

    // 4. The implementation.
    let readiness_probe_timeout = args.request_timeout.min(Duration::from_secs(2));
    let target = match &args.spawn {
        Some(cmd) => {
            let port = spawn::free_port()?;
            let log_dir = match &args.log_dir {
                Some(d) => {
                    std::fs::create_dir_all(d)
                        .map_err(|e| SetupError(format!("--log-dir {}: {e}", d.display())))?;
                    d.clone()
                }
                None => tempfile::Builder::new()
                    .prefix("xauth-conformance-")
                    .tempdir()
                    .map_err(|e| SetupError(format!("cannot create a log directory: {e}")))?
                    .keep(),
            };
            let log = log_dir.join("implementation.log");
            let mut env = vec![
                (
                    "SUPABASE_URL",
                    endpoint.base_url.as_str().trim_end_matches('/').to_owned(),
                ),
                ("PORT", port.to_string()),
            ];
            let mut remove = Vec::new();
            match (&endpoint.jwt_secret, profile.legacy_hs256) {
                (Some(secret), true) => env.push(("SUPABASE_JWT_SECRET", secret.clone())),
                _ => remove.push("SUPABASE_JWT_SECRET"),
            }
            if !args.quiet {
                println!("implementation log: {}", log.display());
            }
            let spawned = res
                .spawned
                .insert(Spawned::start(cmd, &env, &remove, port, &log)?);
            let target: url::Url = format!("http://127.0.0.1:{port}/")
                .parse()
                .map_err(|e| SetupError(format!("{e}")))?;
            let ready = join(&target, profile.routes.readiness.as_str());
            spawned
                .wait_ready(&ready, args.ready_timeout, readiness_probe_timeout)
                .await?;
            target
        }
        None => {
            let target = args
                .target
                .clone()
                .ok_or_else(|| SetupError("no --target".into()))?;
            check_reachable(
                &join(&target, profile.routes.readiness.as_str()),
                args.request_timeout,
            )
            .await?;
            target
        }
    };

    // 5. The context the steps read.
    let deadlines = Deadlines::default();
    let ctx = context::install(RunContext {
        target: target.clone(),
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
        println!(
            "xauth-conformance {}: {} scenarios to run ({} skipped) from {} feature files ({}) against {}; issuer {}",
            env!("CARGO_PKG_VERSION"),
            to_run,
            plan.scenarios
                .iter()
                .filter(|p| matches!(p.decision, Decision::Skip(_)))
                .count(),
            plan.scenarios
                .iter()
                .filter(|p| p.decision != Decision::Deselected)
                .map(|p| &p.key.file)
                .collect::<HashSet<_>>()
                .len(),
            features.origin(),
            target,
            endpoint.base_url,
        );
    }

    // 6. The scenarios.
    let started_at = chrono::Utc::now();
    let start = Instant::now();
    let fail_on = args.fail_on();
    let collector =
        collect::Collector::new(plan.clone(), expect_fail.clone(), !args.quiet, fail_on);
    let live = collector.live();
    let run_keys: HashSet<ScenarioKey> = plan
        .scenarios
        .iter()
        .filter(|p| p.decision == Decision::Run)
        .map(|p| p.key.clone())
        .collect();
    let cucumber = W::cucumber::<PathBuf>()
        .max_concurrent_scenarios(args.concurrency.get())
        .given(selftest::pass_re(), selftest::pass::<W>)
        .when(selftest::pass_re(), selftest::pass::<W>)
        .then(selftest::pass_re(), selftest::pass::<W>)
        .given(selftest::fail_re(), selftest::fail::<W>)
        .when(selftest::fail_re(), selftest::fail::<W>)
        .then(selftest::fail_re(), selftest::fail::<W>)
        .given(selftest::sleep_re(), selftest::sleep::<W>)
        .when(selftest::sleep_re(), selftest::sleep::<W>)
        .then(selftest::sleep_re(), selftest::sleep::<W>)
        .then(selftest::observes_re(), selftest::observes::<W>)
        .given(selftest::suite_error_re(), selftest::suite_error::<W>)
        .then(selftest::suite_error_re(), selftest::suite_error::<W>)
        .before(|feature, _rule, scenario, world| {
            world.bind_scenario(ScenarioKey::of(feature, scenario));
            Box::pin(async {})
        })
        .with_writer(collector)
        .with_default_cli();
    let scenarios = cucumber.filter_run(features.dir().to_owned(), move |f, _, s| {
        run_keys.contains(&ScenarioKey::of(f, s))
    });
    let stall = Duration::from_secs(2);
    let overrides = plan
        .scenarios
        .iter()
        .filter_map(|p| p.timeout.map(|t| (p.key.clone(), t)))
        .collect();
    let aborted = if to_run == 0 {
        None
    } else {
        tokio::select! {
            _ = scenarios => None,
            why = collect::watchdog(live.clone(), args.scenario_timeout, overrides, deadlines, stall) => Some(why),
        }
    };

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
        features_origin: features.origin().to_owned(),
        expect_fail_file: args.expect_fail.as_ref().map(|p| p.display().to_string()),
        strict_expect_fail: args.strict_expect_fail,
        fail_on,
    };
    let mut report = collect::assemble(&live, &plan, &expect_fail, meta, aborted);
    report.features.extend(extra);
    finish_report(&report, args)
}

/// `xauth-conformance list`: the scenario count by feature (a Markdown table), optionally
/// every scenario; returns the exit status.
pub async fn list(args: &crate::cli::ListArgs) -> i32 {
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

async fn list_inner(args: &crate::cli::ListArgs) -> Result<String, SetupError> {
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

fn finish_report(report: &RunReport, args: &RunArgs) -> Result<i32, SetupError> {
    if args.quiet {
        println!("{}", report.closing_line());
    } else {
        print!("{}", report::terminal::render(report));
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, report::junit::render(report))
            .map_err(|e| SetupError(format!("--junit {}: {e}", path.display())))?;
    }
    if let Some(path) = &args.json {
        std::fs::write(path, report::json::render(report))
            .map_err(|e| SetupError(format!("--json {}: {e}", path.display())))?;
    }
    if let Some(path) = &args.sarif {
        std::fs::write(path, report::sarif::render(report))
            .map_err(|e| SetupError(format!("--sarif {}: {e}", path.display())))?;
    }
    if let Some(path) = &args.html {
        std::fs::write(path, report::html::render(report))
            .map_err(|e| SetupError(format!("--html {}: {e}", path.display())))?;
    }
    Ok(report.exit_code())
}

/// Whether a URL's host is a loopback address (or `localhost`).
pub fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Whether a URL's host is an IPv4 loopback address or `localhost`.
fn is_ipv4_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        _ => false,
    }
}

/// Whether this system lets a socket bind 127.0.x.y addresses other than 127.0.0.1.
pub fn distinct_loopback_sources_available() -> bool {
    std::net::TcpListener::bind((std::net::Ipv4Addr::new(127, 0, 1, 1), 0)).is_ok()
}

fn join(base: &url::Url, path: &str) -> url::Url {
    let mut u = base.clone();
    u.set_path(&format!("{}{}", base.path().trim_end_matches('/'), path));
    u
}

async fn check_reachable(url: &url::Url, timeout: Duration) -> Result<(), SetupError> {
    let client = crate::http::client_builder_for(url)
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()?;
    match client.get(url.clone()).send().await {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(SetupError(format!(
            "target readiness probe {url} answered {} (expected 2xx; see routes.readiness in the profile)",
            r.status()
        ))),
        Err(e) => Err(SetupError(format!(
            "target unreachable: {url}: {}",
            spawn::describe_reqwest(&e)
        ))),
    }
}

/// Steps every World gets from the runner, for the runner's own tests:
/// `the runner self-test passes`, `the runner self-test fails with "MESSAGE"` (a text panic),
/// `the runner self-test sleeps for N ms`, `the runner self-test observes STATUS [with code
/// CODE] [and body "BODY"]` (a typed verdict: 401 UNAUTHENTICATED was expected) and `the
/// runner self-test has a suite error "MESSAGE"` (a typed suite error).
pub mod selftest {
    use cucumber::step::Context;
    use futures::future::LocalBoxFuture;
    use regex::Regex;

    use crate::failure::{Observed, StepFailure, json_shape, shape};

    fn re(s: &str) -> Regex {
        match Regex::new(s) {
            Ok(r) => r,
            Err(e) => panic!("self-test step regex {s:?}: {e}"),
        }
    }
    pub(crate) fn pass_re() -> Regex {
        re(r"^the runner self-test passes$")
    }
    pub(crate) fn fail_re() -> Regex {
        re(r#"^the runner self-test fails with "(.*)"$"#)
    }
    pub(crate) fn sleep_re() -> Regex {
        re(r"^the runner self-test sleeps for (\d{1,7}) ms$")
    }
    pub(crate) fn observes_re() -> Regex {
        re(r#"^the runner self-test observes (\d{3})(?: with code (\S+))?(?: and body "(.*)")?$"#)
    }
    pub(crate) fn suite_error_re() -> Regex {
        re(r#"^the runner self-test has a suite error "(.*)"$"#)
    }
    /// The expectation of the `observes` step.
    pub const OBSERVES_EXPECTATION: &str = "401 with error code UNAUTHENTICATED (runner self-test)";
    /// Fails as a verdict: 401 UNAUTHENTICATED was expected, the given answer observed.
    pub fn observes<W>(_: &mut W, ctx: Context) -> LocalBoxFuture<'_, ()> {
        let group = |i: usize| ctx.matches.get(i).map(|m| m.1.clone()).unwrap_or_default();
        let status: u16 = group(1).parse().unwrap_or(0);
        let code = Some(group(2)).filter(|c| !c.is_empty());
        let body = group(3);
        Box::pin(async move {
            let body_shape = match serde_json::from_str(&body) {
                Ok(v) => json_shape(&v),
                Err(_) => shape(&body, 160),
            };
            let message = format!(
                "expected: {OBSERVES_EXPECTATION}\nresponse: {status}\n  body: {body}\nreproduce: curl -sS -i http://127.0.0.1:1/api/content"
            );
            StepFailure::verdict(
                OBSERVES_EXPECTATION,
                message,
                Some(Observed {
                    status: Some(status),
                    code,
                    body_shape,
                }),
            )
            .raise()
        })
    }
    /// Fails as a suite error.
    pub fn suite_error<W>(_: &mut W, ctx: Context) -> LocalBoxFuture<'_, ()> {
        let msg = ctx.matches.get(1).map(|m| m.1.clone()).unwrap_or_default();
        Box::pin(async move {
            StepFailure::suite_error(format!("suite error (not a verdict on the target): {msg}"))
                .raise()
        })
    }
    /// Passes.
    pub fn pass<W>(_: &mut W, _: Context) -> LocalBoxFuture<'_, ()> {
        Box::pin(async {})
    }
    /// Panics with the quoted message.
    pub fn fail<W>(_: &mut W, ctx: Context) -> LocalBoxFuture<'_, ()> {
        let msg = ctx.matches.get(1).map(|m| m.1.clone()).unwrap_or_default();
        Box::pin(async move { panic!("{msg}") })
    }
    /// Sleeps.
    pub fn sleep<W>(_: &mut W, ctx: Context) -> LocalBoxFuture<'_, ()> {
        let ms: u64 = ctx
            .matches
            .get(1)
            .and_then(|m| m.1.parse().ok())
            .unwrap_or(0);
        Box::pin(async move { tokio::time::sleep(std::time::Duration::from_millis(ms)).await })
    }
}

/// The World used when no scenario steps are linked in: it knows only the self-test steps.
#[derive(Debug, Default, cucumber::World)]
pub struct RunnerWorld;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        let u = |s: &str| s.parse::<url::Url>().unwrap();
        assert!(is_loopback(&u("http://127.0.0.1:1/")));
        assert!(is_loopback(&u("http://[::1]:1/")));
        assert!(is_loopback(&u("http://LOCALHOST:1/")));
        assert!(!is_loopback(&u("http://10.0.0.1:1/")));
        assert!(is_ipv4_loopback(&u("http://127.0.0.9:1/")));
        assert!(is_ipv4_loopback(&u("http://localhost:1/")));
        assert!(!is_ipv4_loopback(&u("http://[::1]:1/")));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn linux_routes_all_of_127_8() {
        assert!(distinct_loopback_sources_available());
    }
}
