//! The control API over real HTTP: authentication, info, counters, JWKS faults, mint, clock.
//! (Past 500 lines: one file per API keeps the test binaries, each linking the whole issuer, few.)
// Tests assert with unwrap.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use support::*;
use xauth_issuer::{Fault, FaultKind};

const CONTROL_ROUTES: [(&str, &str); 18] = [
    ("GET", "/info"),
    ("GET", "/keys"),
    ("POST", "/keys"),
    ("POST", "/keys/rotate"),
    ("POST", "/keys/some-kid/revoke"),
    ("POST", "/keys/some-kid/standby"),
    ("POST", "/mint"),
    ("GET", "/counters"),
    ("POST", "/counters/reset"),
    ("POST", "/faults/jwks"),
    ("DELETE", "/faults/jwks"),
    ("POST", "/faults/token"),
    ("DELETE", "/faults/token"),
    ("GET", "/faults"),
    ("DELETE", "/faults"),
    ("GET", "/clock"),
    ("POST", "/clock"),
    ("GET", "/no-such-route"),
];

#[tokio::test]
async fn every_control_route_needs_the_service_role_key() {
    let run = start_seeded().await;
    let keys_before = run.issuer.keys().await;
    for (method, path) in CONTROL_ROUTES {
        let url = run.url(&format!("/_control/v1{path}"));
        let method: reqwest::Method = method.parse().unwrap();
        for auth in [
            None,
            Some(("apikey", run.anon_key.clone())),
            Some(("authorization", format!("Bearer {}", run.anon_key))),
            Some(("apikey", "garbage".into())),
        ] {
            let mut req = run.http.request(method.clone(), &url).body("{}");
            if let Some((name, value)) = &auth {
                req = req.header(*name, value);
            }
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 401, "{method} {path} with {auth:?}");
            assert_eq!(resp.headers()["x-sb-error-code"], "no_authorization");
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["code"], 401);
        }
    }
    // Nothing changed.
    assert_eq!(run.issuer.keys().await, keys_before);
    // The new envelope when asked for it.
    let resp = run
        .http
        .get(run.url("/_control/v1/info"))
        .header("x-supabase-api-version", "2024-01-01")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["code"],
        "no_authorization"
    );
    // Both accepted forms of the key work; an unknown route with the key is a 404.
    assert_eq!(run.control_get("/info").await.status(), 200);
    let resp = run
        .http
        .get(run.url("/_control/v1/info"))
        .bearer_auth(&run.service_key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(run.control_get("/no-such-route").await.status(), 404);
}

#[tokio::test]
async fn info_lists_urls_and_keys() {
    let run = start_seeded().await;
    let info: xauth_issuer::IssuerInfo = run.control_get("/info").await.json().await.unwrap();
    assert_eq!(info, run.issuer.info());
    assert_eq!(info.api_url, run.base);
    assert_eq!(info.auth_url, format!("{}/auth/v1", run.base));
    assert_eq!(info.issuer, info.auth_url);
    assert_eq!(
        info.jwks_url,
        format!("{}/auth/v1/.well-known/jwks.json", run.base)
    );
    assert_eq!(info.jwt_secret, xauth_issuer::keys::DEFAULT_JWT_SECRET);
}

