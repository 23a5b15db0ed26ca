//! Load benchmark of the reference API (`cargo bench -p xauth-reference --bench load`).
//!
//! One process: the real issuer and a loopback load generator on one runtime, the reference API
//! on its own runtime with `XAUTH_BENCH_SERVER_CORES` worker threads (default 1). For
//! `/api/content` with ES256, RS256 and HS256 tokens (10 % of them forged: 401) and for the
//! unauthenticated `/health` of the same server, it reports requests/s and latency percentiles
//! from keep-alive HTTP/1.1 connections, ~`XAUTH_BENCH_SECS` (default 3) per case, after a
//! warm-up pass of every case. It fails (exit 1) on any 5xx, transport error or unexpected
//! status. RSS is sampled after the warm-up pass and at the end.
//!
//! The goal (issue 4): ES256 throughput ≥ 0.8 × (single-core verify rate × server cores); the
//! single-core rate is measured in the same run by calling `Verifier::verify` in a loop.

// Benchmark harness: unwrap() on setup and load-generator I/O is a deliberate abort.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use serde_json::json;
use xauth_issuer::{Issuer, KeyAlg, MintRequest};
use xauth_reference::Config;
use xauth_verifier::Verifier;

const CONNECTIONS: usize = 16;

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    ok: u64,
    unauthorized: u64,
    other_4xx: u64,
    server_errors: u64,
    transport_errors: u64,
}

impl Tally {
    fn merge(&mut self, o: Tally) {
        self.latencies_us.extend(o.latencies_us);
        self.ok += o.ok;
        self.unauthorized += o.unauthorized;
        self.other_4xx += o.other_4xx;
        self.server_errors += o.server_errors;
        self.transport_errors += o.transport_errors;
    }
}

/// One request template: the Authorization header (if any) and the expected status.
#[derive(Clone)]
struct Shot {
    auth: Option<String>,
    expect: u16,
}

async fn worker(
    addr: SocketAddr,
    path: &'static str,
    shots: Arc<Vec<Shot>>,
    offset: usize,
    until: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let Ok(stream) = tokio::net::TcpStream::connect(addr).await else {
        tally.transport_errors += 1;
        return tally;
    };
    let _ = stream.set_nodelay(true);
    let Ok((mut sender, conn)) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
    else {
        tally.transport_errors += 1;
        return tally;
    };
    tokio::spawn(conn);
    let mut i = offset;
    while Instant::now() < until {
        let shot = &shots[i % shots.len()];
        i += 1;
        let mut req = hyper::Request::get(path).header("host", "bench");
        if let Some(a) = &shot.auth {
            req = req.header("authorization", a.as_str());
        }
        let req = req.body(Empty::<Bytes>::new()).expect("request");
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
        match status {
            s if s >= 500 => tally.server_errors += 1,
            s if s != shot.expect => tally.other_4xx += 1,
            200 => tally.ok += 1,
            401 => tally.unauthorized += 1,
            _ => tally.other_4xx += 1,
        }
    }
    tally
}

async fn run_case(
    addr: SocketAddr,
    path: &'static str,
    shots: Arc<Vec<Shot>>,
    secs: f64,
) -> (Tally, f64) {
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(secs);
    let mut handles = Vec::new();
    for c in 0..CONNECTIONS {
        handles.push(tokio::spawn(worker(
            addr,
            path,
            shots.clone(),
            c * 7,
            until,
        )));
    }
    let mut tally = Tally::default();
    for h in handles {
        if let Ok(t) = h.await {
            tally.merge(t);
        }
    }
    (tally, started.elapsed().as_secs_f64())
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[idx]) / 1000.0
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU seconds (user + system) of this process's threads whose name starts with `prefix`
/// (`None`: the calling thread), from /proc (USER_HZ = 100 on Linux).
fn cpu_secs(prefix: Option<&str>) -> f64 {
    fn parse(stat: &str) -> Option<(String, f64)> {
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let comm = stat[open + 1..close].to_owned();
        let rest: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        let utime: f64 = rest.get(11)?.parse().ok()?;
        let stime: f64 = rest.get(12)?.parse().ok()?;
        Some((comm, (utime + stime) / 100.0))
    }
    match prefix {
        None => std::fs::read_to_string("/proc/thread-self/stat")
            .ok()
            .and_then(|s| parse(&s))
            .map_or(0.0, |(_, t)| t),
        Some(prefix) => std::fs::read_dir("/proc/self/task")
            .map(|dir| {
                dir.filter_map(Result::ok)
                    .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
                    .filter_map(|s| parse(&s))
                    .filter(|(comm, _)| comm.starts_with(prefix))
                    .map(|(_, t)| t)
                    .sum()
            })
            .unwrap_or(0.0),
    }
}

