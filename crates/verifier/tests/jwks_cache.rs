//! The JWKS cache against a wiremock issuer (the third party): TTL, rotation, cooldown under a
//! flood, stale-if-error, timeout, redirects, size cap. Time moves on a fake clock, never by sleep.
// Tests assert with unwrap.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use xauth_verifier::{JwksError, JwksPolicy, Rejection};

fn policy() -> JwksPolicy {
    JwksPolicy {
        fetch_timeout: Duration::from_secs(2),
        ..JwksPolicy::default()
    }
}

async fn serve(server: &MockServer, template: ResponseTemplate) {
    server.reset().await;
    Mock::given(method("GET"))
        .and(path(JWKS_PATH))
        .respond_with(template)
        .mount(server)
        .await;
}

fn ok(jwks: &Value, max_age: Option<u64>) -> ResponseTemplate {
    let t = ResponseTemplate::new(200).set_body_json(jwks);
    match max_age {
        Some(a) => t.insert_header("cache-control", format!("max-age={a}").as_str()),
        None => t,
    }
}

fn one_key() -> Value {
    json!({"keys":[ec_jwk(&keys().ec, "ec-1")]})
}

fn token_for(fx: &Fixture, kid: &str) -> String {
    let k = keys();
    let kp = if kid == "ec-1" { &k.ec } else { &k.ec2 };
    jwt(
        &json!({"alg":"ES256","kid":kid,"typ":"JWT"}),
        &fx.claims(),
        Signer::Es256(kp),
    )
}

#[tokio::test]
async fn cold_cache_fetches_once_and_caches() {
    let fx = fixture().await;
    let t = fx.es256(&fx.claims());
    for _ in 0..5 {
        fx.verifier.verify(&t).await.unwrap();
    }
    assert_eq!(fx.verifier.jwks_fetch_count(), 1);
    assert_eq!(fx.jwks_hits().await, 1);
    // HS256 never touches the JWKS.
    let fx2 = fixture().await;
    fx2.verifier
        .verify(&fx2.hs256(&fx2.claims()))
        .await
        .unwrap();
    assert_eq!(fx2.jwks_hits().await, 0);
}

#[tokio::test]
async fn concurrent_cold_start_is_single_flight() {
    let fx = fixture().await;
    let t = fx.es256(&fx.claims());
    let results = futures::future::join_all((0..50).map(|_| fx.verifier.verify(&t))).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(fx.jwks_hits().await, 1);
}

#[tokio::test]
async fn rotation_picked_up_after_one_refetch() {
    let server = MockServer::start().await;
    serve(&server, ok(&one_key(), Some(600))).await;
    let fx = fixture_on(server, |c| c.jwks_cache(policy()));
    fx.verifier.refresh_jwks().await.unwrap();
    assert_eq!(fx.verifier.jwks_fetch_count(), 1);
    // The issuer publishes a new key; the cached set does not have it yet.
    let rotated = json!({"keys":[ec_jwk(&keys().ec, "ec-1"), ec_jwk(&keys().ec2, "ec-2")]});
    serve(&fx.server, ok(&rotated, Some(600))).await;
    fx.clock.advance(31); // past the cooldown since the warm-up fetch
    fx.verifier.verify(&token_for(&fx, "ec-2")).await.unwrap();
    assert_eq!(fx.verifier.jwks_fetch_count(), 2);
    fx.verifier.verify(&token_for(&fx, "ec-2")).await.unwrap();
    fx.verifier.verify(&token_for(&fx, "ec-1")).await.unwrap();
    assert_eq!(fx.verifier.jwks_fetch_count(), 2);
}

#[tokio::test]
async fn revoked_key_rejected_after_max_age() {
    let server = MockServer::start().await;
    let both = json!({"keys":[ec_jwk(&keys().ec, "ec-1"), ec_jwk(&keys().ec2, "ec-2")]});
    serve(&server, ok(&both, Some(120))).await;
    let fx = fixture_on(server, |c| c.jwks_cache(policy()));
    let t2 = token_for(&fx, "ec-2");
    fx.verifier.verify(&t2).await.unwrap();
    serve(&fx.server, ok(&one_key(), Some(120))).await;
    fx.clock.advance(119);
    fx.verifier.verify(&t2).await.unwrap(); // still cached
    assert_eq!(fx.verifier.jwks_fetch_count(), 1);
    fx.clock.advance(1);
    let t2 = token_for(&fx, "ec-2");
    assert_eq!(fx.verifier.verify(&t2).await, Err(Rejection::UnknownKid));
    assert_eq!(fx.verifier.jwks_fetch_count(), 2);
}

