//! Steps of `features/jwks_entries.feature`: unusable JWKS entries (A44) and two keys under one
//! kid (A43). The issuer publishes extra JWK entries after its own keys (control API
//! `/jwks/extra`); the private keys behind them are generated here, per scenario, and never
//! leave the harness. Every wait is a bounded poll derived from the declared cooldown.

use std::time::{Duration, Instant};

use cucumber::{given, then, when};
use serde_json::json;

use super::{
    FAULT_RESPONSE_BOUND, LONG_REQUEST_TIMEOUT, MARGIN, cooldown, current_kid, derived_wait,
    genuine_payload, is_accepted, is_error, jwks_fetches, mint_fresh, protected_url,
    same_source_client, send_bearer,
};
use crate::forge::jws::Jws;
use crate::forge::unusable::{Signer, ec_jwk, fresh_kid, new_p256, unusable_entry};
use crate::net::evidence::Exchange;
use crate::net::target::TargetClient;
use crate::scenario::params::JwksEntry;
use crate::scenario::poll::{self, Attempt};
use crate::scenario::state::PollResult;
use crate::scenario::world::XauthWorld;

/// A token over a genuine payload (fresh subject) with header `{"alg","kid","typ"}`, signed
/// by `signer`.
async fn signed_token(w: &XauthWorld, kid: &str, signer: &Signer) -> String {
    let payload = genuine_payload(w).await;
    let header = json!({"alg": signer.alg(), "kid": kid, "typ": "JWT"}).to_string();
    let jws = Jws::from_texts(&header, &payload);
    match signer.sign(jws.signing_input().as_bytes()) {
        Ok(sig) => jws.with_signature_bytes(&sig).compact(),
        Err(e) => w.harness_error(format!("cannot sign with the {} key: {e}", signer.alg())),
    }
}

async fn control(w: &XauthWorld) -> (String, Signer) {
    match w.state.entries.control.clone() {
        Some(c) => c,
        None => w.harness_error("no control key: a step must publish one first"),
    }
}

/// Poll interval: a twentieth of the declared cooldown within [200 ms, 1 s], so a poll sends
/// a few dozen requests at most whatever the profile.
fn poll_interval(w: &XauthWorld) -> Duration {
    (cooldown(w) / 20).clamp(Duration::from_millis(200), Duration::from_secs(1))
}

