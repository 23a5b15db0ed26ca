//! `xauth-issuer`: run the fake Supabase auth server.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Parser;
use xauth_issuer::{Issuer, IssuerInfo};

/// A fake Supabase auth (GoTrue) server with rotating keys, fault injection, counters and token
/// minting. Ready when `GET /auth/v1/health` answers 200.
#[derive(Debug, Parser)]
#[command(name = "xauth-issuer", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:54321", env = "XAUTH_ISSUER_LISTEN")]
    listen: SocketAddr,
    /// Base URL clients use (default: http://<listen address>).
    #[arg(long)]
    public_url: Option<String>,
    /// Keep keys and users here across restarts (files mode 0600).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Seed a confirmed user (repeatable).
    #[arg(long = "user", value_name = "EMAIL:PASSWORD")]
    users: Vec<String>,
    /// Seed users from a file: one EMAIL:PASSWORD per line (# comments), or a JSON array of
    /// {"email","password"} objects.
    #[arg(long)]
    users_file: Option<PathBuf>,
    /// Do not require the apikey header on GoTrue routes.
    #[arg(long)]
    no_apikey: bool,
    /// Legacy HS256 secret (default: the persisted one, else the Supabase CLI's).
    #[arg(long, env = "SUPABASE_JWT_SECRET")]
    jwt_secret: Option<String>,
    /// Access-token lifetime in seconds.
    #[arg(long, default_value_t = xauth_issuer::DEFAULT_ACCESS_TOKEN_TTL)]
    access_token_ttl: i64,
    /// Refresh-token reuse interval in seconds.
    #[arg(long, default_value_t = xauth_issuer::DEFAULT_REFRESH_REUSE_INTERVAL)]
    refresh_reuse_interval: i64,
    /// JWKS Cache-Control max-age in seconds.
    #[arg(long, default_value_t = xauth_issuer::DEFAULT_JWKS_MAX_AGE)]
    jwks_max_age: u64,
    /// Print the start-up summary as one JSON object.
    #[arg(long)]
    json: bool,
    /// The OAuth 2.1 server's /authorize approves for this (seeded) user without a consent
    /// page, so an MCP client completes its flow unattended.
    #[arg(long, value_name = "EMAIL")]
    oauth_auto_approve: Option<String>,
    /// Imitate a Custom Access Token Hook: an OAuth access token's `aud` is the `resource` the
    /// client asked for (RFC 8707), as an MCP server in the resource audience mode expects.
    #[arg(long)]
    oauth_access_token_hook: bool,
    /// Where /authorize sends the user to consent without --oauth-auto-approve.
    #[arg(long, value_name = "URL")]
    oauth_consent_url: Option<String>,
}

/// Largest users file read.
const MAX_USERS_FILE_BYTES: u64 = 4 * 1024 * 1024;

fn parse_user(spec: &str) -> Result<(String, String)> {
    let (email, password) = spec
        .split_once(':')
        .with_context(|| format!("user {spec:?} is not EMAIL:PASSWORD"))?;
    if email.is_empty() || password.is_empty() {
        bail!("user {spec:?} needs both an email and a password");
    }
    Ok((email.to_string(), password.to_string()))
}

fn read_users_file(path: &Path) -> Result<Vec<(String, String)>> {
    use std::io::Read;
    let file = std::fs::File::open(path).with_context(|| format!("{}", path.display()))?;
    let mut text = String::new();
    file.take(MAX_USERS_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("{}", path.display()))?;
    if text.len() as u64 > MAX_USERS_FILE_BYTES {
        bail!(
            "{} is larger than {MAX_USERS_FILE_BYTES} bytes",
            path.display()
        );
    }
    if text.trim_start().starts_with('[') {
        #[derive(serde::Deserialize)]
        struct User {
            email: String,
            password: String,
        }
        let users: Vec<User> =
            serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?;
        return Ok(users.into_iter().map(|u| (u.email, u.password)).collect());
    }
    text.lines()
        .enumerate()
        .map(|(i, line)| (i, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(i, line)| parse_user(line).with_context(|| format!("{}:{}", path.display(), i + 1)))
        .collect()
}

/// What `supabase status` prints, for the parts this server provides.
fn status_text(info: &IssuerInfo) -> String {
    let rows = [
        ("API URL", &info.api_url),
        ("Auth URL", &info.auth_url),
        ("JWKS URL", &info.jwks_url),
        ("JWT secret", &info.jwt_secret),
        ("anon key", &info.anon_key),
        ("service_role key", &info.service_role_key),
    ];
    let mut out = String::from("xauth-issuer is running.\n\n");
    for (name, value) in rows {
        out.push_str(&format!("{name:>16}: {value}\n"));
    }
    out
}

/// `supabase status -o json` names, plus this server's extras.
fn status_json(info: &IssuerInfo) -> serde_json::Value {
    serde_json::json!({
        "API_URL": info.api_url,
        "AUTH_URL": info.auth_url,
        "JWKS_URL": info.jwks_url,
        "ISSUER": info.issuer,
        "JWT_SECRET": info.jwt_secret,
        "ANON_KEY": info.anon_key,
        "SERVICE_ROLE_KEY": info.service_role_key,
    })
}

/// Registers the SIGTERM and Ctrl-C (SIGINT) handlers now and returns a future that resolves on
/// either.
///
/// Registration must happen before the status is printed: a supervisor that reads the status
/// and sends a signal at once would otherwise kill the process before the handler exists.
/// (`tokio::signal::ctrl_c()` only registers when first polled, so on Unix SIGINT is registered
/// explicitly too.)
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let handlers = {
        use tokio::signal::unix::{SignalKind, signal};
        signal(SignalKind::terminate())
            .and_then(|term| Ok((term, signal(SignalKind::interrupt())?)))
            .ok()
    };
    async move {
        #[cfg(unix)]
        if let Some((mut term, mut int)) = handlers {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();

    let mut users = args
        .users
        .iter()
        .map(|u| parse_user(u))
        .collect::<Result<Vec<_>>>()?;
    if let Some(path) = &args.users_file {
        users.extend(read_users_file(path)?);
    }
    let mut builder = Issuer::builder()
        .listen(args.listen)
        .access_token_ttl(args.access_token_ttl)
        .refresh_reuse_interval(args.refresh_reuse_interval)
        .jwks_max_age(args.jwks_max_age)
        .require_apikey(!args.no_apikey)
        .users(users);
    if let Some(url) = args.public_url {
        builder = builder.public_url(url);
    }
    if let Some(secret) = args.jwt_secret {
        builder = builder.jwt_secret(secret);
    }
    if let Some(dir) = args.state_dir {
        builder = builder.state_dir(dir);
    }
    if let Some(url) = args.oauth_consent_url {
        builder = builder.oauth_consent_url(url);
    }
    let issuer = builder.spawn().await.context("starting xauth-issuer")?;
    if let Some(email) = &args.oauth_auto_approve {
        issuer
            .oauth_auto_approve(email)
            .context("--oauth-auto-approve")?;
    }
    issuer.set_oauth_access_token_hook(args.oauth_access_token_hook);
    let shutdown = shutdown_signal();

    let info = issuer.info();
    if args.json {
        println!("{}", status_json(&info));
    } else {
        print!("{}", status_text(&info));
    }
    shutdown.await;
    issuer.shutdown().await;
    Ok(())
}
