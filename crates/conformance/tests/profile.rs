//! Profile parsing: the shipped profile, defaults, and one-line errors naming file, line and
//! field (insta snapshots).

// Test code: unwrap() is the assertion (clippy does not treat integration tests as test code).
#![allow(clippy::unwrap_used)]

use std::path::Path;

use xauth_conformance::profile::{Profile, RateLimitKeying};

#[test]
fn the_shipped_profile_equals_the_defaults() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/profiles/xentropy.toml");
    let p = Profile::load(&path).unwrap();
    assert_eq!(p, Profile::default());
    insta::assert_snapshot!("default_profile", p.to_toml_string());
}

#[test]
fn every_field_can_be_set() {
    let p = Profile::from_toml_str(
        r#"
name = "my-api"
error_code_pointer = "/code"
leeway_seconds = 30
legacy_hs256 = false
[routes]
protected = "/v1/me"
readiness = "/ready"
auth_proxy = ""
[routes.permission]
path = "/v1/admin"
grant_claims = { app_metadata = { admin = true } }
lack_claims = { app_metadata = { admin = false } }
[jwks]
cache_ttl_max_seconds = 60
refetch_cooldown_seconds = 5
max_fetches_per_minute = 10
serves_stale_on_error = true
[rate_limit]
enabled = true
requests = 10
window_seconds = 1
keying = "ip"
[strict]
rfc6750_headers = false
[reference]
args = ["--leeway", "30"]
"#,
        "p.toml",
    )
    .unwrap();
    assert_eq!(p.name, "my-api");
    assert_eq!(p.error_code_pointer.as_str(), "/code");
    assert_eq!(p.leeway_seconds, 30);
    assert!(!p.legacy_hs256);
    assert_eq!(p.routes.protected.as_str(), "/v1/me");
    assert_eq!(p.routes.readiness.as_str(), "/ready");
    assert_eq!(p.routes.auth_proxy, None);
    assert_eq!(
        p.routes.permission.grant_claims["app_metadata"]["admin"],
        true
    );
    assert_eq!(p.jwks.cache_ttl_max_seconds.get(), 60);
    assert_eq!(p.jwks.refetch_cooldown_seconds, 5);
    assert_eq!(p.jwks.max_fetches_per_minute.map(|n| n.get()), Some(10));
    assert!(p.jwks.serves_stale_on_error);
    assert_eq!(p.rate_limit.requests.get(), 10);
    assert_eq!(p.rate_limit.keying, RateLimitKeying::Ip);
    // [rate_limit] given without [rate_limit.ip]: the per-IP default stays.
    assert!(p.rate_limit.ip.enabled);
    assert_eq!(p.rate_limit.ip.requests.get(), 600);
    assert!(!p.strict.rfc6750_headers);
    assert_eq!(p.reference.args, ["--leeway", "30"]);
    // The error pointer reads the code out of a body.
    let body = serde_json::json!({"code": "UNAUTHENTICATED"});
    assert_eq!(
        p.error_code_pointer.lookup(&body).unwrap(),
        "UNAUTHENTICATED"
    );
}

#[test]
fn errors_name_file_line_and_field() {
    let cases = [
        ("unknown top-level field", "leeway = 5\n"),
        (
            "unknown nested field",
            "[routes]\nprotected = \"/a\"\nprotectd = \"/x\"\n",
        ),
        ("wrong type", "[rate_limit]\nrequests = \"many\"\n"),
        ("zero requests", "[rate_limit]\n\nrequests = 0\n"),
        ("negative leeway", "leeway_seconds = -1\n"),
        (
            "leeway above the cap",
            "name = \"x\"\nleeway_seconds = 301\n",
        ),
        ("route without slash", "[routes]\nreadiness = \"health\"\n"),
        ("route with space", "[routes.permission]\npath = \"/a b\"\n"),
        ("bad pointer", "error_code_pointer = \"error.code\"\n"),
        ("unknown keying", "[rate_limit]\nkeying = \"user\"\n"),
        (
            "claims not a table",
            "[routes.permission]\ngrant_claims = \"admin\"\n",
        ),
        ("syntax error", "[routes\nprotected = \"/a\"\n"),
        (
            "spawn is not a profile field",
            "[spawn]\ncommand = \"node server.js\"\n",
        ),
    ];
    let rendered: Vec<String> = cases
        .iter()
        .map(|(what, text)| {
            let err = Profile::from_toml_str(text, "p.toml")
                .unwrap_err()
                .to_string();
            assert!(!err.contains('\n'), "{what}: multi-line error {err:?}");
            format!("{what}: {err}")
        })
        .collect();
    insta::assert_snapshot!("profile_errors", rendered.join("\n"));
}

#[test]
fn unreadable_and_oversized_files_are_errors() {
    let err = Profile::load(Path::new("/nonexistent/p.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("/nonexistent/p.toml: cannot read profile:"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.toml");
    std::fs::write(&big, "#".repeat(300 * 1024)).unwrap();
    let err = Profile::load(&big).unwrap_err().to_string();
    assert!(err.contains("larger than"), "{err}");
}

#[test]
fn the_fast_profile_names_the_reference_flags_it_describes() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/profiles/reference-fast.toml");
    let p = Profile::load(&path).unwrap();
    let args = &p.reference.args;
    // each declared value that differs from the reference's defaults has its flag
    let flag = |name: &str| {
        let i = args
            .iter()
            .position(|a| a == name)
            .unwrap_or_else(|| panic!("{name}: {args:?}"));
        args[i + 1].parse::<u64>().unwrap()
    };
    assert_eq!(flag("--jwks-ttl-max"), p.jwks.cache_ttl_max_seconds.get());
    assert_eq!(flag("--jwks-cooldown"), p.jwks.refetch_cooldown_seconds);
    assert_eq!(flag("--rate-limit"), u64::from(p.rate_limit.requests.get()));
    assert_eq!(flag("--rate-window"), p.rate_limit.window_seconds.get());
    assert_eq!(
        flag("--ip-rate-limit"),
        u64::from(p.rate_limit.ip.requests.get())
    );
    assert_eq!(flag("--upstream-timeout"), p.auth_proxy_timeout_seconds);
    // [reference] is not part of what the runner serializes for the default profile
    assert!(!Profile::default().to_toml_string().contains("[reference]"));
    assert!(
        Profile::from_toml_str("[reference]\nargz = []\n", "p.toml")
            .unwrap_err()
            .to_string()
            .contains("reference.argz")
    );
}