#[tokio::test]
async fn counters_count_and_reset() {
    let run = start_seeded().await;
    for _ in 0..3 {
        run.jwks_text().await;
    }
    run.http
        .get(run.url("/auth/v1/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    run.password_grant().await;
    let bad = run
        .http
        .post(run.url("/auth/v1/token?grant_type=password"))
        .header("apikey", &run.anon_key)
        .json(&json!({"email": SEED_EMAIL, "password": "wrong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let counters = run.control_json("/counters").await;
    assert_eq!(counters["jwks_fetches"], 3);
    assert_eq!(counters["openid_config_fetches"], 1);
    assert_eq!(counters["grants"]["password"], 1);
    assert_eq!(counters["grants"]["refresh_token"], 0);
    assert_eq!(counters["grant_failures"], 1);
    assert_eq!(counters["signups"], 0);
    assert_eq!(counters["requests"], 7); // 3 + 1 + 2 grants + this GET
    let resp = run.control_post("/counters/reset", None).await;
    assert_eq!(resp.status(), 204);
    let counters = run.control_json("/counters").await;
    assert_eq!(counters["jwks_fetches"], 0);
    assert_eq!(counters["grants"]["password"], 0);
    assert_eq!(counters["requests"], 1, "only this GET since the reset");
    assert_eq!(run.issuer.counters().requests, 1);
    run.issuer.reset_counters();
    assert_eq!(run.issuer.counters(), Default::default());
}

fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[tokio::test]
async fn jwks_last_served_is_the_wall_clock_of_the_last_clean_jwks_answer() {
    let run = start_seeded().await;
    let counters = run.control_json("/counters").await;
    assert_eq!(
        counters.get("jwks_last_served_unix_ms"),
        Some(&Value::Null),
        "present and null before any fetch: {counters}"
    );
    assert_eq!(run.issuer.counters().jwks_last_served_unix_ms, None);

    // The issuer's test clock is a day ahead; the stamp is real time all the same.
    let resp = run
        .control_post("/clock", Some(json!({"offset_seconds": 86_400})))
        .await;
    assert_eq!(resp.status(), 200);
    let before = wall_ms();
    let resp = run.http.get(run.jwks_url()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let after = wall_ms();
    let served = run.control_json("/counters").await["jwks_last_served_unix_ms"]
        .as_u64()
        .expect("a number after a clean fetch");
    assert!(
        (before..=after).contains(&served),
        "{before} <= {served} <= {after}"
    );
    assert_eq!(run.issuer.counters().jwks_last_served_unix_ms, Some(served));

    // Faulted answers never stamp it: after a reset it stays null through every fault kind.
    let resp = run.control_post("/counters/reset", None).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(
        run.control_json("/counters").await["jwks_last_served_unix_ms"],
        Value::Null,
        "reset clears it"
    );
    for fault in [
        json!({"kind": "status", "status": 503, "count": 1}),
        json!({"kind": "malformed", "count": 1}),
        json!({"kind": "redirect", "location": "http://127.0.0.1:9/x.json", "count": 1}),
        json!({"kind": "delay", "ms": 1, "count": 1}),
        json!({"kind": "drop", "count": 1}),
    ] {
        inject(&run, fault.clone()).await;
        // A fresh client, so a dropped connection does not affect the next request.
        let _ = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(run.jwks_url())
            .send()
            .await;
        let counters = run.control_json("/counters").await;
        assert_eq!(
            counters["jwks_last_served_unix_ms"],
            Value::Null,
            "{fault} stamped it: {counters}"
        );
    }
    assert_eq!(
        run.issuer.counters().jwks_fetches,
        5,
        "every faulted fetch arrived"
    );

    // A clean answer stamps it again; a later faulted one leaves that stamp alone.
    run.jwks_text().await;
    let served = run
        .issuer
        .counters()
        .jwks_last_served_unix_ms
        .expect("stamped");
    assert!(served >= after);
    inject(&run, json!({"kind": "status", "status": 500})).await;
    let resp = run.http.get(run.jwks_url()).send().await.unwrap();
    assert_eq!(resp.status(), 500);
    assert_eq!(run.issuer.counters().jwks_last_served_unix_ms, Some(served));
    run.issuer.reset_counters();
    assert_eq!(run.issuer.counters().jwks_last_served_unix_ms, None);
}

async fn inject(run: &Harness, fault: Value) {
    let resp = run.control_post("/faults/jwks", Some(fault.clone())).await;
    assert_eq!(resp.status(), 204, "inject {fault}");
}

#[tokio::test]
async fn status_fault_for_n_requests_then_normal() {
    let run = start_seeded().await;
    inject(&run, json!({"kind": "status", "status": 503, "count": 2})).await;
    for _ in 0..2 {
        let resp = run.http.get(run.jwks_url()).send().await.unwrap();
        assert_eq!(resp.status(), 503);
        assert!(resp.json::<Value>().await.unwrap().get("keys").is_none());
    }
    let resp = run.http.get(run.jwks_url()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        run.issuer.counters().jwks_fetches,
        3,
        "faulted fetches count too"
    );
}

#[tokio::test]
async fn fault_until_cleared_and_replacement() {
    let run = start_seeded().await;
    inject(&run, json!({"kind": "status", "status": 500})).await;
    let active = run.control_json("/faults/jwks").await;
    assert_eq!(active["fault"]["kind"], "status");
    for _ in 0..5 {
        assert_eq!(
            run.http.get(run.jwks_url()).send().await.unwrap().status(),
            500
        );
    }
    // A new fault replaces the old one.
    inject(&run, json!({"kind": "status", "status": 429})).await;
    assert_eq!(
        run.http.get(run.jwks_url()).send().await.unwrap().status(),
        429
    );
    let resp = run.control_delete("/faults/jwks").await;
    assert_eq!(resp.status(), 204);
    assert_eq!(
        run.http.get(run.jwks_url()).send().await.unwrap().status(),
        200
    );
    assert_eq!(run.control_json("/faults/jwks").await["fault"], Value::Null);
}

#[tokio::test]
async fn malformed_fault_serves_unparseable_json() {
    let run = start_seeded().await;
    inject(&run, json!({"kind": "malformed", "count": 1})).await;
    let resp = run.http.get(run.jwks_url()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let text = resp.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    assert!(serde_json::from_str::<Value>(&run.jwks_text().await).is_ok());
}

#[tokio::test]
async fn drop_fault_closes_the_connection_without_a_response() {
    let run = start_seeded().await;
    inject(&run, json!({"kind": "drop", "count": 2})).await;
    for _ in 0..2 {
        // A fresh client each time, so the failure is not a reused-connection artefact.
        let client = reqwest::Client::new();
        let err = client.get(run.jwks_url()).send().await.unwrap_err();
        assert!(err.status().is_none(), "no HTTP status at all: {err}");
        assert!(
            err.is_request() || err.is_connect() || err.is_body(),
            "{err:?}"
        );
    }
    // The server keeps serving; the same client recovers.
    assert_eq!(
        run.http.get(run.jwks_url()).send().await.unwrap().status(),
        200
    );
    // Also with the in-process handle and until cleared.
    run.issuer
        .inject_jwks_fault(Fault::new(FaultKind::Drop))
        .unwrap();
    assert!(reqwest::get(run.jwks_url()).await.is_err());
    assert!(reqwest::get(run.jwks_url()).await.is_err());
    run.issuer.clear_jwks_faults();
    assert_eq!(reqwest::get(run.jwks_url()).await.unwrap().status(), 200);
}

#[tokio::test]
async fn delay_fault_delays_then_answers() {
    let run = start_seeded().await;
    inject(&run, json!({"kind": "delay", "ms": 300, "count": 1})).await;
    let started = Instant::now();
    let resp = run.http.get(run.jwks_url()).send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(resp.status(), 200);
    // A client with a shorter timeout sees a timeout.
    inject(&run, json!({"kind": "delay", "ms": 5000, "count": 1})).await;
    let err = run
        .http
        .get(run.jwks_url())
        .timeout(Duration::from_millis(100))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout());
}

#[tokio::test]
async fn redirect_fault_sends_a_302() {
    let run = start_seeded().await;
    let target = "http://127.0.0.1:9/elsewhere.json";
    inject(
        &run,
        json!({"kind": "redirect", "location": target, "count": 1}),
    )
    .await;
    let resp = run.http.get(run.jwks_url()).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(resp.headers()["location"], target);
    assert_eq!(
        run.http.get(run.jwks_url()).send().await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn bad_fault_requests_are_refused() {
    let run = start_seeded().await;
    for bad in [
        json!({"kind": "status", "status": 99}),
        json!({"kind": "status", "status": 600}),
        json!({"kind": "status"}),
        json!({"kind": "delay", "ms": 10_000_000}),
        json!({"kind": "explode"}),
        json!({"kind": "drop", "count": 0}),
        json!({"kind": "redirect", "location": "bad\nvalue"}),
        json!({"kind": "redirect", "location": ""}),
        json!([1, 2]),
    ] {
        let resp = run.control_post("/faults/jwks", Some(bad.clone())).await;
        assert_eq!(resp.status(), 400, "{bad}");
        let code = resp.headers()["x-sb-error-code"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            code == "validation_failed" || code == "bad_json",
            "{bad}: {code}"
        );
    }
    let resp = run
        .http
        .post(run.url("/_control/v1/faults/jwks"))
        .header("apikey", &run.service_key)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.headers()["x-sb-error-code"], "bad_json");
    assert_eq!(
        run.http.get(run.jwks_url()).send().await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn mint_default_is_a_gotrue_access_token_signed_by_the_current_key() {
    let run = start_seeded().await;
    let minted = run.mint(json!({})).await;
    let token = minted["token"].as_str().unwrap();
    let header_text = segment_text(token, 0);
    let current = run
        .issuer
        .keys()
        .await
        .into_iter()
        .find(|k| k.state == xauth_issuer::KeyState::Current)
        .unwrap();
    assert_eq!(
        header_text,
        format!(r#"{{"alg":"ES256","kid":"{}","typ":"JWT"}}"#, current.kid)
    );
    let claims: Value = serde_json::from_str(&segment_text(token, 1)).unwrap();
    assert_eq!(claims, minted["claims"]);
    assert_eq!(minted["header"]["kid"], current.kid.as_str());
    // GoTrue's member order and values.
    let payload = segment_text(token, 1);
    let order: Vec<usize> = [
        "\"iss\"",
        "\"sub\"",
        "\"aud\"",
        "\"exp\"",
        "\"iat\"",
        "\"email\"",
        "\"phone\"",
        "\"app_metadata\"",
        "\"user_metadata\"",
        "\"role\"",
        "\"aal\"",
        "\"amr\"",
        "\"session_id\"",
        "\"is_anonymous\"",
    ]
    .iter()
    .map(|k| {
        payload
            .find(k)
            .unwrap_or_else(|| panic!("{k} in {payload}"))
    })
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{payload}");
    let now = run.issuer.clock().now;
    assert_eq!(claims["iss"], run.issuer.info().issuer.as_str());
    assert_eq!(claims["aud"], "authenticated");
    assert_eq!(claims["role"], "authenticated");
    assert_eq!(claims["aal"], "aal1");
    assert_eq!(claims["phone"], "");
    assert_eq!(claims["is_anonymous"], false);
    assert_eq!(claims["user_metadata"], json!({}));
    assert_eq!(
        claims["app_metadata"],
        json!({"provider": "email", "providers": ["email"]})
    );
    let iat = claims["iat"].as_i64().unwrap();
    assert!((now - 5..=now).contains(&iat));
    assert_eq!(claims["exp"].as_i64().unwrap(), iat + 3600);
    assert_eq!(
        claims["amr"],
        json!([{"method": "password", "timestamp": iat}])
    );
    uuid::Uuid::parse_str(claims["sub"].as_str().unwrap()).unwrap();
    uuid::Uuid::parse_str(claims["session_id"].as_str().unwrap()).unwrap();
    // Fresh subject and session each time.
    let again = run.mint(json!({})).await;
    assert_ne!(again["claims"]["sub"], claims["sub"]);
    assert_ne!(again["claims"]["session_id"], claims["session_id"]);
    verify_with_jwks(
        token,
        &run.jwks().await,
        Algorithm::ES256,
        &run.issuer.info().issuer,
    )
    .unwrap();
}

#[tokio::test]
async fn mint_merges_header_and_claims_with_null_removal() {
    let run = start_seeded().await;
    let minted = run
        .mint(json!({
            "header": {"typ": null, "jku": "https://evil.example/jwks.json", "kid": "other"},
            "claims": {"role": "service_role", "aal": null, "custom": {"a": [1, 2]}},
            "ttl": -60,
        }))
        .await;
    let token = minted["token"].as_str().unwrap();
    assert_eq!(
        segment_text(token, 0),
        r#"{"alg":"ES256","kid":"other","jku":"https://evil.example/jwks.json"}"#
    );
    let claims = &minted["claims"];
    assert_eq!(claims["role"], "service_role");
    assert!(claims.get("aal").is_none());
    assert_eq!(claims["custom"], json!({"a": [1, 2]}));
    assert_eq!(
        claims["exp"].as_i64().unwrap(),
        claims["iat"].as_i64().unwrap() - 60
    );
    assert!(segment_text(token, 1).ends_with(r#""custom":{"a":[1,2]}}"#));
}

#[tokio::test]
async fn mint_raw_texts_are_used_byte_for_byte() {
    let run = start_seeded().await;
    let header_raw = r#"{ "alg" : "ES256", "alg":"none", "x":"\u00e9" }"#;
    let claims_raw = "not json at all \u{1F600}";
    let minted = run
        .mint(json!({"header_raw": header_raw, "claims_raw": claims_raw}))
        .await;
    let token = minted["token"].as_str().unwrap();
    assert_eq!(segment_text(token, 0), header_raw);
    assert_eq!(segment_text(token, 1), claims_raw);
    assert_eq!(
        minted["claims"], claims_raw,
        "non-JSON text comes back as a string"
    );
    assert_eq!(minted["header"]["x"], "é");
    // The signature covers exactly those bytes: verify it by hand with the published key.
    let jwks = run.jwks().await;
    let kid = run.issuer.keys().await[0].kid.clone();
    let jwk = jwks.find(&kid).unwrap();
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let (input, sig) = token.rsplit_once('.').unwrap();
    assert!(jsonwebtoken::crypto::verify(sig, input.as_bytes(), &key, Algorithm::ES256).unwrap());
}

#[tokio::test]
async fn mint_with_every_key_and_algorithm() {
    let run = start_seeded().await;
    let keys = run.issuer.keys().await;
    let es = keys[0].kid.clone();
    let rs = keys[1].kid.clone();
    let jwks = run.jwks().await;
    let iss = run.issuer.info().issuer;

    // The standby RSA key by kid, with every RSA algorithm.
    for (alg, jwt_alg) in [
        ("RS256", Algorithm::RS256),
        ("RS384", Algorithm::RS384),
        ("RS512", Algorithm::RS512),
        ("PS256", Algorithm::PS256),
        ("PS384", Algorithm::PS384),
        ("PS512", Algorithm::PS512),
    ] {
        let minted = run.mint(json!({"key": rs, "alg": alg})).await;
        let token = minted["token"].as_str().unwrap();
        assert_eq!(minted["header"]["alg"], alg);
        assert_eq!(signature_len(token), 256);
        verify_with_jwks(token, &jwks, jwt_alg, &iss).unwrap();
    }
    // Default alg of an RSA key is RS256.
    let minted = run.mint(json!({"key": rs})).await;
    assert_eq!(minted["header"]["alg"], "RS256");

    // The legacy secret: HS256 by default (no kid, like GoTrue), also HS384/HS512.
    let secret = run.issuer.info().jwt_secret;
    for (alg, jwt_alg) in [
        ("HS256", Algorithm::HS256),
        ("HS384", Algorithm::HS384),
        ("HS512", Algorithm::HS512),
    ] {
        let body = if alg == "HS256" {
            json!({"key": "legacy"})
        } else {
            json!({"key": "legacy", "alg": alg})
        };
        let minted = run.mint(body).await;
        let token = minted["token"].as_str().unwrap();
        assert_eq!(
            segment_text(token, 0),
            format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#)
        );
        let mut validation = Validation::new(jwt_alg);
        validation.set_audience(&["authenticated"]);
        jsonwebtoken::decode::<Value>(
            token,
            &DecodingKey::from_secret(secret.as_bytes()),
            &validation,
        )
        .unwrap();
    }

    // A revoked key still signs (to forge tokens under it), but is no longer published.
    run.issuer.rotate(Some(&rs)).await.unwrap();
    run.issuer.revoke(&es).await.unwrap();
    let minted = run.mint(json!({"key": es})).await;
    assert_eq!(minted["header"]["kid"], es.as_str());
    assert!(run.jwks().await.find(&es).is_none());
    // "current" follows the rotation.
    let minted = run.mint(json!({"key": "current"})).await;
    assert_eq!(minted["header"]["kid"], rs.as_str());

    // template "empty": only what is given.
    let minted = run
        .mint(json!({"template": "empty", "claims": {"sub": "x"}}))
        .await;
    assert_eq!(
        segment_text(minted["token"].as_str().unwrap(), 1),
        r#"{"sub":"x"}"#
    );
    let minted = run.mint(json!({"template": "empty"})).await;
    assert_eq!(segment_text(minted["token"].as_str().unwrap(), 1), "{}");
}

#[tokio::test]
async fn mint_refuses_bad_requests() {
    let run = start_seeded().await;
    let rs = run.issuer.keys().await[1].kid.clone();
    let cases = [
        (json!({"key": "no-such-kid"}), 404),
        (json!({"alg": "RS256"}), 400),
        (json!({"alg": "HS256"}), 400),
        (json!({"key": rs, "alg": "ES256"}), 400),
        (json!({"key": "legacy", "alg": "RS256"}), 400),
        (json!({"alg": "none"}), 400),
        (json!({"header": {}, "header_raw": "{}"}), 400),
        (json!({"claims": {}, "claims_raw": "{}"}), 400),
        (json!({"template": "other"}), 400),
        (json!({"ttl": "soon"}), 400),
        (json!({"ttl": i64::MAX}), 400),
        (json!({"unknown_field": 1}), 400),
        (json!({"claims_raw": "x".repeat(70_000)}), 400),
        (json!({"claims": {"big": "x".repeat(70_000)}}), 400),
        (json!({"key": "k".repeat(300)}), 400),
    ];
    for (body, status) in cases {
        let resp = run.control_post("/mint", Some(body.clone())).await;
        assert_eq!(
            resp.status(),
            status,
            "{}",
            &body.to_string()[..body.to_string().len().min(80)]
        );
        let body: Value = resp.json().await.unwrap();
        assert!(body["msg"].is_string(), "GoTrue envelope: {body}");
    }
    // Over the 1 MiB body limit: 413 in GoTrue's envelope.
    let resp = run
        .http
        .post(run.url("/_control/v1/mint"))
        .header("apikey", &run.service_key)
        .body(vec![b' '; 1024 * 1024 + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    assert_eq!(
        resp.headers()["x-sb-error-code"],
        "request_entity_too_large"
    );
}

#[tokio::test]
async fn clock_offset_moves_issued_and_validated_time() {
    let run = start_seeded().await;
    let clock: Value = run.control_json("/clock").await;
    assert_eq!(clock["offset_seconds"], 0);
    let resp = run
        .control_post("/clock", Some(json!({"offset_seconds": 7200})))
        .await;
    assert_eq!(resp.status(), 200);
    let set: Value = resp.json().await.unwrap();
    assert_eq!(set["offset_seconds"], 7200);
    let real_now = chrono::Utc::now().timestamp();
    assert!((set["now"].as_i64().unwrap() - real_now - 7200).abs() <= 2);
    // Minted and granted tokens use the issuer's clock.
    let minted = run.mint(json!({})).await;
    assert!((minted["claims"]["iat"].as_i64().unwrap() - real_now - 7200).abs() <= 2);
    let access = run.password_grant().await;
    let claims: Value = serde_json::from_str(&segment_text(&access, 1)).unwrap();
    assert!((claims["iat"].as_i64().unwrap() - real_now - 7200).abs() <= 2);
    // A token minted now with ttl 60 is expired for the issuer 2 h later.
    run.control_post("/clock", Some(json!({"offset_seconds": 0})))
        .await;
    let short = run.mint(json!({"ttl": 60})).await;
    run.issuer.set_clock_offset(7200);
    let resp = run
        .http
        .get(run.url("/auth/v1/user"))
        .header("apikey", &run.anon_key)
        .bearer_auth(short["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(run.issuer.clock().offset_seconds, 7200);
    for bad in [
        json!({"offset_seconds": "1"}),
        json!({}),
        json!({"offset_seconds": i64::MAX}),
    ] {
        assert_eq!(run.control_post("/clock", Some(bad)).await.status(), 400);
    }
}

#[tokio::test]
async fn no_apikey_mode_still_protects_the_control_api() {
    let run = start_seeded_with(|b| b.require_apikey(false)).await;
    let resp = run
        .http
        .get(run.url("/_control/v1/keys"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = run
        .http
        .post(run.url("/auth/v1/token?grant_type=password"))
        .json(&json!({"email": SEED_EMAIL, "password": SEED_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}
