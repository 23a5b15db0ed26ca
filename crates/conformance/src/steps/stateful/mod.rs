//! Steps of the stateful families: key rotation, JWKS resilience, refresh through the auth
//! proxy, rate limiting and expiry over time (`features/key_rotation.feature`, …).
//!
//! * `jwks`: key rotation and JWKS faults (issuer keys, fault injection, fetch counters);
//! * `jwks_entries`: unusable JWKS entries and two keys under one kid (extra JWKS entries);
//! * `refresh`: the password and refresh grants through the implementation's auth proxy;
//! * `outage`: the auth proxy while the issuer's token endpoint is down or hangs;
//! * `rate_limit`: bursts, `Retry-After`, other subjects, forged victims;
//! * `expiry`: a token that expires while the scenario watches.
//!
//! Every wait is derived from the profile's declared values (leeway, JWKS cache TTL and
//! cooldown, rate-limit window) plus [`MARGIN`], and every wait is a bounded poll that stops as
//! soon as the expected answer arrives. Scenarios that change shared issuer state (keys, JWKS
//! faults, the clock) are `@serial`; they restore that state first (a Background step) and
//! whenever one of these steps fails ([`fail`]), so a failed scenario never leaves a fault or a
//! clock offset behind for the scenarios that follow.

pub mod expiry;
pub mod jwks;
pub mod jwks_entries;
pub mod outage;
pub mod rate_limit;
pub mod refresh;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use serde_json::{Map, Value};

use crate::evidence::{Exchange, Response};
use crate::http::TargetClient;
use crate::issuer_client::MintRequest;
use crate::world::XauthWorld;

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

/// Per-scenario state of these steps, keyed by the scenario's fresh subject (the World has no
/// room for it, and the subject is unique per scenario).
#[derive(Debug, Clone, Default)]
pub struct Scratch {
    /// Issuer kids by role (`new`, `previous`, …).
    pub kids: HashMap<String, String>,
    /// Result of the last "until accepted/rejected" poll.
    pub poll: Option<PollResult>,
    /// The flood (unknown kids) and what it observed.
    pub flood: Option<Flood>,
    /// The refresh family's user and session.
    pub auth: refresh::AuthState,
    /// The last burst.
    pub burst: Option<rate_limit::Burst>,
    /// Requests of the last "N times" step.
    pub series: Vec<Exchange>,
}

/// What a bounded poll observed.
#[derive(Debug, Clone)]
pub struct PollResult {
    /// Whether the expected answer arrived before the deadline.
    pub reached: bool,
    /// Time from the first request to the expected answer (or to the deadline).
    pub elapsed: Duration,
    /// The deadline used.
    pub bound: Duration,
    /// JWKS fetches the issuer served meanwhile.
    pub fetches: u64,
    /// Requests sent.
    pub requests: usize,
}

/// Tokens of the flood and what the flood observed.
#[derive(Debug, Clone, Default)]
pub struct Flood {
    /// Tokens with unknown kids.
    pub tokens: Vec<String>,
    /// Median latency of valid tokens before the flood.
    pub baseline: Option<Duration>,
    /// Answers to the flood tokens.
    pub flood: Vec<Exchange>,
    /// Answers to the valid tokens sent during the flood.
    pub valid: Vec<Exchange>,
    /// JWKS fetches during the flood.
    pub fetches: u64,
    /// Duration of the flood.
    pub elapsed: Duration,
}

fn scratch_table() -> &'static Mutex<HashMap<String, Scratch>> {
    static TABLE: OnceLock<Mutex<HashMap<String, Scratch>>> = OnceLock::new();
    TABLE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// A copy of this scenario's scratch state.
pub fn scratch(w: &XauthWorld) -> Scratch {
    scratch_table()
        .lock()
        .get(&w.subject)
        .cloned()
        .unwrap_or_default()
}

/// Changes this scenario's scratch state.
pub fn update<R>(w: &XauthWorld, f: impl FnOnce(&mut Scratch) -> R) -> R {
    let mut table = scratch_table().lock();
    f(table.entry(w.subject.clone()).or_default())
}

