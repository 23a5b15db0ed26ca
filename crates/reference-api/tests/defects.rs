//! Each service-side seeded defect is observable over HTTP (and absent without its flag), and
//! verifier-side defects are passed through to the verifier.

// Test code: unwrap() is the assertion (clippy does not treat integration tests as test code).
#![allow(clippy::unwrap_used)]

mod support;

use std::num::NonZeroU32;
use std::time::Duration;

use serde_json::{Value, json};
use support::*;
use xauth_issuer::MintRequest;
use xauth_reference::{Config, Defects};

fn with(names: &'static [&'static str]) -> impl FnOnce(&mut Config) {
    move |c| c.defects = Defects::parse(names).unwrap()
}

fn small_limits(c: &mut Config) {
    c.subject_rate.limit = NonZeroU32::new(2).unwrap();
    c.subject_rate.window = Duration::from_secs(60);
    c.ip_rate.limit = NonZeroU32::new(2).unwrap();
    c.ip_rate.window = Duration::from_secs(60);
}

#[tokio::test]
async fn expired_as_unauthenticated() {
    let env = start(with(&["expired-as-unauthenticated"])).await;
    let (status, code, _) =
        error_code(env.get("/api/content", Some(&env.expired_token())).await).await;
    assert_eq!((status, code.as_str()), (401, "UNAUTHENTICATED"));
    env.shutdown().await;
}

#[tokio::test]
async fn forbidden_as_401() {
    let env = start(with(&["forbidden-as-401"])).await;
    let anon = env.token(json!({"role": "anon"}));
    let (status, code, _) = error_code(env.get("/api/content", Some(&anon)).await).await;
    assert_eq!((status, code.as_str()), (401, "UNAUTHENTICATED"));
    env.shutdown().await;
}

#[tokio::test]
async fn no_rate_limit() {
    let env = start(|c| {
        small_limits(c);
        c.defects = Defects::parse(["no-rate-limit"]).unwrap();
    })
    .await;
    let token = env.user_token();
    for _ in 0..6 {
        assert_eq!(env.get("/api/content", Some(&token)).await.status(), 200);
        assert_eq!(env.get("/api/content", None).await.status(), 401);
    }
    env.shutdown().await;
}

#[tokio::test]
async fn no_retry_after() {
    let env = start(|c| {
        small_limits(c);
        c.defects = Defects::parse(["no-retry-after"]).unwrap();
    })
    .await;
    let token = env.user_token();
    env.get("/api/content", Some(&token)).await;
    env.get("/api/content", Some(&token)).await;
    let resp = env.get("/api/content", Some(&token)).await;
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().get("retry-after").is_none());
    env.shutdown().await;
}

#[tokio::test]
async fn rate_limit_unverified_sub_lets_forgeries_throttle_the_victim() {
    let env = start(|c| {
        small_limits(c);
        c.defects = Defects::parse(["rate-limit-unverified-sub"]).unwrap();
    })
    .await;
    let victim = "victim-1";
    for _ in 0..3 {
        env.get("/api/content", Some(&bad_signature(&env.token_for(victim))))
            .await;
    }
    let (status, code, _) =
        error_code(env.get("/api/content", Some(&env.token_for(victim))).await).await;
    assert_eq!((status, code.as_str()), (429, "RATE_LIMITED"));
    env.shutdown().await;
}

#[tokio::test]
async fn garbage_500() {
    let env = start(with(&["garbage-500"])).await;
    let (status, code, _) = error_code(env.get("/api/content", Some("null")).await).await;
    assert_eq!((status, code.as_str()), (500, "INTERNAL_ERROR"));
    // Well-formed tokens still behave.
    assert_eq!(
        env.get("/api/content", Some(&env.user_token()))
            .await
            .status(),
        200
    );
    env.shutdown().await;
}

#[tokio::test]
async fn proxy_drops_body_breaks_refresh() {
    let env = start(with(&["proxy-drops-body"])).await;
    let anon = env.issuer.info().anon_key;
    let post = |grant: &'static str, body: Value| {
        env.http
            .post(env.url(&format!("/api/auth/v1/token?grant_type={grant}")))
            .header("apikey", &anon)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    let resp = post("password", json!({"email": EMAIL, "password": PASSWORD}))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let session: Value = resp.json().await.unwrap();
    let resp = post(
        "refresh_token",
        json!({"refresh_token": session["refresh_token"]}),
    )
    .await
    .unwrap();
    assert_eq!(
        resp.status(),
        400,
        "the refresh grant arrives without its body"
    );
    env.shutdown().await;
}

