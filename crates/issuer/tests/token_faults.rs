//! Faults on the token endpoint over real HTTP: the auth server looks down or broken to every
//! grant, before the apikey check, and recovers when the fault runs out or is cleared.
// Tests assert with unwrap.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::*;
use xauth_issuer::{Fault, FaultKind, FaultRoute};

async fn inject_token_fault(run: &Harness, fault: Value) {
    let resp = run.control_post("/faults/token", Some(fault.clone())).await;
    assert_eq!(resp.status(), 204, "inject {fault}");
}

async fn password_grant(
    run: &Harness,
    client: &reqwest::Client,
) -> reqwest::Result<reqwest::Response> {
    client
        .post(run.url("/auth/v1/token?grant_type=password"))
        .header("apikey", &run.anon_key)
        .json(&json!({"email": SEED_EMAIL, "password": SEED_PASSWORD}))
        .send()
        .await
}

#[tokio::test]
async fn a_token_drop_fault_closes_the_connection_and_leaves_the_jwks_alone() {
    let run = start_seeded().await;
    inject_token_fault(&run, json!({"kind": "drop"})).await;
    for _ in 0..2 {
        let err = password_grant(&run, &reqwest::Client::new())
            .await
            .unwrap_err();
        assert!(err.status().is_none(), "no HTTP status at all: {err}");
    }
    // Refresh grants fail the same way: the fault is on the route, not on one grant.
    let err = reqwest::Client::new()
        .post(run.url("/auth/v1/token?grant_type=refresh_token"))
        .header("apikey", &run.anon_key)
        .json(&json!({"refresh_token": "abcdefghijkl"}))
        .send()
        .await
        .unwrap_err();
    assert!(err.status().is_none(), "{err}");
    // Only the token endpoint is down.
    assert_eq!(
        run.http.get(run.jwks_url()).send().await.unwrap().status(),
        200
    );
    let faults = run.control_json("/faults").await;
    assert_eq!(faults["faults"]["token"]["kind"], "drop");
    assert_eq!(faults["faults"]["jwks"], Value::Null);
    let resp = run.control_delete("/faults/token").await;
    assert_eq!(resp.status(), 204);
    assert_eq!(password_grant(&run, &run.http).await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_token_status_fault_answers_before_the_apikey_check_then_runs_out() {
    let run = start_seeded().await;
    inject_token_fault(&run, json!({"kind": "status", "status": 503, "count": 2})).await;
    // Even without an apikey: a server that is down does not check keys.
    let resp = run
        .http
        .post(run.url("/auth/v1/token?grant_type=password"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    let resp = password_grant(&run, &run.http).await.unwrap();
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error_code"], "injected_fault");
    assert!(body.get("access_token").is_none());
    // Ran out: the grant works, and the apikey check is back.
    assert_eq!(password_grant(&run, &run.http).await.unwrap().status(), 200);
    let resp = run
        .http
        .post(run.url("/auth/v1/token?grant_type=password"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn a_token_malformed_fault_serves_a_truncated_token_response() {
    let run = start_seeded().await;
    inject_token_fault(&run, json!({"kind": "malformed", "count": 1})).await;
    let resp = password_grant(&run, &run.http).await.unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(text.starts_with(r#"{"access_token":"#), "{text}");
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    assert_eq!(password_grant(&run, &run.http).await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_token_delay_fault_delays_then_answers_normally() {
    let run = start_seeded().await;
    run.issuer
        .inject_fault(
            FaultRoute::Token,
            Fault::times(FaultKind::Delay { ms: 300 }, 1),
        )
        .unwrap();
    let started = Instant::now();
    let resp = password_grant(&run, &run.http).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(body["access_token"].is_string());
}

#[tokio::test]
async fn clearing_all_faults_clears_every_route_and_unknown_routes_are_404() {
    let run = start_seeded().await;
    inject_token_fault(&run, json!({"kind": "status", "status": 500})).await;
    let resp = run
        .control_post(
            "/faults/jwks",
            Some(json!({"kind": "status", "status": 500})),
        )
        .await;
    assert_eq!(resp.status(), 204);
    let resp = run.control_delete("/faults").await;
    assert_eq!(resp.status(), 204);
    assert_eq!(password_grant(&run, &run.http).await.unwrap().status(), 200);
    assert_eq!(
        run.http.get(run.jwks_url()).send().await.unwrap().status(),
        200
    );
    let faults = run.control_json("/faults").await;
    assert_eq!(faults["faults"], json!({"jwks": null, "token": null}));
    for path in ["/faults/user", "/faults/JWKS", "/faults/"] {
        let resp = run.control_post(path, Some(json!({"kind": "drop"}))).await;
        assert_eq!(resp.status(), 404, "{path}");
    }
    // The in-process handle clears every route too.
    run.issuer
        .inject_fault(FaultRoute::Token, Fault::new(FaultKind::Drop))
        .unwrap();
    run.issuer.clear_faults();
    assert_eq!(password_grant(&run, &run.http).await.unwrap().status(), 200);
}
