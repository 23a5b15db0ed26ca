//! Key rotation and JWKS resilience steps (`features/key_rotation.feature`,
//! `features/jwks_resilience.feature`): issuer keys and faults change, the issuer counts the
//! implementation's JWKS fetches, and every wait is a bounded poll.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cucumber::{given, then, when};
use serde_json::Map;

use super::{
    FAULT_RESPONSE_BOUND, Flood, LONG_REQUEST_TIMEOUT, MARGIN, PollResult, allowed_fetches,
    cache_ttl, cooldown, current_kid, derived_wait, fail, fetch_bound_words, harness, is_accepted,
    is_error, jwks_fetches, median, mint_fresh, other_source_client, protected_url,
    restore_shared_state, same_source_client, scratch, send_bearer, unknown_kid_tokens, update,
};
use crate::evidence::Exchange;
use crate::http::TargetClient;
use crate::world::XauthWorld;

/// What a poll waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// 2xx; 401 UNAUTHENTICATED (and 429) mean "not yet".
    Accepted,
    /// 401 UNAUTHENTICATED; 2xx means "not yet".
    Unauthenticated,
}

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

/// Sends tokens signed by `kid` (fresh subject each) until the answer is `want`, at most for
/// `bound`; any other answer (5xx, 403, TOKEN_EXPIRED, a transport error) fails at once.
async fn poll_kid(
    w: &mut XauthWorld,
    client: &TargetClient,
    kid: &str,
    want: Want,
    bound: Duration,
    interval: Duration,
) -> PollResult {
    let url = protected_url(w);
    let f0 = jwks_fetches(w).await;
    let start = Instant::now();
    let mut requests = 0;
    let mut last: Option<Exchange> = None;
    let reached = loop {
        let token = mint_fresh(w, kid, Map::new()).await;
        let ex = send_bearer(client, url.clone(), &token).await;
        requests += 1;
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
            break true;
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
            fail(w, &expectation, &[]).await;
        }
        last = Some(ex);
        if start.elapsed() + interval > bound {
            break false;
        }
        tokio::time::sleep(interval).await;
    };
    if !reached && let Some(ex) = last {
        w.exchanges.push(ex);
    }
    let elapsed = start.elapsed();
    let fetches = jwks_fetches(w).await.saturating_sub(f0);
    let result = PollResult {
        reached,
        elapsed,
        bound,
        fetches,
        requests,
    };
    update(w, |s| s.poll = Some(result.clone()));
    result
}

async fn kid_of(w: &XauthWorld, role: &str) -> String {
    match scratch(w).kids.get(role) {
        Some(k) => k.clone(),
        None => harness(w, format!("no {role} key: a step must create one first")).await,
    }
}

async fn create_key(w: &XauthWorld, alg: &str) -> String {
    match w.issuer.create_key(alg, "standby").await {
        Ok(k) => k.kid,
        Err(e) => harness(w, e).await,
    }
}

