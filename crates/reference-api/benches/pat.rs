//! PAT benchmark (`cargo bench -p xauth-reference --bench pat`, `cargo xtask bench pat`): what a
//! personal access token costs next to a JWT on `GET /api/content`.
//!
//! One process, as `benches/load.rs`: the real issuer and a loopback load generator on one
//! runtime, the reference API with PATs on its own runtime (`XAUTH_BENCH_SERVER_CORES` worker
//! threads, default 1). Cases, ~`XAUTH_BENCH_SECS` (default 3) each after a warm-up pass, over
//! keep-alive HTTP/1.1: a valid ES256 JWT (the baseline), a valid PAT on SQLite (a temp file),
//! a valid PAT on PostgreSQL (a fresh database on the server `XAUTH_TEST_DATABASE_URL` names,
//! dropped after; skipped without it), a PAT with a bad checksum (401), and an unknown PAT with
//! a valid checksum (401; the control for the query counter). Owner lookups are cached for the
//! declared 300 s, so a valid PAT costs its steady state: checksum, digest, one database read.
//!
//! It proves that a bad checksum never reaches the database: the PAT service counts the
//! statements it sends, and the bench fails unless the bad-checksum case sent none while the
//! unknown-token case sent exactly one per request. It also fails (exit 1) on any unexpected
//! status, 5xx or transport error.

// Benchmark harness: unwrap() on setup and load-generator I/O is a deliberate abort.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use sqlx::Connection;
use xauth_issuer::{Issuer, IssuerHandle, MintRequest};
use xauth_reference::pat::token;
use xauth_reference::{Config, PatConfig, PatService, ServerHandle};

const CONNECTIONS: usize = 16;
const USERS: usize = 10;
const DATABASE_URL_VAR: &str = "XAUTH_TEST_DATABASE_URL";

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    expected: u64,
    unexpected: Vec<u16>,
    transport_errors: u64,
}

/// One case: the server it targets, its bearers, the status each must get.
struct Case {
    name: &'static str,
    addr: SocketAddr,
    pats: Arc<PatService>,
    bearers: Arc<Vec<String>>,
    expect: u16,
}

async fn worker(
    addr: SocketAddr,
    bearers: Arc<Vec<String>>,
    expect: u16,
    offset: usize,
    until: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _ = stream.set_nodelay(true);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut i = offset;
    while Instant::now() < until {
        let req = hyper::Request::get("/api/content")
            .header("host", "bench")
            .header(
                "authorization",
                format!("Bearer {}", bearers[i % bearers.len()]),
            )
            .body(Empty::<Bytes>::new())
            .unwrap();
        i += 1;
        let started = Instant::now();
        let status = match sender.send_request(req).await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                if resp.into_body().collect().await.is_err() {
                    tally.transport_errors += 1;
                    break;
                }
                status
            }
            Err(_) => {
                tally.transport_errors += 1;
                break;
            }
        };
        tally
            .latencies_us
            .push(u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX));
        if status == expect {
            tally.expected += 1;
        } else {
            tally.unexpected.push(status);
        }
    }
    tally
}

/// Runs `case` for `secs`; returns the tally, the elapsed seconds and the statements its PAT
/// service sent meanwhile.
async fn run(case: &Case, secs: f64) -> (Tally, f64, u64) {
    let queries = case.pats.queries();
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(secs);
    let handles: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            tokio::spawn(worker(
                case.addr,
                case.bearers.clone(),
                case.expect,
                c * 3,
                until,
            ))
        })
        .collect();
    let mut tally = Tally::default();
    for h in handles {
        let t = h.await.unwrap();
        tally.latencies_us.extend(t.latencies_us);
        tally.expected += t.expected;
        tally.unexpected.extend(t.unexpected);
        tally.transport_errors += t.transport_errors;
    }
    let elapsed = started.elapsed().as_secs_f64();
    (tally, elapsed, case.pats.queries() - queries)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[idx]) / 1000.0
}

