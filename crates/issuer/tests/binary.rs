//! The `xauth-issuer` binary: start-up summary (text and `--json`), seeded users from flags
//! and files, graceful SIGTERM, and clear errors for bad arguments.
// Tests assert with unwrap.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_xauth-issuer");

struct Proc {
    child: Child,
    stdout: BufReader<std::process::ChildStdout>,
}

impl Proc {
    fn spawn(args: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env_remove("SUPABASE_JWT_SECRET")
            .env_remove("XAUTH_ISSUER_LISTEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Self { child, stdout }
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        line
    }

    /// SIGTERM, then wait (bounded) for a clean exit.
    fn terminate(self) -> std::process::ExitStatus {
        self.signal("-TERM")
    }

    /// Sends `signal` (e.g. `-INT`), then waits (bounded) for the exit.
    fn signal(mut self, signal: &str) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args([signal, &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "no exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn run_to_exit(args: &[&str]) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env_remove("SUPABASE_JWT_SECRET")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (child.wait().unwrap(), stderr)
}

#[tokio::test]
async fn json_summary_then_serving_then_graceful_sigterm() {
    let dir = std::env::temp_dir().join(format!("xauth-bin-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let users = dir.join("users.txt");
    std::fs::write(&users, "# seeded\n\nbob@example.com:bob-password-1\n").unwrap();
    let users_arg = users.to_str().unwrap();
    let mut proc = Proc::spawn(&[
        "--json",
        "--user",
        "alice@example.com:alice-password-1",
        "--users-file",
        users_arg,
        "--jwks-max-age",
        "5",
        "--access-token-ttl",
        "120",
    ]);
    let summary: Value = serde_json::from_str(&proc.line()).unwrap();
    let base = summary["API_URL"].as_str().unwrap().to_string();
    assert_eq!(summary["AUTH_URL"], format!("{base}/auth/v1"));
    assert_eq!(
        summary["JWKS_URL"],
        format!("{base}/auth/v1/.well-known/jwks.json")
    );
    assert_eq!(
        summary["JWT_SECRET"],
        "super-secret-jwt-token-with-at-least-32-characters-long"
    );
    let anon = summary["ANON_KEY"].as_str().unwrap();
    assert!(summary["SERVICE_ROLE_KEY"].is_string());

    let http = reqwest::Client::new();
    let health = http
        .get(format!("{base}/auth/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let jwks = http
        .get(summary["JWKS_URL"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.headers()["cache-control"], "public, max-age=5");
    for (email, password) in [
        ("alice@example.com", "alice-password-1"),
        ("bob@example.com", "bob-password-1"),
    ] {
        let resp = http
            .post(format!("{base}/auth/v1/token?grant_type=password"))
            .header("apikey", anon)
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{email}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["expires_in"], 120);
    }
    let status = proc.terminate();
    assert!(status.success(), "{status:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn text_summary_looks_like_supabase_status() {
    let mut proc = Proc::spawn(&[]);
    let mut text = String::new();
    while !text.contains("service_role key") {
        let line = proc.line();
        assert!(!line.is_empty(), "summary ended early: {text}");
        text.push_str(&line);
    }
    for label in [
        "API URL: http://127.0.0.1:",
        "Auth URL:",
        "JWKS URL:",
        "JWT secret:",
        "anon key: eyJ",
        "service_role key: eyJ",
    ] {
        assert!(text.contains(label), "{label} in {text}");
    }
    // Ctrl-C right after the summary is a clean shutdown too.
    assert!(proc.signal("-INT").success());
}

#[test]
fn bad_arguments_exit_nonzero_with_a_message() {
    for (args, needle) in [
        (vec!["--user", "no-colon"], "EMAIL:PASSWORD"),
        (vec!["--jwt-secret", "short"], "at least 32 bytes"),
        (
            vec!["--users-file", "/nonexistent/users.txt"],
            "/nonexistent/users.txt",
        ),
        (vec!["--access-token-ttl", "0"], "TTL"),
        (vec!["--user", "not-an-email:password1"], "email"),
        (
            vec!["--oauth-auto-approve", "nobody@example.com"],
            "nobody@example.com",
        ),
    ] {
        let (status, stderr) = run_to_exit(&args);
        assert!(!status.success(), "{args:?}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[tokio::test]
async fn oauth_flags_set_auto_approve_and_the_access_token_hook() {
    let mut proc = Proc::spawn(&[
        "--json",
        "--user",
        "dev@example.com:dev-password-1",
        "--oauth-auto-approve",
        "DEV@example.com",
        "--oauth-access-token-hook",
    ]);
    let summary: Value = serde_json::from_str(&proc.line()).unwrap();
    let base = summary["API_URL"].as_str().unwrap().to_string();
    let key = summary["SERVICE_ROLE_KEY"].as_str().unwrap();
    let settings: Value = reqwest::Client::new()
        .get(format!("{base}/_control/v1/oauth"))
        .header("apikey", key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(settings["access_token_hook"], true, "{settings}");
    assert!(settings["auto_approve_user_id"].is_string(), "{settings}");
    assert!(proc.terminate().success());
}