#[given(regex = r"^the issuer's JWKS serves normally and its clock is not offset$")]
async fn reset_shared_state(w: &mut XauthWorld) {
    if let Err(e) = restore_shared_state(w).await {
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
        fail(
            w,
            &format!(
                "a token signed by the issuer's current ES256 key {kid} accepted within two declared cooldowns plus {} s ({} s)",
                MARGIN.as_secs(),
                bound.as_secs()
            ),
            &[],
        )
        .await;
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

#[given(regex = r"^the issuer publishes a new ES256 key as standby$")]
async fn publish_standby(w: &mut XauthWorld) {
    let kid = create_key(w, "ES256").await;
    update(w, |s| s.kids.insert("new".into(), kid));
}

#[given(regex = r"^the issuer rotates to a new ES256 key$")]
async fn rotate(w: &mut XauthWorld) {
    let previous = current_kid(w, "ES256").await;
    let kid = create_key(w, "ES256").await;
    let rotated = match w.issuer.rotate(Some(&kid)).await {
        Ok(k) => k.kid,
        Err(e) => harness(w, e).await,
    };
    if rotated != kid {
        harness(
            w,
            format!("the issuer rotated to {rotated}, not to the new key {kid}"),
        )
        .await;
    }
    update(w, |s| {
        s.kids.insert("new".into(), kid);
        s.kids.insert(super::ROLLBACK.into(), previous.clone());
        s.kids.insert("previous".into(), previous);
    });
}

async fn until_new_key_accepted(w: &mut XauthWorld) {
    let kid = kid_of(w, "new").await;
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
    match scratch(w).poll {
        Some(p) => p,
        None => harness(w, "no poll ran before this step").await,
    }
}

async fn new_key_was_accepted(w: &mut XauthWorld) {
    let p = last_poll(w).await;
    if !p.reached {
        let kid = kid_of(w, "new").await;
        fail(
            w,
            &format!(
                "a token signed by the newly published key {kid} accepted within two declared cooldowns ({} s each, one failed fetch attempt tolerated) plus {} s: an unknown kid must make the implementation refetch the JWKS once the cooldown has passed ({} requests over {:.1} s were refused; the issuer served {} JWKS fetches meanwhile)",
                cooldown(w).as_secs(),
                MARGIN.as_secs(),
                p.requests,
                p.elapsed.as_secs_f64(),
                p.fetches
            ),
            &[],
        )
        .await;
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
        fail(
            w,
            &format!(
                "at most {allowed} JWKS fetch(es) at the issuer while {} token(s) with the new kid were sent over {:.1} s ({}); the issuer served {}",
                p.requests,
                p.elapsed.as_secs_f64(),
                fetch_bound_words(w),
                p.fetches
            ),
            &[],
        )
        .await;
    }
}

#[then(regex = r"^a token signed by the previous ES256 key is still accepted$")]
async fn previous_still_accepted(w: &mut XauthWorld) {
    let kid = kid_of(w, "previous").await;
    let token = mint_fresh(w, &kid, Map::new()).await;
    let ex = send_bearer(&w.http, protected_url(w), &token).await;
    let ok = is_accepted(&ex);
    w.exchanges.push(ex);
    if !ok {
        fail(
            w,
            &format!(
                "2xx for a token signed by the previous key {kid}: it is still published in the JWKS (state previous), so its unexpired tokens stay valid"
            ),
            &[],
        )
        .await;
    }
}

#[when(regex = r"^the issuer revokes the new key$")]
async fn revoke_new(w: &mut XauthWorld) {
    let kid = kid_of(w, "new").await;
    if let Err(e) = w.issuer.revoke(&kid).await {
        harness(w, e).await;
    }
}

#[then(
    regex = r"^tokens signed by the new key are answered 401 UNAUTHENTICATED within the declared cache TTL plus one cooldown plus the margin$"
)]
async fn revoked_rejected(w: &mut XauthWorld) {
    let kid = kid_of(w, "new").await;
    let ttl = cache_ttl(w);
    let bound = derived_wait(w, "jwks.cache_ttl_max_seconds", ttl + cooldown(w)).await;
    let interval = (ttl / 40).clamp(Duration::from_millis(250), Duration::from_secs(5));
    let client = w.http.clone();
    let p = poll_kid(w, &client, &kid, Want::Unauthenticated, bound, interval).await;
    if !p.reached {
        fail(
            w,
            &format!(
                "401 UNAUTHENTICATED for tokens signed by the revoked key {kid} within the declared cache TTL ({} s) plus one cooldown plus {} s: the key left the JWKS, and no key set may be used longer than the TTL (still accepted after {:.1} s)",
                ttl.as_secs(),
                MARGIN.as_secs(),
                p.elapsed.as_secs_f64()
            ),
            &[],
        )
        .await;
    }
}

// ---- the unknown-kid flood (A39) ----

#[given(
    regex = r"^(\d+) tokens with valid ES256 signatures by a key the issuer never published, each with its own kid$"
)]
async fn flood_tokens(w: &mut XauthWorld, n: usize) {
    if n == 0 || n > 10_000 {
        w.harness_error("the flood size must be within 1..=10000");
    }
    let tokens = unknown_kid_tokens(w, n).await;
    update(w, |s| {
        s.flood = Some(Flood {
            tokens,
            ..Flood::default()
        })
    });
}

#[given(regex = r"^the latency of valid tokens measured before the flood$")]
async fn baseline(w: &mut XauthWorld) {
    let kid = current_kid(w, "ES256").await;
    let client = other_source_client(w, w.ctx.timeouts.request).await;
    let url = protected_url(w);
    let mut latencies = Vec::new();
    for _ in 0..5 {
        let token = mint_fresh(w, &kid, Map::new()).await;
        let ex = send_bearer(&client, url.clone(), &token).await;
        let ok = is_accepted(&ex);
        latencies.push(ex.elapsed);
        w.exchanges.push(ex);
        if !ok {
            fail(w, "2xx for a valid token before the flood (baseline)", &[]).await;
        }
    }
    let baseline = median(latencies);
    update(w, |s| {
        if let Some(f) = s.flood.as_mut() {
            f.baseline = Some(baseline);
        }
    });
}