#[tokio::test]
async fn verifier_defects_are_passed_to_the_verifier() {
    let env = start(with(&["alg-none"])).await;
    let unsigned = alg_none(&env.user_token());
    assert_eq!(env.get("/api/content", Some(&unsigned)).await.status(), 200);
    let token = env.token(json!({"role": "service_role"}));
    let stats: Value = env
        .get("/api/admin/stats", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stats["data"]["defects"], json!(["alg-none"]));
    env.shutdown().await;
}

/// The same requests without any defect: the correct answers (so each test above fails on a
/// correct server).
#[tokio::test]
async fn without_defects_every_probe_is_answered_correctly() {
    let env = start(small_limits).await;
    let (s, c, _) = error_code(env.get("/api/content", Some(&env.expired_token())).await).await;
    assert_eq!((s, c.as_str()), (401, "TOKEN_EXPIRED"));
    let anon = env.token(json!({"role": "anon"}));
    assert_eq!(env.get("/api/content", Some(&anon)).await.status(), 403);
    let (s, c, _) = error_code(env.get("/api/content", Some("null")).await).await;
    assert_eq!((s, c.as_str()), (401, "UNAUTHENTICATED"));
    let (s, _, _) = error_code(env.get("/api/content", None).await).await;
    assert_eq!(s, 429, "the IP budget of 2 is spent by the two 401s above");
    env.clock.advance(Duration::from_secs(60));
    let unsigned = alg_none(&env.user_token());
    assert_eq!(env.get("/api/content", Some(&unsigned)).await.status(), 401);
    let victim = "victim-2";
    for _ in 0..3 {
        env.get("/api/content", Some(&bad_signature(&env.token_for(victim))))
            .await;
    }
    assert_eq!(
        env.get("/api/content", Some(&env.token_for(victim)))
            .await
            .status(),
        200
    );
    let token = env.user_token();
    env.get("/api/content", Some(&token)).await;
    env.get("/api/content", Some(&token)).await;
    let resp = env.get("/api/content", Some(&token)).await;
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().get("retry-after").is_some());
    env.shutdown().await;
}

/// `bearer`, `BEARER`: the scheme is case-insensitive (RFC 7235 §2.1).
const OTHER_CASES: [&str; 3] = ["bearer", "BEARER", "bEaReR"];

#[tokio::test]
async fn scheme_case_sensitive() {
    let env = start(with(&["scheme-case-sensitive"])).await;
    let token = env.user_token();
    for scheme in OTHER_CASES {
        let resp = env
            .get_with("/api/content", &format!("{scheme} {token}"))
            .await;
        let (status, code, _) = error_code(resp).await;
        assert_eq!(
            (status, code.as_str()),
            (401, "UNAUTHENTICATED"),
            "{scheme}"
        );
    }
    // The exact scheme still works.
    assert_eq!(
        env.get_with("/api/content", &format!("Bearer {token}"))
            .await
            .status(),
        200
    );
    env.shutdown().await;
}

/// A valid ES256 token whose `sub` claim is `sub` (`null`: no `sub` at all).
fn token_with_sub(env: &Env, sub: Value) -> String {
    env.token(json!({ "sub": sub }))
}

#[tokio::test]
async fn accept_missing_sub_is_passed_to_the_verifier() {
    let env = start(with(&["accept-missing-sub"])).await;
    for sub in [Value::Null, json!(""), json!(42)] {
        let resp = env
            .get("/api/content", Some(&token_with_sub(&env, sub.clone())))
            .await;
        assert_eq!(resp.status(), 200, "sub {sub}");
    }
    env.shutdown().await;
}

/// A valid legacy HS256 token with `iss` set to `iss` (`null`: no `iss` at all).
fn hs256_with_iss(env: &Env, iss: Value) -> String {
    env.hs256_token(json!({ "iss": iss }))
}

#[tokio::test]
async fn hs256_skips_iss_is_passed_to_the_verifier() {
    let env = start(with(&["hs256-skips-iss"])).await;
    for iss in [Value::Null, json!("https://evil.example/auth/v1")] {
        let resp = env
            .get("/api/content", Some(&hs256_with_iss(&env, iss.clone())))
            .await;
        assert_eq!(resp.status(), 200, "HS256 with iss {iss}");
    }
    // ES256 and RS256 keep the iss check.
    let evil = json!({"iss": "https://evil.example/auth/v1"});
    let es = env.token(evil.clone());
    let rs = env.rs256_token(evil).await;
    for t in [es, rs] {
        let (status, code, _) = error_code(env.get("/api/content", Some(&t)).await).await;
        assert_eq!((status, code.as_str()), (401, "UNAUTHENTICATED"));
    }
    env.shutdown().await;
}

