//! The setup steps of a run, in order: what needs no network ([`Offline`]), the issuer
//! ([`issuer`]), where scenarios may send from ([`network`]), the plan, and the implementation
//! ([`target`]). Each returns a [`SetupError`] (one line, exit 2) before any scenario runs.

use std::sync::Arc;
use std::time::Duration;

use crate::cli::RunArgs;
use crate::expect_fail::ExpectFail;
use crate::feature_files::{self, FeatureSource};
use crate::issuer_boot::{self, RunningIssuer};
use crate::net::urls::join;
use crate::plan::{self, Decision, Plan, Requirements};
use crate::profile::Profile;
use crate::spawn::{self, Spawned};
use cucumber::gherkin::tagexpr::TagOperation;

use super::phase::{PostPhase, SetupError};

/// What the run needs that is read or checked without the network.
pub(crate) struct Offline {
    pub(crate) profile: Profile,
    pub(crate) expect_fail: Arc<ExpectFail>,
    pub(crate) tag_filter: Option<TagOperation>,
    pub(crate) features: FeatureSource,
}

/// Reads the profile, the expected failures, the tag expression and the feature files, and
/// checks the flags that can be checked now (report files writable, a target URL's scheme).
pub(crate) fn offline(args: &RunArgs) -> Result<Offline, SetupError> {
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
    if !args.replicas.is_empty() && args.target.is_none() {
        return Err(SetupError(
            "--replica names another instance of a --target; with --spawn, use --spawn-replicas N"
                .into(),
        ));
    }
    if args.spawn_replicas.is_some() && args.spawn.is_none() {
        return Err(SetupError(
            "--spawn-replicas starts copies of --spawn; with --target, name the others with --replica URL".into(),
        ));
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
    Ok(Offline {
        profile,
        expect_fail,
        tag_filter,
        features,
    })
}

/// Attaches to `--issuer` or starts the issuer in this process.
pub(crate) async fn issuer(args: &RunArgs) -> Result<RunningIssuer, SetupError> {
    Ok(match (&args.issuer, &args.control_key) {
        (Some(url), Some(key)) => issuer_boot::attach(url, key, args.request_timeout).await?,
        (Some(_), None) => return Err(SetupError("--issuer needs --control-key".into())),
        _ => issuer_boot::start_in_process(args.issuer_addr(), args.issuer_jwks_max_age).await?,
    })
}

/// Whether each scenario may send from its own 127.0.x.y address; warns when the target is on
/// this machine but that is impossible, and when the target cannot reach a loopback issuer.
pub(crate) fn network(args: &RunArgs, issuer_base: &url::Url) -> bool {
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
    if !on_loopback && is_loopback(issuer_base) {
        eprintln!(
            "xauth-conformance: warning: the target {} is not on this machine but the issuer is \
             at {}: the target cannot fetch its JWKS unless it runs here too (point --issuer at \
             an issuer the target can reach)",
            args.target.as_ref().map_or("", |t| t.as_str()),
            issuer_base
        );
    }
    loopback
}

/// Plans every scenario; a `--tags` expression that selects nothing (no scenario, no post
/// phase) is a setup error.
pub(crate) async fn plan(
    args: &RunArgs,
    offline: &Offline,
    requirements: &Requirements,
    post: &[Box<dyn PostPhase>],
) -> Result<Plan, SetupError> {
    let tag_filter = offline.tag_filter.as_ref();
    let plan = Plan::make(offline.features.dir(), tag_filter, requirements).await?;
    if let Some(filter) = tag_filter
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
    Ok(plan)
}

/// Where the implementation answers: the target and its replicas (the target first).
pub(crate) struct Instances {
    pub(crate) target: url::Url,
    pub(crate) replicas: Vec<url::Url>,
}

/// The implementation: spawned (into `spawned`, so the caller stops it whatever happens, once
/// per `--spawn-replicas`) and waited for, or `--target` and every `--replica` probed.
pub(crate) async fn target(
    args: &RunArgs,
    profile: &Profile,
    issuer: &crate::context::IssuerEndpoint,
    mcp_upstream: Option<String>,
    spawned: &mut Vec<Spawned>,
) -> Result<Instances, SetupError> {
    let readiness_probe_timeout = args.request_timeout.min(Duration::from_secs(2));
    let Some(cmd) = &args.spawn else {
        let target = args
            .target
            .clone()
            .ok_or_else(|| SetupError("no --target".into()))?;
        for url in std::iter::once(&target).chain(&args.replicas) {
            if !matches!(url.scheme(), "http" | "https") {
                return Err(SetupError(format!("{url}: only http and https URLs")));
            }
            check_reachable(
                &join(url, profile.routes.readiness.as_str()),
                args.request_timeout,
            )
            .await?;
        }
        return Ok(Instances {
            target,
            replicas: args.replicas.clone(),
        });
    };
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
    let mut env = vec![(
        "SUPABASE_URL",
        issuer.base_url.as_str().trim_end_matches('/').to_owned(),
    )];
    let mut remove = Vec::new();
    match (&issuer.jwt_secret, profile.legacy_hs256) {
        (Some(secret), true) => env.push(("SUPABASE_JWT_SECRET", secret.clone())),
        _ => remove.push("SUPABASE_JWT_SECRET"),
    }
    if let Some(url) = mcp_upstream {
        // The canary upstream an MCP server's upstream tool calls: it must never see the
        // client's token.
        env.push(("MCP_UPSTREAM_URL", url));
    }
    if profile.pat.enabled {
        // The owner of a PAT is checked at the auth server's admin API, which needs it.
        env.push(("SUPABASE_SERVICE_ROLE_KEY", issuer.service_role_key.clone()));
    } else {
        remove.push("SUPABASE_SERVICE_ROLE_KEY");
    }
    let copies = args.spawn_replicas.unwrap_or(1);
    let mut urls = Vec::with_capacity(usize::from(copies));
    for n in 1..=copies {
        let port = spawn::free_port()?;
        let log = log_dir.join(if n == 1 {
            "implementation.log".to_owned()
        } else {
            format!("implementation-{n}.log")
        });
        if !args.quiet {
            println!("implementation log: {}", log.display());
        }
        let mut env = env.clone();
        env.push(("PORT", port.to_string()));
        spawned.push(Spawned::start(cmd, &env, &remove, port, &log)?);
        let url: url::Url = format!("http://127.0.0.1:{port}/")
            .parse()
            .map_err(|e| SetupError(format!("{e}")))?;
        urls.push(url);
    }
    for (instance, url) in spawned.iter_mut().zip(&urls) {
        let ready = join(url, profile.routes.readiness.as_str());
        instance
            .wait_ready(&ready, args.ready_timeout, readiness_probe_timeout)
            .await?;
    }
    let mut urls = urls.into_iter();
    let target = urls
        .next()
        .ok_or_else(|| SetupError("no implementation was started".into()))?;
    Ok(Instances {
        target,
        replicas: urls.collect(),
    })
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

async fn check_reachable(url: &url::Url, timeout: Duration) -> Result<(), SetupError> {
    let client = crate::net::target::client_builder_for(url)
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
