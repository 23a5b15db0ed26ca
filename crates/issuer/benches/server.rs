//! Issuer server benchmark: start-to-ready, idle RSS, JWKS requests/s and password-grant
//! tokens/s against the real binary over loopback.
//!
//! Run with `cargo bench -p xauth-issuer --bench server` (release build). The load generator is a
//! keep-alive hyper HTTP/1 client with a fixed number of connections, running on the same
//! machine (it competes with the server for the CPU).
// Benchmark setup unwraps like a test: a failure means a broken setup, not a result.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;

const BIN: &str = env!("CARGO_BIN_EXE_xauth-issuer");
const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "bench-password-123";
const LOAD_SECONDS: u64 = 3;
const CONNECTIONS: usize = 32;
const READY_RUNS: usize = 15;

struct Server {
    child: Child,
    base: String,
    host: String,
    anon_key: String,
}

impl Server {
    /// Spawns the binary on an ephemeral port; returns when it printed its summary.
    fn spawn() -> (Self, Instant) {
        let started = Instant::now();
        let mut child = Command::new(BIN)
            .args(["--listen", "127.0.0.1:0", "--json", "--user"])
            .arg(format!("{EMAIL}:{PASSWORD}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn xauth-issuer");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read summary");
        let summary: serde_json::Value = serde_json::from_str(&line).expect("JSON summary");
        let base = summary["API_URL"].as_str().expect("API_URL").to_string();
        let host = base.trim_start_matches("http://").to_string();
        let anon_key = summary["ANON_KEY"].as_str().expect("ANON_KEY").to_string();
        (
            Self {
                child,
                base,
                host,
                anon_key,
            },
            started,
        )
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// CPU time (user + system) the server has used so far, from /proc/PID/stat.
    fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        // After ")" the state is field 3, so utime (14) is index 11 and stime (15) index 12.
        (ticks(11) + ticks(12)) / clock_ticks_per_second()
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// One blocking GET over a fresh connection; true on 200.
fn get_ok(host: &str, path: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(host) else {
        return false;
    };
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    response.starts_with(b"HTTP/1.1 200")
}

fn measure_ready() -> (Duration, Server) {
    let (server, started) = Server::spawn();
    for _ in 0..10_000 {
        if get_ok(&server.host, "/auth/v1/health") {
            return (started.elapsed(), server);
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    panic!("server never became ready");
}

#[derive(Clone)]
struct Load {
    method: hyper::Method,
    path: String,
    body: Bytes,
    headers: Vec<(&'static str, String)>,
}

/// Runs `CONNECTIONS` keep-alive connections for `LOAD_SECONDS`; returns (ok, failed, elapsed).
async fn run_load(host: String, load: Load) -> (u64, u64, Duration) {
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let (host, load, ok, failed, stop) = (
            host.clone(),
            load.clone(),
            ok.clone(),
            failed.clone(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(&host)
                .await
                .expect("connect");
            let _ = stream.set_nodelay(true);
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .expect("handshake");
            tokio::spawn(conn);
            while !stop.load(Ordering::Relaxed) {
                let mut builder = Request::builder()
                    .method(load.method.clone())
                    .uri(&load.path)
                    .header("host", &host);
                for (name, value) in &load.headers {
                    builder = builder.header(*name, value);
                }
                let request = builder.body(Full::new(load.body.clone())).expect("request");
                if sender.ready().await.is_err() {
                    failed.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                match sender.send_request(request).await {
                    Ok(response) => {
                        let status = response.status();
                        let body = response.into_body().collect().await;
                        if status == 200 && body.is_ok() {
                            ok.fetch_add(1, Ordering::Relaxed);
                        } else {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(_) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                }
            }
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(LOAD_SECONDS)).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();
    let ok_at_stop = ok.load(Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    (ok_at_stop, failed.load(Ordering::Relaxed), elapsed)
}

fn row(name: &str, value: f64, unit: &str, goal: f64, lower_is_better: bool) {
    let ratio = if lower_is_better {
        goal / value
    } else {
        value / goal
    };
    let verdict = if ratio >= 1.0 { "meets" } else { "MISSES" };
    let cmp = if lower_is_better { "<" } else { ">" };
    println!(
        "| {name:<26} | {value:>12.1} {unit:<6} | {cmp} {goal:>8} {unit:<6} | {ratio:>6.2}x {verdict} |"
    );
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    let mut ready_times = Vec::new();
    for _ in 0..READY_RUNS {
        let (ready, server) = measure_ready();
        ready_times.push(ready);
        server.stop();
    }
    ready_times.sort();
    let ready_median = ready_times[ready_times.len() / 2];
    let ready_min = ready_times[0];

    let (_, server) = measure_ready();
    // Idle: after start, the background RSA key generation and one JWKS fetch, at rest.
    assert!(get_ok(&server.host, "/auth/v1/.well-known/jwks.json"));
    std::thread::sleep(Duration::from_millis(500));
    let rss_mib = server.rss_kib() as f64 / 1024.0;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let jwks = Load {
        method: hyper::Method::GET,
        path: "/auth/v1/.well-known/jwks.json".into(),
        body: Bytes::new(),
        headers: vec![],
    };
    let cpu_before = server.cpu_seconds();
    let (jwks_ok, jwks_failed, jwks_elapsed) =
        runtime.block_on(run_load(server.host.clone(), jwks));
    let jwks_cpu = server.cpu_seconds() - cpu_before;
    let grant = Load {
        method: hyper::Method::POST,
        path: "/auth/v1/token?grant_type=password".into(),
        body: Bytes::from(format!(r#"{{"email":"{EMAIL}","password":"{PASSWORD}"}}"#)),
        headers: vec![
            ("apikey", server.anon_key.clone()),
            ("content-type", "application/json".into()),
        ],
    };
    let cpu_before = server.cpu_seconds();
    let (grant_ok, grant_failed, grant_elapsed) =
        runtime.block_on(run_load(server.host.clone(), grant));
    let grant_cpu = server.cpu_seconds() - cpu_before;
    let loaded_rss_mib = server.rss_kib() as f64 / 1024.0;
    let base = server.base.clone();
    server.stop();

    let jwks_rps = jwks_ok as f64 / jwks_elapsed.as_secs_f64();
    let grant_rps = grant_ok as f64 / grant_elapsed.as_secs_f64();
    println!();
    println!(
        "xauth-issuer server benchmark ({BIN}; {} CPUs; load generator on the same machine, \
         {CONNECTIONS} keep-alive connections, {LOAD_SECONDS} s per load)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("server under test: {base}");
    println!(
        "| metric                     |        value        |        goal       |   ratio       |"
    );
    println!(
        "|----------------------------|---------------------|-------------------|---------------|"
    );
    row(
        "start-to-ready (median)",
        ready_median.as_secs_f64() * 1000.0,
        "ms",
        30.0,
        true,
    );
    row(
        "start-to-ready (best)",
        ready_min.as_secs_f64() * 1000.0,
        "ms",
        30.0,
        true,
    );
    row("idle RSS", rss_mib, "MiB", 16.0, true);
    row("JWKS", jwks_rps, "req/s", 40_000.0, false);
    row("password grant", grant_rps, "tok/s", 8_000.0, false);
    // The machine is shared: throughput depends on what else runs. Server CPU time per request
    // does not, and gives the capacity of 2 dedicated cores (load generator elsewhere).
    let per_request = |cpu: f64, ok: u64| cpu / ok.max(1) as f64 * 1e6;
    let (jwks_us, grant_us) = (
        per_request(jwks_cpu, jwks_ok),
        per_request(grant_cpu, grant_ok),
    );
    println!(
        "server CPU per request: JWKS {jwks_us:.1} us (=> {:.0} req/s on 2 dedicated cores), \
         password grant {grant_us:.1} us (=> {:.0} tok/s on 2 dedicated cores)",
        2e6 / jwks_us,
        2e6 / grant_us
    );
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average during the run: {}", load.trim());
    }
    println!(
        "(failed requests: JWKS {jwks_failed}, grant {grant_failed}; RSS after load {loaded_rss_mib:.1} MiB; \
         ready times over {READY_RUNS} starts: {:?})",
        ready_times
            .iter()
            .map(|d| format!("{:.1}ms", d.as_secs_f64() * 1000.0))
            .collect::<Vec<_>>()
    );
}