/// The session JWT of a new user, created at the issuer's admin API.
async fn user_jwt(issuer: &IssuerHandle, http: &reqwest::Client) -> String {
    let key = issuer.info().service_role_key;
    let created: Value = http
        .post(format!("{}/auth/v1/admin/users", issuer.base_url()))
        .header("apikey", &key)
        .bearer_auth(&key)
        .json(&json!({
            "email": format!("{}@example.com", uuid::Uuid::new_v4()),
            "password": "correct-horse-battery",
            "email_confirm": true,
        }))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    let claims = json!({"sub": created["id"], "role": "authenticated"});
    issuer
        .mint(&MintRequest {
            claims: claims.as_object().cloned(),
            ..Default::default()
        })
        .unwrap()
        .token
}

/// A `content:read` PAT for the owner of `jwt`, created on `server`.
async fn create_pat(http: &reqwest::Client, server: &ServerHandle, jwt: &str) -> String {
    let created: Value = http
        .post(format!("{}/api/account/tokens", server.url()))
        .bearer_auth(jwt)
        .json(&json!({"name": "bench", "scopes": ["content:read"], "expires_in_days": 30}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    created["data"]["token"].as_str().unwrap().to_owned()
}

/// `pat` with its last (checksum) character changed.
fn bad_checksum(pat: &str) -> String {
    let (head, last) = pat.split_at(pat.len() - 1);
    format!("{head}{}", if last == "A" { 'B' } else { 'A' })
}

/// Runs `sql` on the server `admin_url` names.
async fn admin_sql(admin_url: &str, sql: String) {
    let mut conn = sqlx::PgConnection::connect(admin_url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument is ignored.
    let server_cores: usize = env_num("XAUTH_BENCH_SERVER_CORES", 1usize).max(1);
    let secs: f64 = env_num("XAUTH_BENCH_SECS", 3.0f64).clamp(0.5, 30.0);
    let pg_admin = std::env::var(DATABASE_URL_VAR).ok();

    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(server_cores)
        .enable_all()
        .build()
        .unwrap();
    let issuer = client_rt
        .block_on(Issuer::builder().port(0).spawn())
        .unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();

    let mut config = Config::new(issuer.base_url()).unwrap();
    // Limits out of the way (the limiter still runs on every request).
    for spec in [&mut config.subject_rate, &mut config.ip_rate] {
        spec.limit = NonZeroU32::new(1_000_000).unwrap();
        spec.window = Duration::from_secs(1);
    }
    // A server with PATs on `database_url`, on the server runtime (so are its pool's sockets).
    let start = |database_url: String| {
        let mut pat_config = PatConfig::new(database_url, issuer.info().service_role_key);
        pat_config.owner_cache = Duration::from_secs(300);
        server_rt.block_on(async {
            let pats = PatService::open(&config.supabase_url, pat_config)
                .await
                .unwrap();
            let server = xauth_reference::spawn_with(config.clone(), Some(pats.clone()))
                .await
                .unwrap();
            (server, pats)
        })
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = start(format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("pats.db").to_str().unwrap()
    ));
    let pg_db = format!("xauth_bench_{}", uuid::Uuid::new_v4().simple());
    let postgres = pg_admin.as_deref().map(|admin| {
        client_rt.block_on(admin_sql(admin, format!("CREATE DATABASE {pg_db}")));
        let mut url = url::Url::parse(admin).unwrap();
        url.set_path(&pg_db);
        start(url.to_string())
    });

    let jwts: Vec<String> = client_rt.block_on(futures::future::join_all(
        (0..USERS).map(|_| user_jwt(&issuer, &http)),
    ));
    let pats_on = |server: &ServerHandle| -> Vec<String> {
        client_rt.block_on(async {
            futures::future::join_all(jwts.iter().map(|jwt| create_pat(&http, server, jwt))).await
        })
    };
    let sqlite_pats = pats_on(&sqlite.0);
    let case = |name: &'static str,
                (server, pats): &(ServerHandle, Arc<PatService>),
                bearers: Vec<String>,
                expect: u16| Case {
        name,
        addr: server.addr(),
        pats: pats.clone(),
        bearers: Arc::new(bearers),
        expect,
    };
    let mut cases = vec![
        case("JWT (ES256)", &sqlite, jwts.clone(), 200),
        case("PAT on SQLite", &sqlite, sqlite_pats.clone(), 200),
    ];
    if let Some(pg) = &postgres {
        cases.push(case("PAT on PostgreSQL", pg, pats_on(&pg.0), 200));
    }
    cases.push(case(
        "PAT bad checksum",
        &sqlite,
        sqlite_pats.iter().map(|p| bad_checksum(p)).collect(),
        401,
    ));
    cases.push(case(
        "PAT unknown",
        &sqlite,
        (0..USERS).map(|_| token::generate()).collect(),
        401,
    ));

    for c in &cases {
        client_rt.block_on(run(c, 0.5));
    }
    println!(
        "reference-api PATs: {CONNECTIONS} keep-alive connections, {secs:.1} s per case, server cores {server_cores}, {USERS} owners"
    );
    println!(
        "{:<18} {:>9} {:>8} {:>8} {:>8} {:>8} {:>6} {:>9}",
        "case", "req/s", "p50 ms", "p99 ms", "max ms", "ok", "other", "db q/req"
    );
    let mut failures = Vec::new();
    let mut results = Vec::new();
    for c in &cases {
        let (mut tally, elapsed, queries) = client_rt.block_on(run(c, secs));
        tally.latencies_us.sort_unstable();
        let n = tally.latencies_us.len() as u64;
        let rps = n as f64 / elapsed;
        let (p50, p99, max) = (
            percentile(&tally.latencies_us, 0.5),
            percentile(&tally.latencies_us, 0.99),
            percentile(&tally.latencies_us, 1.0),
        );
        let per_req = queries as f64 / (n.max(1) as f64);
        println!(
            "{:<18} {rps:>9.0} {p50:>8.2} {p99:>8.2} {max:>8.2} {:>8} {:>6} {per_req:>9.3}",
            c.name,
            tally.expected,
            tally.unexpected.len() as u64 + tally.transport_errors,
        );
        if n == 0 || !tally.unexpected.is_empty() || tally.transport_errors > 0 {
            failures.push(format!(
                "{}: expected {} every time; got {} other statuses (first: {:?}) and {} transport errors",
                c.name,
                c.expect,
                tally.unexpected.len(),
                tally.unexpected.first(),
                tally.transport_errors
            ));
        }
        match c.name {
            "PAT bad checksum" if queries != 0 => failures.push(format!(
                "a bad checksum reached the database: {queries} statements for {n} requests"
            )),
            "PAT unknown" if queries != n => failures.push(format!(
                "the query counter is off: {queries} statements for {n} unknown-token requests (expected one each)"
            )),
            _ => {}
        }
        results.push((c.name, rps, p50, p99, queries, n));
    }
    if postgres.is_none() {
        println!(
            "{:<18} skipped: {DATABASE_URL_VAR} unset",
            "PAT on PostgreSQL"
        );
    }
    let jwt = results[0];
    let mut ratios = serde_json::Map::new();
    for (name, rps, p50, p99, _, _) in &results[1..] {
        println!(
            "{name} / JWT: throughput {:.2}, p50 {:.2}, p99 {:.2}",
            rps / jwt.1,
            p50 / jwt.2,
            p99 / jwt.3
        );
        ratios.insert(
            (*name).to_owned(),
            json!({"rps": rps / jwt.1, "p50": p50 / jwt.2, "p99": p99 / jwt.3}),
        );
    }
    println!(
        "{}",
        json!({
            "bench": "reference-pat", "server_cores": server_cores, "seconds_per_case": secs,
            "cases": results.iter().map(|(name, rps, p50, p99, queries, n)| json!({
                "case": name, "rps": rps, "p50_ms": p50, "p99_ms": p99,
                "db_statements": queries, "requests": n,
            })).collect::<Vec<_>>(),
            "ratios_to_jwt": ratios,
            "postgres": postgres.is_some(),
            "load_average": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
        })
    );

    server_rt.block_on(sqlite.0.shutdown());
    if let (Some((server, _)), Some(admin)) = (postgres, pg_admin.as_deref()) {
        server_rt.block_on(server.shutdown());
        // WITH (FORCE): the PAT service's pool still holds connections.
        client_rt.block_on(admin_sql(
            admin,
            format!("DROP DATABASE {pg_db} WITH (FORCE)"),
        ));
    }
    client_rt.block_on(issuer.shutdown());
    if !failures.is_empty() {
        for f in &failures {
            eprintln!("FAILED: {f}");
        }
        std::process::exit(1);
    }
}
