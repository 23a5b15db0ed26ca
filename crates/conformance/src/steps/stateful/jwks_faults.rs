//! JWKS faults (`features/jwks_resilience.feature`, A41): the issuer's JWKS fails, hangs or
//! redirects; answers stay prompt and correct, and new keys are picked up once it recovers.

use std::time::{Duration, Instant};

use cucumber::{then, when};
use serde_json::Map;

use super::issuer_state::{Want, create_key, poll_kid};
use super::{
    FAULT_RESPONSE_BOUND, LONG_REQUEST_TIMEOUT, MARGIN, cache_ttl, cooldown, current_kid,
    derived_wait, is_accepted, is_error, jwks_fetches, mint_fresh, protected_url,
    same_source_client, send_bearer, unknown_kid_tokens,
};
use crate::net::control::KeyAlg;
use crate::scenario::params::JwksFault;
use crate::scenario::world::XauthWorld;

/// How much longer than two declared cooldowns a newly published key may take to be accepted
/// once the JWKS recovers: the margin plus one fault-bounded attempt (the feature's "plus 20
/// seconds").
pub const RECOVERY_SLACK: Duration =
    Duration::from_secs(MARGIN.as_secs() + FAULT_RESPONSE_BOUND.as_secs());

/// The one answer a single request during a JWKS fault must get.
#[derive(Debug, Clone, Copy)]
enum FaultAnswer {
    /// 2xx.
    Accepted,
    /// 401 UNAUTHENTICATED.
    Unauthenticated,
    /// 2xx or 401 UNAUTHENTICATED: a key no longer confirmed by the JWKS may fail closed.
    AcceptedOrFailedClosed,
}

#[when(expr = "the issuer's JWKS starts to {jwks_fault}")]
async fn inject_fault(w: &mut XauthWorld, fault: JwksFault) {
    let body = match fault {
        JwksFault::Malformed => serde_json::json!({"kind": "malformed"}),
        JwksFault::Drop => serde_json::json!({"kind": "drop"}),
        JwksFault::RedirectToAttacker => {
            let location = w.attacker().await.url("/jwks.json");
            serde_json::json!({"kind": "redirect", "location": location})
        }
        JwksFault::DelaySeconds(secs) => serde_json::json!({"kind": "delay", "ms": secs * 1000}),
        JwksFault::Status(status) => serde_json::json!({"kind": "status", "status": status}),
    };
    if let Err(e) = w.issuer.set_jwks_fault(&body).await {
        w.harness_error(e);
    }
}

#[when(regex = r"^the issuer's JWKS serves normally again$")]
async fn clear_fault(w: &mut XauthWorld) {
    if let Err(e) = w.issuer.clear_jwks_fault().await {
        w.harness_error(e);
    }
}

/// Sends one token through a long-timeout client and requires `want` within the fault bound.
async fn answered_within_bound(w: &mut XauthWorld, token: String, want: FaultAnswer, what: &str) {
    let client = same_source_client(w, LONG_REQUEST_TIMEOUT).await;
    let ex = send_bearer(&client, protected_url(w), &token).await;
    let ok = match want {
        FaultAnswer::Accepted => is_accepted(&ex),
        FaultAnswer::Unauthenticated => is_error(w, &ex, 401, "UNAUTHENTICATED"),
        FaultAnswer::AcceptedOrFailedClosed => {
            is_accepted(&ex) || is_error(w, &ex, 401, "UNAUTHENTICATED")
        }
    } && ex.elapsed <= FAULT_RESPONSE_BOUND;
    w.exchanges.push(ex);
    if !ok {
        w.fail(
            &format!(
                "{what} within {} s while the issuer's JWKS fails (never a 5xx, never a hang)",
                FAULT_RESPONSE_BOUND.as_secs()
            ),
            &[],
        );
    }
}