#[tokio::test]
async fn max_age_is_clamped_to_policy_bounds() {
    for (max_age, fresh_until) in [
        (Some(1), 30),
        (Some(100_000), 600),
        (None, 300),
        (Some(45), 45),
    ] {
        let server = MockServer::start().await;
        serve(&server, ok(&one_key(), max_age)).await;
        let fx = fixture_on(server, |c| c.jwks_cache(policy()));
        let t = token_for(&fx, "ec-1");
        fx.verifier.verify(&t).await.unwrap();
        fx.clock.advance(fresh_until - 1);
        let t = token_for(&fx, "ec-1");
        fx.verifier.verify(&t).await.unwrap();
        assert_eq!(fx.verifier.jwks_fetch_count(), 1, "{max_age:?}");
        fx.clock.advance(1);
        let t = token_for(&fx, "ec-1");
        fx.verifier.verify(&t).await.unwrap();
        assert_eq!(fx.verifier.jwks_fetch_count(), 2, "{max_age:?}");
    }
}

#[tokio::test]
async fn a39_cooldown_holds_under_a_flood_of_unknown_kids() {
    let fx = fixture().await;
    let valid = fx.es256(&fx.claims());
    fx.verifier.verify(&valid).await.unwrap();
    let k = keys();
    let forged: Vec<String> = (0..200)
        .map(|i| {
            jwt(
                &json!({"alg":"ES256","kid":format!("random-{i}"),"typ":"JWT"}),
                &fx.claims(),
                Signer::Es256(&k.attacker_ec),
            )
        })
        .collect();
    let results = futures::future::join_all(forged.iter().map(|t| fx.verifier.verify(t))).await;
    assert!(results.iter().all(|r| *r == Err(Rejection::UnknownKid)));
    // One warm-up fetch plus at most one refetch for the whole flood.
    assert!(
        fx.jwks_hits().await <= 2,
        "{} fetches",
        fx.jwks_hits().await
    );
    // A second wave within the cooldown fetches nothing.
    let before = fx.jwks_hits().await;
    fx.clock.advance(29);
    for t in forged.iter().take(50) {
        assert_eq!(fx.verifier.verify(t).await, Err(Rejection::UnknownKid));
    }
    assert_eq!(fx.jwks_hits().await, before);
    // The valid token is still accepted, from the cache.
    fx.verifier.verify(&valid).await.unwrap();
    assert_eq!(fx.jwks_hits().await, before);
    // After the cooldown one refetch is allowed again.
    fx.clock.advance(1);
    assert_eq!(
        fx.verifier.verify(&forged[0]).await,
        Err(Rejection::UnknownKid)
    );
    assert_eq!(fx.jwks_hits().await, before + 1);
}

#[tokio::test]
async fn issuer_down_keeps_cached_keys_until_max_stale() {
    let server = MockServer::start().await;
    serve(&server, ok(&one_key(), Some(60))).await;
    let fx = fixture_on(server, |c| {
        c.jwks_cache(JwksPolicy {
            max_stale: Duration::from_secs(600),
            ..policy()
        })
    });
    fx.verifier.verify(&token_for(&fx, "ec-1")).await.unwrap();
    for status in [500, 404] {
        serve(&fx.server, ResponseTemplate::new(status)).await;
        assert_eq!(
            fx.verifier.refresh_jwks().await,
            Err(JwksError::Status(status))
        );
    }
    serve(
        &fx.server,
        ResponseTemplate::new(200).set_body_string("{not json"),
    )
    .await;
    assert_eq!(fx.verifier.refresh_jwks().await, Err(JwksError::Malformed));
    serve(
        &fx.server,
        ResponseTemplate::new(200).set_body_json(json!({"nokeys":1})),
    )
    .await;
    assert_eq!(fx.verifier.refresh_jwks().await, Err(JwksError::Malformed));
    serve(&fx.server, ResponseTemplate::new(503)).await;
    // Expired but within max_stale: the cached key still verifies.
    fx.clock.advance(61);
    fx.verifier.verify(&token_for(&fx, "ec-1")).await.unwrap();
    let after_expiry = fx.verifier.jwks_fetch_count();
    // Failed refreshes back off for the cooldown instead of hammering the issuer.
    for _ in 0..10 {
        fx.verifier.verify(&token_for(&fx, "ec-1")).await.unwrap();
    }
    assert_eq!(fx.verifier.jwks_fetch_count(), after_expiry);
    // An uncached kid is refused (quickly).
    assert_eq!(
        fx.verifier.verify(&token_for(&fx, "ec-2")).await,
        Err(Rejection::UnknownKid)
    );
    // Past expiry + max_stale the stale set is dropped.
    fx.clock.advance(600);
    assert_eq!(
        fx.verifier.verify(&token_for(&fx, "ec-1")).await,
        Err(Rejection::KeysUnavailable)
    );
    // The issuer comes back: keys return after one fetch.
    serve(&fx.server, ok(&one_key(), Some(60))).await;
    fx.clock.advance(30);
    fx.verifier.verify(&token_for(&fx, "ec-1")).await.unwrap();
}

