//! Steps of the stateful families: key rotation, JWKS resilience, refresh through the auth
//! proxy, rate limiting and expiry over time (`features/key_rotation.feature`, …).
//!
//! * `issuer_state`: the shared Background steps (issuer state put back, current key accepted,
//!   the clock) and the bounded poll on an issuer key;
//! * `key_rotation`, `flood`, `jwks_faults`: key rotation, the unknown-kid flood, JWKS faults;
//! * `jwks_entries`: unusable JWKS entries and two keys under one kid (extra JWKS entries);
//! * `refresh`: the password and refresh grants through the implementation's auth proxy;
//! * `outage`: the auth proxy while the issuer's token endpoint is down or hangs;
//! * `rate_limit`: bursts, `Retry-After`, other subjects, forged victims;
//! * `expiry`: a token that expires while the scenario watches;
//! * `mcp`: an MCP endpoint as an OAuth resource server (discovery, audience, no passthrough);
//! * `pat`: personal access tokens through the implementation's management API, on every
//!   replica.
//!
//! Every wait is derived from the profile's declared values (leeway, JWKS cache TTL and
//! cooldown, rate-limit window) plus [`MARGIN`], and every wait is a bounded poll that stops as
//! soon as the expected answer arrives. Scenarios that change shared issuer state (keys, JWKS
//! faults, the clock) are `@serial`; they restore that state first (a Background step), and the
//! runner's after-hook restores it after each of them ([`crate::hooks::SharedState`]), so a
//! failed scenario never leaves a fault or a clock offset behind for the scenarios that follow.
//! What a scenario remembers between its steps is [`crate::scenario::state::ScenarioState`],
//! owned by the World.

pub mod expiry;
pub mod flood;
pub mod issuer_state;
pub mod jwks_entries;
pub mod jwks_faults;
pub mod key_rotation;
pub mod mcp;
pub mod outage;
pub mod pat;
pub mod rate_limit;
pub mod refresh;

use std::time::Duration;

use serde_json::{Map, Value};

use crate::net::control::MintRequest;
use crate::net::evidence::{Exchange, Response};
use crate::net::sources::{SourceBlock, next_source};
use crate::net::target::TargetClient;
use crate::scenario::world::XauthWorld;

/// Slack added to every declared duration before a poll gives up (scheduling on a loaded CI
/// machine, whole-second clocks).
pub const MARGIN: Duration = Duration::from_secs(5);

/// The longest an implementation may take to answer while its issuer's JWKS fails or hangs
/// (the profile declares no fetch timeout; attacks.md A41 cites 5 s, this allows 3 times that).
pub const FAULT_RESPONSE_BOUND: Duration = Duration::from_secs(15);

/// Per-request timeout of the clients that must observe [`FAULT_RESPONSE_BOUND`] (longer than
/// the bound, so that a slow answer is measured rather than cut off).
pub const LONG_REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// The longest wait any of these steps derives from a profile (beyond it, the profile's
/// values are too large for the scenario's `@timeout`: a harness error says so).
pub const MAX_DERIVED_WAIT: Duration = Duration::from_secs(12 * 60);

/// A declared duration plus the margin, or a harness error when it exceeds
/// [`MAX_DERIVED_WAIT`]. The scenario's deadline grows by the wait, so a profile with long
/// declared values is judged by verdicts, not cut off by the scenario timeout.
pub async fn derived_wait(w: &XauthWorld, what: &str, declared: Duration) -> Duration {
    let wait = declared + MARGIN;
    w.extend_deadline(wait);
    if wait > MAX_DERIVED_WAIT {
        w.harness_error(format!(
            "the profile's {what} ({} s) needs a wait beyond this suite's bound of {} s",
            declared.as_secs(),
            MAX_DERIVED_WAIT.as_secs()
        ));
    }
    wait
}

/// The longest an unknown kid may wait for the JWKS fetch it triggers, by the profile's
/// declared bounds (the refetch cooldown, or the per-minute fetch budget): see
/// [`crate::profile::Jwks::refetch_interval`]. The features call it "a declared cooldown".
pub fn cooldown(w: &XauthWorld) -> Duration {
    w.ctx.profile.jwks.refetch_interval()
}

/// The declared JWKS cache TTL bound.
pub fn cache_ttl(w: &XauthWorld) -> Duration {
    Duration::from_secs(w.ctx.profile.jwks.cache_ttl_max_seconds.get())
}

/// How many JWKS fetches the profile's declarations allow within `elapsed`: those unknown kids
/// may trigger (see [`crate::profile::Jwks::allowed_fetches`]), plus one refresh per expiry of
/// the declared cache TTL that can fall into the interval (`1 + elapsed / TTL`): a cache whose
/// TTL is shorter than its cooldown legitimately refetches that often.
pub fn allowed_fetches(w: &XauthWorld, elapsed: Duration) -> u64 {
    let ttl = cache_ttl(w).as_secs_f64().max(1.0);
    let refreshes = 1 + (elapsed.as_secs_f64() / ttl).floor() as u64;
    w.ctx.profile.jwks.allowed_fetches(elapsed) + refreshes
}

/// The declared bound on unknown-kid fetches, in words, for failure messages.
pub fn fetch_bound_words(w: &XauthWorld) -> String {
    let j = &w.ctx.profile.jwks;
    let bound = match (j.refetch_cooldown_seconds, j.max_fetches_per_minute) {
        (c, None) => format!("one per declared cooldown of {c} s"),
        (0, Some(n)) => format!("at most {n} per minute, as declared"),
        (c, Some(n)) => format!("one per declared cooldown of {c} s and at most {n} per minute"),
    };
    format!(
        "{bound}, plus one refresh and one per declared cache TTL of {} s",
        j.cache_ttl_max_seconds
    )
}