/// A valid ES256 token (current key) whose header names the unknown kid `kid`.
fn unknown_kid(env: &Env, kid: &str) -> String {
    env.mint(MintRequest {
        header: Some(as_map(json!({ "kid": kid }))),
        ..Default::default()
    })
}

/// Warms the API's JWKS cache, then sends `n` tokens with distinct unknown kids and returns how
/// many JWKS fetches the issuer saw meanwhile.
async fn unknown_kid_flood(env: &Env, n: usize) -> u64 {
    assert_eq!(
        env.get("/api/content", Some(&env.user_token()))
            .await
            .status(),
        200
    );
    env.issuer.reset_counters();
    for i in 0..n {
        let t = unknown_kid(env, &format!("flood-{i}"));
        let (status, _, _) = error_code(env.get("/api/content", Some(&t)).await).await;
        assert_eq!(status, 401);
    }
    env.issuer.counters().jwks_fetches
}

#[tokio::test]
async fn jwks_cooldown_per_kid_is_passed_to_the_verifier() {
    let env = start(with(&["jwks-cooldown-per-kid"])).await;
    let fetches = unknown_kid_flood(&env, 12).await;
    assert!(
        fetches >= 12,
        "one fetch per distinct unknown kid, got {fetches}"
    );
    // The same unknown kid again is within its own cooldown.
    env.issuer.reset_counters();
    for _ in 0..5 {
        env.get("/api/content", Some(&unknown_kid(&env, "flood-0")))
            .await;
    }
    assert_eq!(env.issuer.counters().jwks_fetches, 0);
    env.shutdown().await;
}

/// The probes of the four defects above on a correct server: the correct answers.
#[tokio::test]
async fn without_defects_the_newer_probes_are_answered_correctly() {
    let env = start(|_| {}).await;
    let token = env.user_token();
    for scheme in OTHER_CASES {
        let resp = env
            .get_with("/api/content", &format!("{scheme} {token}"))
            .await;
        assert_eq!(resp.status(), 200, "{scheme}");
    }
    for sub in [Value::Null, json!(""), json!(42)] {
        let (status, code, _) = error_code(
            env.get("/api/content", Some(&token_with_sub(&env, sub.clone())))
                .await,
        )
        .await;
        assert_eq!(
            (status, code.as_str()),
            (401, "UNAUTHENTICATED"),
            "sub {sub}"
        );
    }
    for iss in [Value::Null, json!("https://evil.example/auth/v1")] {
        let (status, code, _) = error_code(
            env.get("/api/content", Some(&hs256_with_iss(&env, iss.clone())))
                .await,
        )
        .await;
        assert_eq!(
            (status, code.as_str()),
            (401, "UNAUTHENTICATED"),
            "iss {iss}"
        );
    }
    let fetches = unknown_kid_flood(&env, 12).await;
    assert!(fetches <= 1, "a global cooldown: got {fetches} fetches");
    env.shutdown().await;
}

/// Every catalogue row a defect declares (the mutation gate counts only failures of those rows)
/// is a heading of `docs/catalogue.md` and tagged on at least one scenario of `features/`, so
/// no defect declares rows that could never catch it.
#[test]
fn every_declared_row_is_a_catalogue_row_with_scenarios() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let catalogue = std::fs::read_to_string(root.join("docs/catalogue.md")).unwrap();
    let mut tagged = String::new();
    for entry in std::fs::read_dir(root.join("features")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "feature") {
            tagged.push_str(&std::fs::read_to_string(path).unwrap());
        }
    }
    let is_tag = |row: &str| {
        tagged
            .match_indices(&format!("@{row}"))
            .any(|(i, m)| !tagged[i + m.len()..].starts_with(|c: char| c.is_ascii_alphanumeric()))
    };
    for d in xauth_reference::defects::registry() {
        assert!(!d.rows.is_empty(), "{} declares no rows", d.name);
        for row in d.rows {
            if *row == "properties" {
                continue;
            }
            assert!(
                catalogue.contains(&format!("\n## {row} ")),
                "{}: {row} is not a heading of docs/catalogue.md",
                d.name
            );
            assert!(is_tag(row), "{}: no scenario is tagged @{row}", d.name);
        }
    }
}