#[tokio::test]
async fn cold_cache_with_issuer_down_backs_off() {
    let server = MockServer::start().await;
    serve(&server, ResponseTemplate::new(500)).await;
    let fx = fixture_on(server, |c| c.jwks_cache(policy()));
    let t = token_for(&fx, "ec-1");
    assert_eq!(
        fx.verifier.verify(&t).await,
        Err(Rejection::KeysUnavailable)
    );
    assert_eq!(
        fx.verifier.verify(&t).await,
        Err(Rejection::KeysUnavailable)
    );
    assert_eq!(fx.jwks_hits().await, 1);
    fx.clock.advance(30);
    serve(&fx.server, ok(&one_key(), None)).await;
    fx.verifier.verify(&token_for(&fx, "ec-1")).await.unwrap();
    assert_eq!(fx.verifier.jwks_fetch_count(), 2);
}

#[tokio::test]
async fn slow_issuer_times_out() {
    let server = MockServer::start().await;
    serve(
        &server,
        ok(&one_key(), None).set_delay(Duration::from_secs(10)),
    )
    .await;
    let fx = fixture_on(server, |c| {
        c.jwks_cache(JwksPolicy {
            fetch_timeout: Duration::from_millis(300),
            ..JwksPolicy::default()
        })
    });
    let started = Instant::now();
    assert_eq!(fx.verifier.refresh_jwks().await, Err(JwksError::Timeout));
    fx.clock.advance(30);
    assert_eq!(
        fx.verifier.verify(&token_for(&fx, "ec-1")).await,
        Err(Rejection::KeysUnavailable)
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn redirect_is_not_followed() {
    let elsewhere = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ok(&one_key(), None))
        .expect(0)
        .mount(&elsewhere)
        .await;
    let server = MockServer::start().await;
    let target = format!("{}/jwks.json", elsewhere.uri());
    serve(
        &server,
        ResponseTemplate::new(302).insert_header("location", target.as_str()),
    )
    .await;
    let fx = fixture_on(server, |c| c.jwks_cache(policy()));
    assert_eq!(
        fx.verifier.refresh_jwks().await,
        Err(JwksError::Status(302))
    );
    fx.clock.advance(30);
    assert_eq!(
        fx.verifier.verify(&token_for(&fx, "ec-1")).await,
        Err(Rejection::KeysUnavailable)
    );
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn oversized_jwks_refused() {
    let mut big = one_key();
    big["padding"] = json!("p".repeat(2048));
    let server = MockServer::start().await;
    serve(&server, ok(&big, None)).await;
    let fx = fixture_on(server, |c| {
        c.jwks_cache(JwksPolicy {
            max_bytes: 1024,
            ..policy()
        })
    });
    assert_eq!(
        fx.verifier.refresh_jwks().await,
        Err(JwksError::TooLarge(1024))
    );
    // The same document under the cap is fine.
    serve(&fx.server, ok(&one_key(), None)).await;
    fx.verifier.refresh_jwks().await.unwrap();
    fx.verifier.verify(&token_for(&fx, "ec-1")).await.unwrap();
}

#[tokio::test]
async fn key_count_is_capped() {
    let k = keys();
    let mut entries: Vec<Value> = (0..5)
        .map(|i| ec_jwk(&k.attacker_ec, &format!("filler-{i}")))
        .collect();
    entries.push(ec_jwk(&k.ec, "ec-1"));
    let server = MockServer::start().await;
    serve(&server, ok(&json!({"keys": entries}), None)).await;
    let fx = fixture_on(server, |c| {
        c.jwks_cache(JwksPolicy {
            max_keys: 5,
            ..policy()
        })
    });
    assert_eq!(
        fx.verifier.verify(&token_for(&fx, "ec-1")).await,
        Err(Rejection::UnknownKid)
    );
}

#[tokio::test]
async fn unusable_entries_do_not_spoil_the_set() {
    let k = keys();
    let jwks = json!({"keys":[
        {"kty":"oct","kid":"oct","k":"c2VjcmV0"},
        {"kty":"EC","kid":"broken","crv":"P-256","x":"!!","y":"??"},
        {"kty":"OKP","kid":"ed","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
        ec_jwk(&k.ec, "ec-1")
    ]});
    let fx = fixture_with(&jwks, |c| c.jwks_cache(policy())).await;
    fx.verifier.verify(&token_for(&fx, "ec-1")).await.unwrap();
}