/// Sends `token` until it gets an answer other than 429 RATE_LIMITED, at most for
/// [`FAULT_RESPONSE_BOUND`]; the last exchange.
async fn judged(w: &XauthWorld, client: &TargetClient, token: &str) -> Exchange {
    let start = Instant::now();
    loop {
        let ex = send_bearer(client, protected_url(w), token).await;
        if !is_error(w, &ex, 429, "RATE_LIMITED") || start.elapsed() >= FAULT_RESPONSE_BOUND {
            return ex;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Whether the exchange is 2xx or 401 UNAUTHENTICATED, answered within the fault bound.
fn answered_sanely(w: &XauthWorld, ex: &Exchange) -> bool {
    (is_accepted(ex) || is_error(w, ex, 401, "UNAUTHENTICATED"))
        && ex.elapsed <= FAULT_RESPONSE_BOUND
}

#[given(expr = "the issuer's JWKS also publishes {jwks_entry}, then a usable ES256 control key")]
async fn publish(w: &mut XauthWorld, entry: JwksEntry) {
    let mut keys = Vec::new();
    if entry == JwksEntry::SharedKid {
        let kid = fresh_kid("shared");
        let (first, second) = (new_p256(), new_p256());
        for key in [&first, &second] {
            match ec_jwk(key, &kid, Some("sig")) {
                Ok(jwk) => keys.push(jwk),
                Err(e) => w.harness_error(e),
            }
        }
        {
            let s = &mut w.state.entries;
            s.shared = Some((kid, vec![Signer::Es256(first), Signer::Es256(second)]))
        };
    } else {
        let (kid, jwk, signer) = match unusable_entry(entry).await {
            Ok(e) => e,
            Err(e) => w.harness_error(e),
        };
        keys.push(jwk);
        {
            let s = &mut w.state.entries;
            s.unusable = Some((kid, signer, entry.phrase().to_owned()));
        };
    }
    // the control key comes last: a parser that gives up at the bad entry never sees it
    let control_kid = fresh_kid("control");
    let control_key = new_p256();
    match ec_jwk(&control_key, &control_kid, Some("sig")) {
        Ok(jwk) => keys.push(jwk),
        Err(e) => w.harness_error(e),
    }
    {
        let s = &mut w.state.entries;
        s.control = Some((control_kid, Signer::Es256(control_key)))
    };
    if let Err(e) = w.issuer.set_extra_jwks(&keys).await {
        w.harness_error(e);
    }
}

#[when(regex = r"^I send tokens signed by the control key until one is accepted$")]
async fn until_control_accepted(w: &mut XauthWorld) {
    let (kid, signer) = control(w).await;
    let bound = derived_wait(w, "jwks.refetch_cooldown_seconds", 2 * cooldown(w)).await;
    let interval = poll_interval(w);
    let client = same_source_client(w, LONG_REQUEST_TIMEOUT).await;
    let f0 = jwks_fetches(w).await;
    let polled = poll::until(bound, interval, async || {
        let token = signed_token(w, &kid, &signer).await;
        let ex = send_bearer(&client, protected_url(w), &token).await;
        if is_accepted(&ex) {
            w.exchanges.push(ex);
            return Attempt::Reached;
        }
        let not_yet =
            is_error(w, &ex, 401, "UNAUTHENTICATED") || is_error(w, &ex, 429, "RATE_LIMITED");
        w.exchanges.push(ex);
        if !not_yet {
            w.fail(
                &format!(
                    "2xx for a token signed by the usable ES256 key {kid} published in the issuer's JWKS next to an unusable entry, or 401 UNAUTHENTICATED while the implementation has not fetched that key set yet (never another answer: an unusable entry must not break the key set)"
                ),
                &[],
            );
        }
        Attempt::NotYet
    })
    .await;
    let result = PollResult {
        reached: polled.reached,
        elapsed: polled.elapsed,
        bound,
        fetches: jwks_fetches(w).await.saturating_sub(f0),
        requests: polled.attempts,
    };
    w.state.entries.poll = Some(result);
}

#[then(
    regex = r"^a token signed by the control key was accepted within two declared cooldowns plus the margin$"
)]
async fn control_was_accepted(w: &mut XauthWorld) {
    let Some(p) = w.state.entries.poll.clone() else {
        w.harness_error("no control key poll ran before this step")
    };
    if !p.reached {
        let (kid, _) = control(w).await;
        let what = match w.state.entries.unusable.clone() {
            Some((_, _, entry)) => format!("after {entry}"),
            None => "after two keys sharing a kid".to_owned(),
        };
        w.fail(&format!(
                "a token signed by the usable ES256 key {kid}, published in the issuer's JWKS {what}, accepted within two declared cooldowns ({} s each) plus {} s: an unusable entry must be ignored, not make the whole key set unusable ({} requests over {:.1} s were refused; the issuer served {} JWKS fetches meanwhile)",
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

#[then(regex = r"^a token signed by the unusable entry is answered 401 UNAUTHENTICATED$")]
async fn unusable_refused(w: &mut XauthWorld) {
    let Some((kid, signer, entry)) = w.state.entries.unusable.clone() else {
        w.harness_error("no unusable entry: a step must publish one first")
    };
    let token = signed_token(w, &kid, &signer).await;
    let client = same_source_client(w, LONG_REQUEST_TIMEOUT).await;
    let ex = judged(w, &client, &token).await;
    let ok = is_error(w, &ex, 401, "UNAUTHENTICATED") && ex.elapsed <= FAULT_RESPONSE_BOUND;
    w.exchanges.push(ex);
    if !ok {
        w.fail(&format!(
                "401 UNAUTHENTICATED within {} s for a {} token signed by the key of the JWKS entry {kid} ({entry}): that entry is unusable and must be ignored",
                FAULT_RESPONSE_BOUND.as_secs(),
                signer.alg()
            ),
            &[],
        );
    }
}

#[then(regex = r"^a token signed by the issuer's current ES256 key is still accepted$")]
async fn current_still_accepted(w: &mut XauthWorld) {
    let kid = current_kid(w, "ES256").await;
    let token = mint_fresh(w, &kid, serde_json::Map::new()).await;
    let client = same_source_client(w, LONG_REQUEST_TIMEOUT).await;
    let ex = judged(w, &client, &token).await;
    let ok = is_accepted(&ex);
    w.exchanges.push(ex);
    if !ok {
        w.fail(&format!(
                "2xx for a token signed by the issuer's current ES256 key {kid}: extra entries in the JWKS must not stop the other keys from working"
            ),
            &[],
        );
    }
}

#[when(regex = r"^the issuer's JWKS holds its own keys only again$")]
async fn clear_extras(w: &mut XauthWorld) {
    if let Err(e) = w.issuer.clear_extra_jwks().await {
        w.harness_error(e);
    }
    w.state.entries = Default::default();
}

#[when(
    regex = r"^I send tokens signed by each key of the shared kid, and by the control key, until the control key is accepted or two declared cooldowns plus the margin have passed$"
)]
async fn probe_shared(w: &mut XauthWorld) {
    let Some((kid, keys)) = w.state.entries.shared.clone() else {
        w.harness_error("no shared kid: a step must publish one first")
    };
    let (control_kid, control_signer) = control(w).await;
    let bound = derived_wait(w, "jwks.refetch_cooldown_seconds", 2 * cooldown(w)).await;
    let interval = poll_interval(w);
    let client = same_source_client(w, LONG_REQUEST_TIMEOUT).await;
    let start = Instant::now();
    let mut answers = Vec::new();
    'poll: loop {
        for signer in &keys {
            let token = signed_token(w, &kid, signer).await;
            let ex = send_bearer(&client, protected_url(w), &token).await;
            let bad = !(answered_sanely(w, &ex) || is_error(w, &ex, 429, "RATE_LIMITED"));
            answers.push(ex);
            if bad {
                break 'poll;
            }
        }
        let token = signed_token(w, &control_kid, &control_signer).await;
        let ex = send_bearer(&client, protected_url(w), &token).await;
        let done = is_accepted(&ex);
        w.exchanges.push(ex);
        if done || start.elapsed() + interval > bound {
            break;
        }
        tokio::time::sleep(interval).await;
    }
    {
        let s = &mut w.state.entries;
        s.answers = answers;
    };
}

#[then(
    regex = r"^every token signed by a key of the shared kid was answered 2xx or 401 UNAUTHENTICATED within 15 seconds$"
)]
async fn shared_answered_sanely(w: &mut XauthWorld) {
    let answers = w.state.entries.answers.clone();
    if answers.is_empty() {
        w.harness_error("no token of the shared kid was sent");
    }
    let bad = answers
        .iter()
        .find(|ex| !(answered_sanely(w, ex) || is_error(w, ex, 429, "RATE_LIMITED")));
    if let Some(bad) = bad {
        let bad = bad.clone();
        w.exchanges.push(bad);
        w.fail(&format!(
                "2xx or 401 UNAUTHENTICATED within {} s for a token signed by one of two different keys the JWKS publishes under the same kid (first match, try-each and refusing the ambiguous key set are all acceptable; a 5xx, another answer or a hang is not)",
                FAULT_RESPONSE_BOUND.as_secs()
            ),
            &[],
        );
    }
    if let Some(last) = answers.last() {
        w.exchanges.push(last.clone());
    }
}

