//! Steps every stateful family shares (the Backgrounds of `key_rotation`, `jwks_resilience`
//! and `jwks_entries`, the issuer's clock of `refresh`): the issuer's shared state put back,
//! its current key accepted, its clock moved; and the one bounded poll on an issuer key.

use std::time::Duration;

use cucumber::{given, then, when};
use serde_json::Map;

use super::{
    MARGIN, cooldown, current_kid, derived_wait, is_accepted, is_error, jwks_fetches, mint_fresh,
    protected_url, send_bearer,
};
use crate::net::control::{KeyAlg, KeyState};
use crate::net::evidence::Exchange;
use crate::net::target::TargetClient;
use crate::scenario::poll::{self, Attempt};
use crate::scenario::state::PollResult;
use crate::scenario::world::XauthWorld;

/// What a poll waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Want {
    /// 2xx; 401 UNAUTHENTICATED (and 429) mean "not yet".
    Accepted,
    /// 401 UNAUTHENTICATED; 2xx means "not yet".
    Unauthenticated,
}

/// Sends tokens signed by `kid` (fresh subject each) until the answer is `want`, at most for
/// `bound`; any other answer (5xx, 403, TOKEN_EXPIRED, a transport error) fails at once.
pub(super) async fn poll_kid(
    w: &mut XauthWorld,
    client: &TargetClient,
    kid: &str,
    want: Want,
    bound: Duration,
    interval: Duration,
) -> PollResult {
    let url = protected_url(w);
    let f0 = jwks_fetches(w).await;
    let mut last: Option<Exchange> = None;
    let polled = poll::until(bound, interval, async || {
        let token = mint_fresh(w, kid, Map::new()).await;
        let ex = send_bearer(client, url.clone(), &token).await;
        let accepted = is_accepted(&ex);
        let unauthenticated = is_error(w, &ex, 401, "UNAUTHENTICATED");
        let limited = is_error(w, &ex, 429, "RATE_LIMITED");
        let done = match want {
            Want::Accepted => accepted,
            Want::Unauthenticated => unauthenticated,
        };
        let not_yet = match want {
            Want::Accepted => unauthenticated || limited,
            Want::Unauthenticated => accepted || limited,
        };
        if done {
            w.exchanges.push(ex);
            return Attempt::Reached;
        }
        if !not_yet {
            w.exchanges.push(ex);
            let expectation = match want {
                Want::Accepted => format!(
                    "2xx for a token signed by the issuer's published key {kid}, or 401 UNAUTHENTICATED while the implementation has not fetched it yet (never another answer)"
                ),
                Want::Unauthenticated => format!(
                    "401 UNAUTHENTICATED for a token signed by the revoked key {kid}, or 2xx while the implementation's cached key set still holds it (never another answer)"
                ),
            };
            w.fail(&expectation, &[]);
        }
        last = Some(ex);
        Attempt::NotYet
    })
    .await;
    if !polled.reached
        && let Some(ex) = last
    {
        w.exchanges.push(ex);
    }
    let fetches = jwks_fetches(w).await.saturating_sub(f0);
    let result = PollResult {
        reached: polled.reached,
        elapsed: polled.elapsed,
        bound,
        fetches,
        requests: polled.attempts,
    };
    w.state.poll = Some(result.clone());
    result
}

pub(super) async fn create_key(w: &XauthWorld, alg: KeyAlg) -> String {
    match w.issuer.create_key(alg, KeyState::Standby).await {
        Ok(k) => k.kid,
        Err(e) => w.harness_error(e),
    }
}

#[given(regex = r"^the issuer's JWKS serves normally and its clock is not offset$")]
async fn reset_shared_state(w: &mut XauthWorld) {
    if let Err(e) = w.clear_issuer_state().await {
        w.harness_error(format!("cannot restore the issuer's state: {e}"));
    }
}

async fn current_key_accepted(w: &mut XauthWorld) {
    let kid = current_kid(w, "ES256").await;
    let bound = derived_wait(w, "jwks.refetch_cooldown_seconds", 2 * cooldown(w)).await;
    let client = w.http.clone();
    let r = poll_kid(
        w,
        &client,
        &kid,
        Want::Accepted,
        bound,
        Duration::from_millis(200),
    )
    .await;
    if !r.reached {
        w.fail(&format!(
                "a token signed by the issuer's current ES256 key {kid} accepted within two declared cooldowns plus {} s ({} s)",
                MARGIN.as_secs(),
                bound.as_secs()
            ),
            &[],
        );
    }
}

#[given(regex = r"^the implementation accepts tokens signed by the issuer's current ES256 key$")]
async fn given_current_key_accepted(w: &mut XauthWorld) {
    current_key_accepted(w).await;
}

#[then(regex = r"^the implementation accepts tokens signed by the issuer's current ES256 key$")]
async fn then_current_key_accepted(w: &mut XauthWorld) {
    current_key_accepted(w).await;
}

// ---- the issuer's clock ----

async fn clock_forward(w: &XauthWorld, days: i64) {
    if let Err(e) = w.issuer.set_clock_offset(days * 86_400).await {
        w.harness_error(e);
    }
}

#[given(regex = r"^the issuer's clock moves forward by one day$")]
async fn one_day(w: &mut XauthWorld) {
    clock_forward(w, 1).await;
}

#[when(regex = r"^the issuer's clock moves forward by one more day$")]
async fn one_more_day(w: &mut XauthWorld) {
    clock_forward(w, 2).await;
}

async fn clock_restored(w: &XauthWorld) {
    if let Err(e) = w.clear_issuer_state().await {
        w.harness_error(format!("cannot restore the issuer's clock: {e}"));
    }
}

#[given(regex = r"^the issuer's clock is restored$")]
async fn given_clock_restored(w: &mut XauthWorld) {
    clock_restored(w).await;
}

#[then(regex = r"^the issuer's clock is restored$")]
async fn then_clock_restored(w: &mut XauthWorld) {
    clock_restored(w).await;
}
