//! Key rotation steps (`features/key_rotation.feature`, A40): a new key published or rotated
//! to, picked up within the declared cooldowns, the previous key still accepted, a revoked key
//! refused within the cache TTL.

use std::time::Duration;

use cucumber::{given, then, when};
use serde_json::Map;

use super::issuer_state::{Want, create_key, poll_kid};
use super::{
    MARGIN, allowed_fetches, cache_ttl, cooldown, current_kid, derived_wait, fetch_bound_words,
    is_accepted, mint_fresh, protected_url, send_bearer,
};
use crate::net::control::KeyAlg;
use crate::scenario::state::{KeyRole, PollResult};
use crate::scenario::world::XauthWorld;

fn kid_of(w: &XauthWorld, role: KeyRole) -> String {
    match w.state.rotation.kid(role) {
        Some(k) => k.to_owned(),
        None => w.harness_error(format!("no {role} key: a step must create one first")),
    }
}

#[given(regex = r"^the issuer publishes a new ES256 key as standby$")]
async fn publish_standby(w: &mut XauthWorld) {
    let kid = create_key(w, KeyAlg::Es256).await;
    w.state.rotation.new = Some(kid);
}

#[given(regex = r"^the issuer rotates to a new ES256 key$")]
async fn rotate(w: &mut XauthWorld) {
    let previous = current_kid(w, "ES256").await;
    let kid = create_key(w, KeyAlg::Es256).await;
    let rotated = match w.issuer.rotate(Some(&kid)).await {
        Ok(k) => k.kid,
        Err(e) => w.harness_error(e),
    };
    if rotated != kid {
        w.harness_error(format!(
            "the issuer rotated to {rotated}, not to the new key {kid}"
        ));
    }
    let rotation = &mut w.state.rotation;
    rotation.new = Some(kid);
    rotation.rollback = Some(previous.clone());
    rotation.previous = Some(previous);
}

async fn until_new_key_accepted(w: &mut XauthWorld) {
    let kid = kid_of(w, KeyRole::New);
    let bound = derived_wait(w, "jwks.refetch_cooldown_seconds", 2 * cooldown(w)).await;
    let client = w.http.clone();
    poll_kid(
        w,
        &client,
        &kid,
        Want::Accepted,
        bound,
        Duration::from_millis(100),
    )
    .await;
}

#[given(regex = r"^I send tokens signed by the new key until one is accepted$")]
async fn given_until_accepted(w: &mut XauthWorld) {
    until_new_key_accepted(w).await;
}

#[when(regex = r"^I send tokens signed by the new key until one is accepted$")]
async fn when_until_accepted(w: &mut XauthWorld) {
    until_new_key_accepted(w).await;
}

async fn last_poll(w: &XauthWorld) -> PollResult {
    match w.state.poll.clone() {
        Some(p) => p,
        None => w.harness_error("no poll ran before this step"),
    }
}

async fn new_key_was_accepted(w: &mut XauthWorld) {
    let p = last_poll(w).await;
    if !p.reached {
        let kid = kid_of(w, KeyRole::New);
        w.fail(&format!(
                "a token signed by the newly published key {kid} accepted within two declared cooldowns ({} s each, one failed fetch attempt tolerated) plus {} s: an unknown kid must make the implementation refetch the JWKS once the cooldown has passed ({} requests over {:.1} s were refused; the issuer served {} JWKS fetches meanwhile)",
                cooldown(w).as_secs(),
                MARGIN.as_secs(),
                p.requests,
                p.elapsed.as_secs_f64(),
                p.fetches
            ),
            &[],
        );
    }
}

#[given(
    regex = r"^a token signed by the new key was accepted within two declared cooldowns plus the margin$"
)]
async fn given_new_key_was_accepted(w: &mut XauthWorld) {
    new_key_was_accepted(w).await;
}

#[then(
    regex = r"^a token signed by the new key was accepted within two declared cooldowns plus the margin$"
)]
async fn then_new_key_was_accepted(w: &mut XauthWorld) {
    new_key_was_accepted(w).await;
}

#[then(
    regex = r"^the issuer served at most one JWKS fetch per declared cooldown meanwhile, plus cache refreshes$"
)]
async fn fetches_per_cooldown(w: &mut XauthWorld) {
    let p = last_poll(w).await;
    let allowed = allowed_fetches(w, p.elapsed);
    if p.fetches > allowed {
        w.fail(&format!(
                "at most {allowed} JWKS fetch(es) at the issuer while {} token(s) with the new kid were sent over {:.1} s ({}); the issuer served {}",
                p.requests,
                p.elapsed.as_secs_f64(),
                fetch_bound_words(w),
                p.fetches
            ),
            &[],
        );
    }
}

#[then(regex = r"^a token signed by the previous ES256 key is still accepted$")]
async fn previous_still_accepted(w: &mut XauthWorld) {
    let kid = kid_of(w, KeyRole::Previous);
    let token = mint_fresh(w, &kid, Map::new()).await;
    let ex = send_bearer(&w.http, protected_url(w), &token).await;
    let ok = is_accepted(&ex);
    w.exchanges.push(ex);
    if !ok {
        w.fail(&format!(
                "2xx for a token signed by the previous key {kid}: it is still published in the JWKS (state previous), so its unexpired tokens stay valid"
            ),
            &[],
        );
    }
}

#[when(regex = r"^the issuer revokes the new key$")]
async fn revoke_new(w: &mut XauthWorld) {
    let kid = kid_of(w, KeyRole::New);
    if let Err(e) = w.issuer.revoke(&kid).await {
        w.harness_error(e);
    }
}

#[then(
    regex = r"^tokens signed by the new key are answered 401 UNAUTHENTICATED within the declared cache TTL plus one cooldown plus the margin$"
)]
async fn revoked_rejected(w: &mut XauthWorld) {
    let kid = kid_of(w, KeyRole::New);
    let ttl = cache_ttl(w);
    let bound = derived_wait(w, "jwks.cache_ttl_max_seconds", ttl + cooldown(w)).await;
    let interval = (ttl / 40).clamp(Duration::from_millis(250), Duration::from_secs(5));
    let client = w.http.clone();
    let p = poll_kid(w, &client, &kid, Want::Unauthenticated, bound, interval).await;
    if !p.reached {
        w.fail(&format!(
                "401 UNAUTHENTICATED for tokens signed by the revoked key {kid} within the declared cache TTL ({} s) plus one cooldown plus {} s: the key left the JWKS, and no key set may be used longer than the TTL (still accepted after {:.1} s)",
                ttl.as_secs(),
                MARGIN.as_secs(),
                p.elapsed.as_secs_f64()
            ),
            &[],
        );
    }
}
