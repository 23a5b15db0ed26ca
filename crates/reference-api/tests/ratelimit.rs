//! Rate limiting over real HTTP: per verified subject, per client IP for everything else, resets
//! driven by a fake clock (no sleeping), and forged floods that cannot throttle their victim.

// Test code: unwrap() is the assertion (clippy does not treat integration tests as test code).
#![allow(clippy::unwrap_used)]

mod support;

use std::num::NonZeroU32;
use std::time::Duration;

use serde_json::json;
use support::*;

fn limits(subject: u32, ip: u32, window_secs: u64) -> impl FnOnce(&mut xauth_reference::Config) {
    move |c| {
        c.subject_rate.limit = NonZeroU32::new(subject).unwrap();
        c.subject_rate.window = Duration::from_secs(window_secs);
        c.ip_rate.limit = NonZeroU32::new(ip).unwrap();
        c.ip_rate.window = Duration::from_secs(window_secs);
    }
}

#[tokio::test]
async fn subject_budget_runs_out_then_resets() {
    let env = start(limits(3, 100, 60)).await;
    let token = env.token_for("subject-a");
    for remaining in [2, 1, 0] {
        let resp = env.get("/api/content", Some(&token)).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers()["ratelimit"],
            format!("\"sub\";r={remaining};t={}", (3 - remaining) * 20).as_str()
        );
    }
    let resp = env.get("/api/content", Some(&token)).await;
    insta::assert_snapshot!("rate_limited_subject", render(resp).await);

    // GCRA: one unit comes back every window/limit = 20 s.
    env.clock.advance(Duration::from_secs(19));
    assert_eq!(env.get("/api/content", Some(&token)).await.status(), 429);
    env.clock.advance(Duration::from_secs(1));
    assert_eq!(env.get("/api/content", Some(&token)).await.status(), 200);
    assert_eq!(env.get("/api/content", Some(&token)).await.status(), 429);
    // After a full window the whole burst is back.
    env.clock.advance(Duration::from_secs(60));
    for _ in 0..3 {
        assert_eq!(env.get("/api/content", Some(&token)).await.status(), 200);
    }
    env.shutdown().await;
}

#[tokio::test]
async fn subjects_are_isolated() {
    let env = start(limits(2, 100, 60)).await;
    let a = env.token_for("subject-a");
    let b = env.token_for("subject-b");
    for _ in 0..2 {
        assert_eq!(env.get("/api/content", Some(&a)).await.status(), 200);
    }
    assert_eq!(env.get("/api/content", Some(&a)).await.status(), 429);
    // Another token of the same subject shares the budget; another subject does not.
    let a2 = env.token_for("subject-a");
    assert_eq!(env.get("/api/content", Some(&a2)).await.status(), 429);
    assert_eq!(env.get("/api/content", Some(&b)).await.status(), 200);
    assert_eq!(env.get("/api/content", Some(&b)).await.status(), 200);
    env.shutdown().await;
}

#[tokio::test]
async fn requests_without_a_valid_token_spend_the_ip_budget() {
    let env = start(limits(100, 4, 60)).await;
    let forged = bad_signature(&env.user_token());
    let expired = env.expired_token();
    // Missing, forged and expired tokens all count against the IP.
    assert_eq!(env.get("/api/content", None).await.status(), 401);
    assert_eq!(env.get("/api/content", Some(&forged)).await.status(), 401);
    assert_eq!(env.get("/api/content", Some(&expired)).await.status(), 401);
    assert_eq!(env.get("/api/content", Some("garbage")).await.status(), 401);
    let resp = env.get("/api/content", Some(&forged)).await;
    insta::assert_snapshot!("rate_limited_ip", render(resp).await);
    // X-Forwarded-For is not trusted: a spoofed client address does not buy a fresh budget.
    let resp = env
        .http
        .get(env.url("/api/content"))
        .header("x-forwarded-for", "203.0.113.7")
        .header("x-real-ip", "203.0.113.8")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    // Valid tokens from the same IP are not affected (they spend their subject's budget).
    assert_eq!(
        env.get("/api/content", Some(&env.user_token()))
            .await
            .status(),
        200
    );
    // The health route is never limited.
    assert_eq!(env.get("/health", None).await.status(), 200);
    env.clock.advance(Duration::from_secs(15));
    assert_eq!(env.get("/api/content", None).await.status(), 401);
    env.shutdown().await;
}

#[tokio::test]
async fn a_forged_flood_naming_the_victim_does_not_throttle_the_victim() {
    let env = start(limits(3, 1000, 60)).await;
    let victim = "victim-0000";
    let victim_token = env.token_for(victim);
    // Forgeries: the victim's sub with a bad signature, alg none, a foreign issuer.
    let forged = [
        bad_signature(&env.token_for(victim)),
        alg_none(&env.token_for(victim)),
        with_payload(
            &env.user_token(),
            &json!({"sub": victim, "role": "authenticated"}),
        ),
    ];
    for i in 0..30 {
        let resp = env.get("/api/content", Some(&forged[i % 3])).await;
        assert_eq!(resp.status(), 401);
    }
    for _ in 0..3 {
        assert_eq!(
            env.get("/api/content", Some(&victim_token)).await.status(),
            200
        );
    }
    env.shutdown().await;
}

#[tokio::test]
async fn rate_limit_applies_before_the_policy() {
    let env = start(limits(1, 100, 60)).await;
    let anon = env.token(json!({"role": "anon", "sub": "anon-1"}));
    assert_eq!(env.get("/api/content", Some(&anon)).await.status(), 403);
    let (status, code, _) = error_code(env.get("/api/content", Some(&anon)).await).await;
    assert_eq!((status, code.as_str()), (429, "RATE_LIMITED"));
    env.shutdown().await;
}

#[tokio::test]
async fn retry_after_is_at_least_one_second_on_short_windows() {
    let env = start(limits(50, 100, 1)).await;
    let token = env.token_for("fast");
    for _ in 0..50 {
        assert_eq!(env.get("/api/content", Some(&token)).await.status(), 200);
    }
    let resp = env.get("/api/content", Some(&token)).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "1");
    assert_eq!(resp.headers()["ratelimit"], "\"sub\";r=0;t=1");
    env.shutdown().await;
}