#[when(regex = r"^(\d+) clients send the flood while another client keeps sending valid tokens$")]
async fn send_flood(w: &mut XauthWorld, clients: usize) {
    let Some(mut flood) = scratch(w).flood else {
        w.harness_error("no flood tokens: a step must create them first")
    };
    let clients = clients.clamp(1, 64);
    let kid = current_kid(w, "ES256").await;
    let valid_client = other_source_client(w, w.ctx.timeouts.request).await;
    let flood_client = same_source_client(w, w.ctx.timeouts.request).await;
    let url = protected_url(w);
    let per = flood.tokens.len().div_ceil(clients);
    let chunks: Vec<Vec<String>> = flood.tokens.chunks(per).map(<[String]>::to_vec).collect();
    let done = AtomicBool::new(false);
    let f0 = jwks_fetches(w).await;
    let start = Instant::now();
    let w_ref: &XauthWorld = w;
    let flood_fut = async {
        let workers = chunks.into_iter().map(|chunk| {
            let client = flood_client.clone();
            let url = url.clone();
            async move {
                let mut out = Vec::with_capacity(chunk.len());
                for t in chunk {
                    out.push(send_bearer(&client, url.clone(), &t).await);
                }
                out
            }
        });
        let all: Vec<Exchange> = futures::future::join_all(workers)
            .await
            .into_iter()
            .flatten()
            .collect();
        done.store(true, Ordering::SeqCst);
        all
    };
    let valid_fut = async {
        let mut out = Vec::new();
        while (!done.load(Ordering::SeqCst) || out.len() < 3) && out.len() < 2000 {
            let token = mint_fresh(w_ref, &kid, Map::new()).await;
            out.push(send_bearer(&valid_client, url.clone(), &token).await);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        out
    };
    let (flood_answers, valid_answers) = futures::join!(flood_fut, valid_fut);
    flood.elapsed = start.elapsed();
    flood.fetches = jwks_fetches(w).await.saturating_sub(f0);
    flood.flood = flood_answers;
    flood.valid = valid_answers;
    update(w, |s| s.flood = Some(flood));
}

async fn flood_result(w: &XauthWorld) -> Flood {
    match scratch(w).flood {
        Some(f) if !f.flood.is_empty() => f,
        _ => harness(w, "the flood was not sent").await,
    }
}

#[then(regex = r"^every flood token was answered 401 UNAUTHENTICATED or 429 RATE_LIMITED$")]
async fn flood_refused(w: &mut XauthWorld) {
    let f = flood_result(w).await;
    if let Some(bad) = f.flood.iter().find(|ex| {
        !(is_error(w, ex, 401, "UNAUTHENTICATED") || is_error(w, ex, 429, "RATE_LIMITED"))
    }) {
        w.exchanges.push(bad.clone());
        fail(
            w,
            "401 UNAUTHENTICATED (or 429 RATE_LIMITED) for every token with an unknown kid: the key was never published",
            &[],
        )
        .await;
    }
}

#[then(
    regex = r"^the issuer served at most one JWKS fetch per declared cooldown during the flood, plus cache refreshes$"
)]
async fn flood_fetches(w: &mut XauthWorld) {
    let f = flood_result(w).await;
    // The profile always declares a bound (a cooldown or a per-minute budget): a flood of
    // unknown kids is attacker input. Refreshes of an expired cache are allowed on top.
    let allowed = allowed_fetches(w, f.elapsed);
    if f.fetches > allowed {
        if let Some(ex) = f.flood.last() {
            w.exchanges.push(ex.clone());
        }
        fail(
            w,
            &format!(
                "at most {allowed} JWKS fetches at the issuer while {} tokens with unknown kids arrived over {:.2} s ({}): unknown kids must not make the implementation hammer the issuer; it served {}",
                f.flood.len(),
                f.elapsed.as_secs_f64(),
                fetch_bound_words(w),
                f.fetches
            ),
            &[],
        )
        .await;
    }
}