/// Clears the issuer's faults (JWKS and token endpoint), its clock offset and any extra JWKS
/// entries.
pub async fn restore_shared_state(w: &XauthWorld) -> Result<(), String> {
    w.issuer.clear_faults().await.map_err(|e| e.to_string())?;
    w.issuer
        .set_clock_offset(0)
        .await
        .map_err(|e| e.to_string())?;
    w.issuer
        .clear_extra_jwks()
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Undoes a rotation this scenario made (the key that was current before becomes current
/// again), so that an implementation that cannot pick up a new key fails this scenario only,
/// not every later scenario that mints with the current key.
async fn roll_back_rotation(w: &XauthWorld) -> Result<(), String> {
    let Some(previous) = update(w, |s| s.kids.remove(ROLLBACK)) else {
        return Ok(());
    };
    w.issuer
        .standby(&previous)
        .await
        .map_err(|e| e.to_string())?;
    w.issuer
        .rotate(Some(&previous))
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// The scratch role of the key to rotate back to when a rotation scenario fails.
pub const ROLLBACK: &str = "rollback";

/// Restores the issuer's shared state (faults, clock, a rotation of this scenario), then fails
/// the step with the evidence (as [`XauthWorld::fail`]).
pub async fn fail(w: &XauthWorld, expectation: &str, exchanges: &[&Exchange]) -> ! {
    if let Err(e) = restore_shared_state(w).await {
        tracing::warn!("could not restore the issuer's state after a failure: {e}");
    }
    if let Err(e) = roll_back_rotation(w).await {
        tracing::warn!("could not roll the issuer's key rotation back after a failure: {e}");
    }
    w.fail(expectation, exchanges)
}

/// Restores the issuer's shared state, then fails as a harness error.
pub async fn harness(w: &XauthWorld, what: impl std::fmt::Display) -> ! {
    let _ = restore_shared_state(w).await;
    let _ = roll_back_rotation(w).await;
    w.harness_error(what)
}

/// A declared duration plus the margin, or a harness error when it exceeds
/// [`MAX_DERIVED_WAIT`]. The scenario's deadline grows by the wait, so a profile with long
/// declared values is judged by verdicts, not cut off by the scenario timeout.
pub async fn derived_wait(w: &XauthWorld, what: &str, declared: Duration) -> Duration {
    let wait = declared + MARGIN;
    w.extend_deadline(wait);
    if wait > MAX_DERIVED_WAIT {
        harness(
            w,
            format!(
                "the profile's {what} ({} s) needs a wait beyond this suite's bound of {} s",
                declared.as_secs(),
                MAX_DERIVED_WAIT.as_secs()
            ),
        )
        .await;
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

/// Distinct loopback source addresses 127.200.x.y for the extra clients of these steps (the
/// World's own clients use 127.0.x.y).
fn next_extra_source() -> IpAddr {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let i = NEXT.fetch_add(1, Ordering::Relaxed);
    let x = (i / 254) % 254;
    let y = 1 + i % 254;
    IpAddr::V4(Ipv4Addr::new(127, 200, x as u8, y as u8))
}

/// A client with the scenario's own source address and `timeout`.
pub async fn same_source_client(w: &XauthWorld, timeout: Duration) -> TargetClient {
    match TargetClient::new(&w.ctx.target, timeout, w.http.source()) {
        Ok(c) => c,
        Err(e) => harness(w, e).await,
    }
}

/// A client with another loopback source address (when the target is on loopback) and
/// `timeout`: another client as far as per-IP limits go.
pub async fn other_source_client(w: &XauthWorld, timeout: Duration) -> TargetClient {
    let source = w.ctx.loopback_sources.then(next_extra_source);
    match TargetClient::new(&w.ctx.target, timeout, source) {
        Ok(c) => c,
        Err(e) => harness(w, e).await,
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
        Err(e) => harness(w, e).await,
    }
}

/// The kid of the issuer's current key for `alg`, read fresh from the issuer.
pub async fn current_kid(w: &XauthWorld, alg: &str) -> String {
    let keys = match w.issuer.keys().await {
        Ok(k) => k,
        Err(e) => harness(w, e).await,
    };
    match keys.iter().find(|k| k.alg == alg && k.state == "current") {
        Some(k) => k.kid.clone(),
        None => {
            // an issuer whose current key has another alg: any published key of this alg
            match keys
                .iter()
                .find(|k| k.alg == alg && matches!(k.state.as_str(), "standby" | "previous"))
            {
                Some(k) => k.kid.clone(),
                None => harness(w, format!("the issuer publishes no {alg} key")).await,
            }
        }
    }
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
        Err(e) => harness(w, e).await,
    }
}

/// The local ES256 key the issuer never published (signatures are valid, the key is unknown).
fn unpublished_key() -> Option<&'static aws_lc_rs::signature::EcdsaKeyPair> {
    static KEY: OnceLock<Option<aws_lc_rs::signature::EcdsaKeyPair>> = OnceLock::new();
    KEY.get_or_init(|| {
        aws_lc_rs::signature::EcdsaKeyPair::generate(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        )
        .ok()
    })
    .as_ref()
}

/// `header.payload` texts (JSON) signed with ES256 by the unpublished local key.
pub fn sign_unpublished(header: &str, payload: &str) -> Option<String> {
    let key = unpublished_key()?;
    let jws = crate::forge::jws::Jws::from_texts(header, payload);
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let sig = key.sign(&rng, jws.signing_input().as_bytes()).ok()?;
    Some(jws.with_signature_bytes(sig.as_ref()).compact())
}

/// Otherwise-valid GoTrue claims (text) for a fresh subject, minted by the issuer so that
/// `iss`, `aud`, `exp` and the rest are exactly what it issues.
pub async fn genuine_payload(w: &XauthWorld) -> String {
    let kid = current_kid(w, "ES256").await;
    let token = mint_fresh(w, &kid, Map::new()).await;
    match crate::forge::jws::Jws::parse(&token).and_then(|j| j.payload_text()) {
        Ok(p) => p,
        Err(e) => harness(w, e).await,
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
            None => harness(w, "cannot sign with the local ES256 key").await,
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
    fn unpublished_signatures_verify_with_the_local_key() {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, KeyPair as _, UnparsedPublicKey};
        let token = sign_unpublished(r#"{"alg":"ES256","kid":"k"}"#, r#"{"sub":"x"}"#).unwrap();
        let jws = crate::forge::jws::Jws::parse(&token).unwrap();
        let public = unpublished_key().unwrap().public_key().as_ref().to_vec();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public)
            .verify(
                jws.signing_input().as_bytes(),
                &jws.signature_bytes().unwrap(),
            )
            .unwrap();
    }

    #[test]
    fn extra_sources_are_loopback_and_distinct() {
        let a = next_extra_source();
        let b = next_extra_source();
        assert_ne!(a, b);
        assert!(a.is_loopback());
    }

    #[test]
    fn median_of_durations() {
        let ms = Duration::from_millis;
        assert_eq!(median(vec![ms(5), ms(1), ms(9)]), ms(5));
        assert_eq!(median(vec![]), Duration::ZERO);
    }
}