/// A client with the scenario's own source address and `timeout`.
pub async fn same_source_client(w: &XauthWorld, timeout: Duration) -> TargetClient {
    match TargetClient::new(&w.ctx.target, timeout, w.http.source()) {
        Ok(c) => c,
        Err(e) => w.harness_error(e),
    }
}

/// A client with another loopback source address (when the target is on loopback) and
/// `timeout`: another client as far as per-IP limits go.
pub async fn other_source_client(w: &XauthWorld, timeout: Duration) -> TargetClient {
    let source = w
        .ctx
        .loopback_sources
        .then(|| next_source(SourceBlock::ExtraClient));
    match TargetClient::new(&w.ctx.target, timeout, source) {
        Ok(c) => c,
        Err(e) => w.harness_error(e),
    }
}

/// The protected route's URL.
pub fn protected_url(w: &XauthWorld) -> url::Url {
    w.ctx.target_url(w.ctx.profile.routes.protected.as_str())
}

/// `GET` the protected route with `Bearer token` through `client`.
pub async fn send_bearer(client: &TargetClient, url: url::Url, token: &str) -> Exchange {
    client
        .send(
            reqwest::Method::GET,
            url,
            vec![(
                "authorization".into(),
                format!("Bearer {token}").into_bytes(),
            )],
            Some(token.to_owned()),
        )
        .await
}

/// The response of an exchange, if one arrived.
pub fn response(ex: &Exchange) -> Option<&Response> {
    ex.outcome.as_ref().ok()
}

/// Whether the exchange got a 2xx.
pub fn is_accepted(ex: &Exchange) -> bool {
    response(ex).is_some_and(|r| (200..300).contains(&r.status))
}

/// Whether the exchange got `status` with `code` at the profile's pointer.
pub fn is_error(w: &XauthWorld, ex: &Exchange, status: u16, code: &str) -> bool {
    response(ex).is_some_and(|r| {
        r.status == status && super::outcomes::error_code(w, r).as_deref() == Some(code)
    })
}

/// The issuer's JWKS fetch counter.
pub async fn jwks_fetches(w: &XauthWorld) -> u64 {
    match w.issuer.jwks_fetches().await {
        Ok(n) => n,
        Err(e) => w.harness_error(e),
    }
}

/// The kid of the issuer's current key for `alg`, read fresh from the issuer.
pub async fn current_kid(w: &XauthWorld, alg: &str) -> String {
    let keys = match w.issuer.keys().await {
        Ok(k) => k,
        Err(e) => w.harness_error(e),
    };
    // the current key; for an issuer whose current key has another alg, another published key
    let best = alg.parse().ok().and_then(|alg| {
        crate::net::control::published_keys(&keys, alg)
            .first()
            .map(|k| k.kid.clone())
    });
    best.unwrap_or_else(|| w.harness_error(format!("the issuer publishes no {alg} key")))
}

/// A valid GoTrue access token signed by the issuer's key `kid` for a fresh subject (so that
/// per-subject rate limits never interfere with polls), with `claims` merged in.
pub async fn mint_fresh(w: &XauthWorld, kid: &str, mut claims: Map<String, Value>) -> String {
    claims
        .entry("sub")
        .or_insert_with(|| Value::String(uuid::Uuid::new_v4().to_string()));
    let req = MintRequest {
        key: Some(kid.to_owned()),
        claims: Some(claims),
        ..MintRequest::default()
    };
    match w.issuer.mint(&req).await {
        Ok(m) => m.token,
        Err(e) => w.harness_error(e),
    }
}

/// `header.payload` texts (JSON) signed with ES256 by the key the issuer never published.
pub fn sign_unpublished(header: &str, payload: &str) -> Option<String> {
    Some(crate::forge::local::unpublished_es256().sign_compact(header, payload))
}

/// Otherwise-valid GoTrue claims (text) for a fresh subject, minted by the issuer so that
/// `iss`, `aud`, `exp` and the rest are exactly what it issues.
pub async fn genuine_payload(w: &XauthWorld) -> String {
    let kid = current_kid(w, "ES256").await;
    let token = mint_fresh(w, &kid, Map::new()).await;
    match crate::forge::jws::Jws::parse(&token).and_then(|j| j.payload_text()) {
        Ok(p) => p,
        Err(e) => w.harness_error(e),
    }
}

/// `n` tokens with valid ES256 signatures by a key the issuer never published, each with its
/// own random kid, over a genuine payload.
pub async fn unknown_kid_tokens(w: &XauthWorld, n: usize) -> Vec<String> {
    let payload = genuine_payload(w).await;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let header = serde_json::json!({
            "alg": "ES256",
            "kid": format!("xauth-unpublished-{}", uuid::Uuid::new_v4().simple()),
            "typ": "JWT"
        })
        .to_string();
        match sign_unpublished(&header, &payload) {
            Some(t) => out.push(t),
            None => w.harness_error("cannot sign with the local ES256 key"),
        }
    }
    out
}

/// The median of `values` (zero when empty).
pub fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_durations() {
        let ms = Duration::from_millis;
        assert_eq!(median(vec![ms(5), ms(1), ms(9)]), ms(5));
        assert_eq!(median(vec![]), Duration::ZERO);
    }
}