#[then(
    regex = r"^every valid token sent during the flood was accepted, with a median latency below 10 times the baseline plus 500 ms$"
)]
async fn valid_during_flood(w: &mut XauthWorld) {
    let f = flood_result(w).await;
    if let Some(bad) = f.valid.iter().find(|ex| !is_accepted(ex)) {
        w.exchanges.push(bad.clone());
        fail(
            w,
            "2xx for every valid token sent (from another client) during the unknown-kid flood",
            &[],
        )
        .await;
    }
    let Some(baseline) = f.baseline else {
        harness(w, "no baseline latency was measured").await
    };
    let during = median(f.valid.iter().map(|e| e.elapsed).collect());
    let bound = baseline * 10 + Duration::from_millis(500);
    if during > bound {
        if let Some(last) = f.valid.last() {
            w.exchanges.push(last.clone());
        }
        fail(
            w,
            &format!(
                "valid tokens served at normal latency during the flood: median {} ms, bound 10 x the baseline median {} ms + 500 ms = {} ms ({} valid requests)",
                during.as_millis(),
                baseline.as_millis(),
                bound.as_millis(),
                f.valid.len()
            ),
            &[],
        )
        .await;
    }
}

// ---- JWKS faults (A41) ----

#[when(
    regex = r"^the issuer's JWKS starts to (answer \d+|answer 200 with malformed JSON|drop the connection|answer after \d+ seconds|redirect to the attacker listener)$"
)]
async fn inject_fault(w: &mut XauthWorld, fault: String) {
    let body = if fault == "answer 200 with malformed JSON" {
        serde_json::json!({"kind": "malformed"})
    } else if fault == "drop the connection" {
        serde_json::json!({"kind": "drop"})
    } else if fault == "redirect to the attacker listener" {
        let location = w.attacker().await.url("/jwks.json");
        serde_json::json!({"kind": "redirect", "location": location})
    } else if let Some(secs) = fault
        .strip_prefix("answer after ")
        .and_then(|r| r.strip_suffix(" seconds"))
    {
        let secs: u64 = secs.parse().unwrap_or(20);
        serde_json::json!({"kind": "delay", "ms": secs * 1000})
    } else {
        let status: u16 = fault.trim_start_matches("answer ").parse().unwrap_or(500);
        serde_json::json!({"kind": "status", "status": status})
    };
    if let Err(e) = w.issuer.set_jwks_fault(&body).await {
        harness(w, e).await;
    }
}

#[when(regex = r"^the issuer's JWKS serves normally again$")]
async fn clear_fault(w: &mut XauthWorld) {
    if let Err(e) = w.issuer.clear_jwks_fault().await {
        harness(w, e).await;
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
        fail(
            w,
            &format!(
                "{what} within {} s while the issuer's JWKS fails (never a 5xx, never a hang)",
                FAULT_RESPONSE_BOUND.as_secs()
            ),
            &[],
        )
        .await;
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
            fail(
                w,
                &format!(
                    "401 UNAUTHENTICATED within {} s for a token with an unknown kid while the issuer's JWKS fails (never a 5xx, never a hang)",
                    FAULT_RESPONSE_BOUND.as_secs()
                ),
                &[],
            )
            .await;
        }
        if jwks_fetches(w).await > f0 {
            w.exchanges.push(ex);
            return;
        }
        if start.elapsed() >= bound {
            w.exchanges.push(ex);
            fail(
                w,
                &format!(
                    "the implementation requests the issuer's JWKS within two declared cooldowns ({} s each) plus {} s when tokens name unknown kids (no request reached the issuer in {:.1} s)",
                    cooldown(w).as_secs(),
                    MARGIN.as_secs() + FAULT_RESPONSE_BOUND.as_secs(),
                    start.elapsed().as_secs_f64()
                ),
                &[],
            )
            .await;
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
            Err(e) => harness(w, e).await,
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
        Err(e) => harness(w, e).await,
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
    let kid = create_key(w, "ES256").await;
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
        fail(
            w,
            &format!(
                "once the issuer's JWKS serves normally again, a token signed by a newly published key ({kid}) accepted within two declared cooldowns ({} s each) plus 20 s ({} requests over {:.1} s were refused)",
                cooldown(w).as_secs(),
                p.requests,
                p.elapsed.as_secs_f64()
            ),
            &[],
        )
        .await;
    }
    if let Err(e) = revoked {
        harness(w, e).await;
    }
}