#[when(
    regex = r"^I send tokens signed by the second key of the shared kid for two declared cooldowns plus the margin$"
)]
async fn probe_second(w: &mut XauthWorld) {
    let Some((kid, keys)) = w.state.entries.shared.clone() else {
        w.harness_error("no shared kid: a step must publish one first")
    };
    let Some(second) = keys.get(1).cloned() else {
        w.harness_error("the shared kid has no second key")
    };
    let bound = derived_wait(w, "jwks.refetch_cooldown_seconds", 2 * cooldown(w)).await;
    let interval = poll_interval(w);
    let client = same_source_client(w, LONG_REQUEST_TIMEOUT).await;
    let start = Instant::now();
    let mut answers = Vec::new();
    loop {
        let token = signed_token(w, &kid, &second).await;
        let ex = send_bearer(&client, protected_url(w), &token).await;
        let stop =
            is_accepted(&ex) || !answered_sanely(w, &ex) && !is_error(w, &ex, 429, "RATE_LIMITED");
        answers.push(ex);
        if stop || start.elapsed() + interval > bound {
            break;
        }
        tokio::time::sleep(interval).await;
    }
    {
        let s = &mut w.state.entries;
        s.answers = answers;
    };
}

#[then(regex = r"^none of them was accepted, and the last one was answered 401 UNAUTHENTICATED$")]
async fn second_never_accepted(w: &mut XauthWorld) {
    let answers = w.state.entries.answers.clone();
    let kid = w
        .state
        .entries
        .shared
        .clone()
        .map(|(k, _)| k)
        .unwrap_or_default();
    if let Some(accepted) = answers.iter().find(|ex| is_accepted(ex)) {
        w.exchanges.push(accepted.clone());
        w.fail(&format!(
                "no token signed by the second of two different keys published under the kid {kid} accepted (strict: a key set with two keys under one kid is ambiguous and refused, attacks.md A43)"
            ),
            &[],
        );
    }
    let judged: Vec<&Exchange> = answers
        .iter()
        .filter(|ex| !is_error(w, ex, 429, "RATE_LIMITED"))
        .collect();
    let ok = judged.last().is_some_and(|ex| {
        is_error(w, ex, 401, "UNAUTHENTICATED") && ex.elapsed <= FAULT_RESPONSE_BOUND
    });
    if let Some(last) = judged.last().or(answers.last().as_ref()) {
        w.exchanges.push((*last).clone());
    }
    if !ok {
        w.fail(&format!(
                "401 UNAUTHENTICATED within {} s for a token signed by the second of two different keys published under the kid {kid} ({} requests sent, every one answered)",
                FAULT_RESPONSE_BOUND.as_secs(),
                answers.len()
            ),
            &[],
        );
    }
}
