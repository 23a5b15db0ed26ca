//! The `xauth-reference` binary: `--list-defects`, exit 2 on bad configuration, the environment
//! contract, and graceful shutdown on SIGTERM.

// Test code: unwrap() is the assertion (clippy does not treat integration tests as test code).
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xauth-reference"));
    for var in ["PORT", "SUPABASE_URL", "SUPABASE_JWT_SECRET", "RUST_LOG"] {
        c.env_remove(var);
    }
    c
}

#[test]
fn list_defects_prints_every_name_with_a_description() {
    let out = bin().arg("--list-defects").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 49, "{text}");
    for name in [
        "pat-no-checksum",
        "pat-per-token-rate-limit",
        "alg-none",
        "jwks-no-cache",
        "accept-missing-sub",
        "hs256-skips-iss",
        "jwks-cooldown-per-kid",
        "scheme-case-sensitive",
        "garbage-500",
        "proxy-drops-body",
        "proxy-no-timeout",
        "proxy-down-500",
        "mcp-metadata-resource-mismatch",
        "mcp-origin-ignored",
    ] {
        let line = lines.iter().find(|l| l.starts_with(name)).unwrap();
        assert!(line.split_whitespace().count() > 4, "{line}");
    }
    // every defect names the catalogue rows that must catch it, in its third column
    for line in &lines {
        let rows = line.split_whitespace().nth(2).unwrap_or("");
        let rows = rows
            .strip_prefix("rows=")
            .unwrap_or_else(|| panic!("{line}"));
        assert!(
            rows.split(',').all(|r| r == "properties"
                || (r.len() == 3
                    && r.starts_with('A')
                    && r[1..].bytes().all(|b| b.is_ascii_digit()))),
            "{line}"
        );
    }
}

#[test]
fn bad_configuration_exits_2_with_a_clear_message() {
    let cases: [(&[&str], &str); 5] = [
        (&[], "SUPABASE_URL"),
        (
            &["--supabase-url", "http://127.0.0.1:1", "--defect", "bogus"],
            "valid names",
        ),
        (
            &["--supabase-url", "http://127.0.0.1:1", "--rate-limit", "0"],
            "--rate-limit",
        ),
        (&["--supabase-url", "ftp://x"], "SUPABASE_URL"),
        (
            &[
                "--supabase-url",
                "http://127.0.0.1:1",
                "--jwt-secret",
                "short",
            ],
            "32 bytes",
        ),
    ];
    for (args, needle) in cases {
        let out = bin().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // Not a number at all: clap's usage error, also 2.
    let out = bin()
        .args(["--supabase-url", "http://x", "--leeway", "soon"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn serves_from_the_environment_and_stops_gracefully_on_sigterm() {
    let mut child = bin()
        .env("SUPABASE_URL", "http://127.0.0.1:1")
        .env("PORT", "0")
        .env("RUST_LOG", "info")
        .arg("--defect")
        .arg("no-rate-limit")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut addr = None;
    let mut warned = false;
    let deadline = Instant::now() + Duration::from_secs(20);
    while addr.is_none() && Instant::now() < deadline {
        let Ok(line) = rx.recv_timeout(Duration::from_secs(1)) else {
            continue;
        };
        warned |= line.contains("SEEDED DEFECTS ARE ON");
        if let Some(i) = line.find("addr=") {
            addr = Some(line[i + 5..].split_whitespace().next().unwrap().to_owned());
        }
    }
    let addr = addr.expect("the server logs its address");
    assert!(warned, "a loud warning when defects are on");
    let health = std::net::TcpStream::connect(&addr).map(|mut s| {
        use std::io::{Read, Write};
        s.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .unwrap();
        let mut buf = String::new();
        s.read_to_string(&mut buf).unwrap();
        buf
    });
    assert!(health.unwrap().starts_with("HTTP/1.1 200"));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(code) = child.try_wait().unwrap() {
            assert!(code.success(), "exit {code:?}");
            break;
        }
        assert!(Instant::now() < deadline, "did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}