const SERVER_THREAD: &str = "bench-server";

fn forge(token: &str) -> String {
    let (head, sig) = token.rsplit_once('.').expect("three segments");
    let mut bytes = sig.as_bytes().to_vec();
    bytes[0] = if bytes[0] == b'A' { b'B' } else { b'A' };
    format!("{head}.{}", String::from_utf8(bytes).expect("ascii"))
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

    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(server_cores)
        .thread_name(SERVER_THREAD)
        .enable_all()
        .build()
        .expect("server runtime");

    let issuer = client_rt.block_on(async {
        let issuer = Issuer::builder().port(0).spawn().await.expect("issuer");
        issuer.keys().await;
        issuer
    });

    let mut config = Config::new(issuer.base_url()).expect("config");
    config.jwt_secret = Some(issuer.info().jwt_secret);
    // Limits out of the way (the limiter still runs on every request), so the benchmark
    // measures verification and HTTP, not 429s.
    for spec in [&mut config.subject_rate, &mut config.ip_rate] {
        spec.limit = NonZeroU32::new(1_000_000).expect("nonzero");
        spec.window = Duration::from_secs(1);
    }
    let verifier_config = config.verifier_config().expect("verifier config");
    let server = server_rt
        .block_on(xauth_reference::spawn(config))
        .expect("server");
    let addr = server.addr();

    let rsa_kid = client_rt.block_on(async {
        issuer
            .keys()
            .await
            .into_iter()
            .find(|k| k.alg == KeyAlg::Rs256)
            .expect("an RS256 key")
            .kid
    });
    let mint = |key: Option<&str>, sub: usize| {
        issuer
            .mint(&MintRequest {
                key: key.map(str::to_owned),
                claims: Some(
                    json!({"sub": format!("bench-user-{sub}")})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                ),
                ..Default::default()
            })
            .expect("mint")
            .token
    };
    let shots_for = |key: Option<&str>| -> Arc<Vec<Shot>> {
        let shots = (0..100)
            .map(|i| {
                let token = mint(key, i % 20);
                if i % 10 == 9 {
                    Shot {
                        auth: Some(format!("Bearer {}", forge(&token))),
                        expect: 401,
                    }
                } else {
                    Shot {
                        auth: Some(format!("Bearer {token}")),
                        expect: 200,
                    }
                }
            })
            .collect();
        Arc::new(shots)
    };
    let cases: Vec<(&str, &'static str, Arc<Vec<Shot>>)> = vec![
        ("ES256 /api/content", "/api/content", shots_for(None)),
        (
            "RS256 /api/content",
            "/api/content",
            shots_for(Some(rsa_kid.as_str())),
        ),
        (
            "HS256 /api/content",
            "/api/content",
            shots_for(Some("legacy")),
        ),
        (
            "/health (no auth)",
            "/health",
            Arc::new(vec![Shot {
                auth: None,
                expect: 200,
            }]),
        ),
    ];

    // Single-core verify rate over exactly the token mix of each case (90 % valid, 10 % forged),
    // measured here on the generator's thread while the server idles.
    let verifier = Verifier::new(verifier_config).expect("verifier");
    // (per wall-clock second, per CPU second of the measuring thread)
    let verify_rate = |shots: &[Shot]| -> (f64, f64) {
        let tokens: Vec<&str> = shots
            .iter()
            .filter_map(|s| s.auth.as_deref())
            .filter_map(|a| a.strip_prefix("Bearer "))
            .collect();
        client_rt.block_on(async {
            for t in &tokens {
                let _ = verifier.verify(t).await; // fetches the JWKS once
            }
            let started = Instant::now();
            let cpu0 = cpu_secs(None);
            let mut n = 0u64;
            while started.elapsed() < Duration::from_secs(2) {
                for t in &tokens {
                    let _ = verifier.verify(t).await;
                }
                n += tokens.len() as u64;
            }
            let cpu = (cpu_secs(None) - cpu0).max(0.01);
            (n as f64 / started.elapsed().as_secs_f64(), n as f64 / cpu)
        })
    };
    let (rate_es, cpu_rate_es) = verify_rate(&cases[0].2);
    let (rate_rs, cpu_rate_rs) = verify_rate(&cases[1].2);
    let (rate_hs, cpu_rate_hs) = verify_rate(&cases[2].2);

    // Warm-up pass (JWKS fetch, connection pools, allocator), then the measured pass.
    for (_, path, shots) in &cases {
        client_rt.block_on(run_case(addr, path, shots.clone(), 0.5));
    }
    let rss_start = rss_kib();
    let mut failed = false;
    let mut es_rps = 0.0;
    println!(
        "reference-api load: {CONNECTIONS} keep-alive connections, {secs:.1} s per case, server cores {server_cores}, 10 % forged tokens"
    );
    println!(
        "{:<20} {:>10} {:>9} {:>9} {:>9} {:>7} {:>7} {:>5} {:>6} {:>11}",
        "case", "req/s", "p50 ms", "p99 ms", "max ms", "200", "401", "5xx", "other", "srv CPU/req"
    );
    let mut es_cpu_per_req = 0.0;
    let mut json_cases = Vec::new();
    for (name, path, shots) in &cases {
        let cpu0 = cpu_secs(Some(SERVER_THREAD));
        let (mut tally, elapsed) = client_rt.block_on(run_case(addr, path, shots.clone(), secs));
        let server_cpu = cpu_secs(Some(SERVER_THREAD)) - cpu0;
        tally.latencies_us.sort_unstable();
        let n = tally.latencies_us.len() as f64;
        let rps = n / elapsed;
        let (p50, p99) = (
            percentile(&tally.latencies_us, 0.5),
            percentile(&tally.latencies_us, 0.99),
        );
        let max = percentile(&tally.latencies_us, 1.0);
        let cpu_per_req_us = if n > 0.0 { server_cpu / n * 1e6 } else { 0.0 };
        println!(
            "{name:<20} {rps:>10.0} {p50:>9.2} {p99:>9.2} {max:>9.2} {:>7} {:>7} {:>5} {:>6} {:>8.1} us",
            tally.ok,
            tally.unauthorized,
            tally.server_errors,
            tally.other_4xx + tally.transport_errors,
            cpu_per_req_us
        );
        if name.starts_with("ES256") {
            es_rps = rps;
            es_cpu_per_req = cpu_per_req_us;
        }
        failed |= tally.server_errors > 0
            || tally.transport_errors > 0
            || tally.other_4xx > 0
            || n == 0.0;
        json_cases.push(json!({
            "case": name, "rps": rps, "p50_ms": p50, "p99_ms": p99, "max_ms": max,
            "server_cpu_us_per_request": cpu_per_req_us,
            "ok": tally.ok, "unauthorized": tally.unauthorized, "server_errors": tally.server_errors,
            "unexpected": tally.other_4xx, "transport_errors": tally.transport_errors,
        }));
    }
    let rss_end = rss_kib();
    // The generator's own latency vectors are freed by now, so growth is the server's.
    let ratio = es_rps / (rate_es * server_cores as f64);
    println!(
        "single-core verify rate: ES256 {rate_es:.0}/s, RS256 {rate_rs:.0}/s, HS256 {rate_hs:.0}/s (wall); \
         per CPU second: ES256 {cpu_rate_es:.0}, RS256 {cpu_rate_rs:.0}, HS256 {cpu_rate_hs:.0}"
    );
    // The same goal per CPU second: robust when the machine is shared (the server thread does
    // not get a whole core). Server requests per CPU second vs verifies per CPU second.
    let cpu_ratio = if es_cpu_per_req > 0.0 {
        1e6 / es_cpu_per_req / cpu_rate_es
    } else {
        0.0
    };
    println!(
        "ES256 throughput / (verify rate x {server_cores} core(s)) = {es_rps:.0} / {:.0} = {ratio:.2} (goal >= 0.80: {})",
        rate_es * server_cores as f64,
        if ratio >= 0.8 { "met" } else { "NOT met" }
    );
    println!(
        "per CPU second: ES256 requests {:.0} / verifies {cpu_rate_es:.0} = {cpu_ratio:.2} (goal >= 0.80: {})",
        if es_cpu_per_req > 0.0 {
            1e6 / es_cpu_per_req
        } else {
            0.0
        },
        if cpu_ratio >= 0.8 { "met" } else { "NOT met" }
    );
    println!(
        "RSS: {} KiB after warm-up, {} KiB at end ({:+} KiB)",
        rss_start,
        rss_end,
        rss_end as i64 - rss_start as i64
    );
    println!(
        "{}",
        json!({
            "bench": "reference-load", "server_cores": server_cores, "seconds_per_case": secs,
            "cases": json_cases,
            "verify_rate": {"ES256": rate_es, "RS256": rate_rs, "HS256": rate_hs},
            "verify_rate_per_cpu_second": {"ES256": cpu_rate_es, "RS256": cpu_rate_rs, "HS256": cpu_rate_hs},
            "es256_ratio": ratio, "es256_ratio_per_cpu_second": cpu_ratio, "goal": 0.8,
            "load_average": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
            "rss_kib": {"start": rss_start, "end": rss_end},
        })
    );
    server_rt.block_on(server.shutdown());
    client_rt.block_on(issuer.shutdown());
    if failed {
        eprintln!("FAILED: 5xx, transport errors or unexpected statuses under load");
        std::process::exit(1);
    }
}