#[when(regex = r"^the implementation has requested the failing JWKS$")]
async fn until_fault_fetched(w: &mut XauthWorld) {
    let bound = derived_wait(w, "jwks.refetch_cooldown_seconds", 2 * cooldown(w)).await
        + FAULT_RESPONSE_BOUND;
    let client = same_source_client(w, LONG_REQUEST_TIMEOUT).await;
    let url = protected_url(w);
    let f0 = jwks_fetches(w).await;
    let start = Instant::now();
    loop {
        let token = unknown_kid_tokens(w, 1).await.pop().unwrap_or_default();
        let ex = send_bearer(&client, url.clone(), &token).await;
        let ok = (is_error(w, &ex, 401, "UNAUTHENTICATED")
            || is_error(w, &ex, 429, "RATE_LIMITED"))
            && ex.elapsed <= FAULT_RESPONSE_BOUND;
        if !ok {
            w.exchanges.push(ex);
            w.fail(&format!(
                    "401 UNAUTHENTICATED within {} s for a token with an unknown kid while the issuer's JWKS fails (never a 5xx, never a hang)",
                    FAULT_RESPONSE_BOUND.as_secs()
                ),
                &[],
            );
        }
        if jwks_fetches(w).await > f0 {
            w.exchanges.push(ex);
            return;
        }
        if start.elapsed() >= bound {
            w.exchanges.push(ex);
            w.fail(&format!(
                    "the implementation requests the issuer's JWKS within two declared cooldowns ({} s each) plus {} s when tokens name unknown kids (no request reached the issuer in {:.1} s)",
                    cooldown(w).as_secs(),
                    MARGIN.as_secs() + FAULT_RESPONSE_BOUND.as_secs(),
                    start.elapsed().as_secs_f64()
                ),
                &[],
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[then(regex = r"^a token signed by the issuer's current ES256 key is accepted within 15 seconds$")]
async fn current_within_bound(w: &mut XauthWorld) {
    let kid = current_kid(w, "ES256").await;
    let token = mint_fresh(w, &kid, Map::new()).await;
    // Before the request: if the declared TTL has run out since the issuer last served the
    // key set normally, the implementation may fail closed (unless it declares stale-if-error).
    let may_fail_closed = !w.ctx.profile.jwks.serves_stale_on_error
        && match w.issuer.jwks_last_served_unix_ms().await {
            Ok(Some(ms)) => {
                let served = std::time::UNIX_EPOCH + Duration::from_millis(ms);
                let age = std::time::SystemTime::now()
                    .duration_since(served)
                    .unwrap_or_default();
                age + Duration::from_secs(1) >= cache_ttl(w)
            }
            Ok(None) => true,
            Err(e) => w.harness_error(e),
        };
    if may_fail_closed {
        answered_within_bound(
            w,
            token,
            FaultAnswer::AcceptedOrFailedClosed,
            &format!(
                "2xx (the cached key {kid}), or 401 UNAUTHENTICATED since the declared cache TTL ({} s) has passed since the issuer last served the key set and the profile does not declare jwks.serves_stale_on_error",
                cache_ttl(w).as_secs()
            ),
        )
        .await;
    } else {
        answered_within_bound(
            w,
            token,
            FaultAnswer::Accepted,
            &format!(
                "2xx for a token signed by the cached key {kid} (the declared cache TTL has not run out since the issuer last served the key set{})",
                if w.ctx.profile.jwks.serves_stale_on_error {
                    ", and the profile declares jwks.serves_stale_on_error"
                } else {
                    ""
                }
            ),
        )
        .await;
    }
}

#[then(regex = r"^a token with an unknown kid is answered 401 UNAUTHENTICATED within 15 seconds$")]
async fn unknown_within_bound(w: &mut XauthWorld) {
    let token = unknown_kid_tokens(w, 1).await.pop().unwrap_or_default();
    answered_within_bound(
        w,
        token,
        FaultAnswer::Unauthenticated,
        "401 UNAUTHENTICATED for a token with an unknown kid",
    )
    .await;
}

#[then(
    regex = r"^a token signed by the attacker's key with the kid of the attacker's JWKS is answered 401 UNAUTHENTICATED within 15 seconds$"
)]
async fn attacker_kid_within_bound(w: &mut XauthWorld) {
    let payload = super::genuine_payload(w).await;
    let header =
        serde_json::json!({"alg": "ES256", "kid": w.attacker_kid, "typ": "JWT"}).to_string();
    let jws = crate::forge::jws::Jws::from_texts(&header, &payload);
    let sig = match crate::forge::sign::attacker_sign("ES256", jws.signing_input().as_bytes()) {
        Ok(s) => s,
        Err(e) => w.harness_error(e),
    };
    let token = jws.with_signature_bytes(&sig).compact();
    answered_within_bound(
        w,
        token,
        FaultAnswer::Unauthenticated,
        "401 UNAUTHENTICATED for a token signed by the key served at the redirect target (a redirect of the JWKS must not be followed)",
    )
    .await;
}

#[then(
    regex = r"^a token signed by a newly published ES256 key is accepted within two declared cooldowns plus 20 seconds$"
)]
async fn recovers(w: &mut XauthWorld) {
    let kid = create_key(w, KeyAlg::Es256).await;
    let bound = derived_wait(w, "jwks.refetch_cooldown_seconds", 2 * cooldown(w)).await
        + FAULT_RESPONSE_BOUND;
    let client = same_source_client(w, LONG_REQUEST_TIMEOUT).await;
    let p = poll_kid(
        w,
        &client,
        &kid,
        Want::Accepted,
        bound,
        Duration::from_millis(200),
    )
    .await;
    // the key was only a probe: take it out of the JWKS again
    let revoked = w.issuer.revoke(&kid).await;
    if !p.reached {
        w.fail(&format!(
                "once the issuer's JWKS serves normally again, a token signed by a newly published key ({kid}) accepted within two declared cooldowns ({} s each) plus {} s ({} requests over {:.1} s were refused)",
                cooldown(w).as_secs(),
                RECOVERY_SLACK.as_secs(),
                p.requests,
                p.elapsed.as_secs_f64()
            ),
            &[],
        );
    }
    if let Err(e) = revoked {
        w.harness_error(e);
    }
}
