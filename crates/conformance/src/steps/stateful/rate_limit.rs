//! Rate-limiting steps (`features/rate_limiting.feature`): concurrent bursts sized from the
//! declared limit, `Retry-After`, other subjects and forged victims.

use std::time::{Duration, Instant};

use cucumber::{then, when};
use futures::StreamExt as _;
use serde_json::Map;

use super::{
    current_kid, is_accepted, is_error, mint_fresh, other_source_client, protected_url, response,
    send_bearer,
};
use crate::net::evidence::Exchange;
use crate::profile::RateLimitKeying;
use crate::scenario::world::XauthWorld;

/// Requests in flight at once during a burst.
const BURST_CONCURRENCY: usize = 16;

/// The largest burst these steps send (a larger declared limit is a harness error).
pub const MAX_BURST: u64 = 5000;

/// The burst is this many times the declared limit… (the feature's "3 times the declared limit
/// plus 10"; also the forged flood's "3 times the declared limit")
pub const BURST_FACTOR: u64 = 3;

/// …plus this many requests.
pub const BURST_EXTRA: u64 = 10;

use crate::scenario::state::Burst;

fn limit(w: &XauthWorld) -> u64 {
    u64::from(w.ctx.profile.rate_limit.requests.get())
}

fn window(w: &XauthWorld) -> Duration {
    Duration::from_secs(w.ctx.profile.rate_limit.window_seconds.get())
}

/// `Retry-After` as delay-seconds, if it is one.
fn retry_after(ex: &Exchange) -> Option<u64> {
    let v = response(ex)?.header("retry-after")?.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) || v.len() > 9 {
        return None;
    }
    v.parse().ok()
}

async fn send_many(
    w: &XauthWorld,
    client: &crate::net::target::TargetClient,
    tokens: Vec<String>,
) -> (Vec<Exchange>, Duration) {
    let url = protected_url(w);
    let start = Instant::now();
    let answers: Vec<Exchange> = futures::stream::iter(tokens)
        .map(|t| {
            let url = url.clone();
            async move { send_bearer(client, url, &t).await }
        })
        .buffer_unordered(BURST_CONCURRENCY)
        .collect()
        .await;
    (answers, start.elapsed())
}

#[when(regex = r"^I send it in a concurrent burst of 3 times the declared limit plus 10$")]
async fn burst(w: &mut XauthWorld) {
    let n = BURST_FACTOR * limit(w) + BURST_EXTRA;
    if n > MAX_BURST {
        w.harness_error(format!(
            "the declared limit {} needs a burst of {n} requests, more than this suite sends ({MAX_BURST})",
            limit(w)
        ));
    }
    let token = w.current().compact.clone();
    let client = w.http.clone();
    let (answers, elapsed) = send_many(w, &client, vec![token; n as usize]).await;
    let mut b = Burst {
        sent: answers.len(),
        elapsed,
        ..Burst::default()
    };
    for ex in answers {
        if is_accepted(&ex) {
            b.accepted += 1;
        } else if response(&ex).is_some_and(|r| r.status == 429) {
            b.limited.push(ex);
        } else {
            b.other.push(ex);
        }
    }
    {
        let s = &mut w.state;
        s.burst = Some(b);
    };
}

async fn last_burst(w: &XauthWorld) -> Burst {
    match w.state.burst.clone() {
        Some(b) => b,
        None => w.harness_error("no burst was sent"),
    }
}

#[then(
    regex = r"^some requests of the burst were answered 429 RATE_LIMITED with a numeric Retry-After$"
)]
async fn burst_limited(w: &mut XauthWorld) {
    let b = last_burst(w).await;
    if b.limited.is_empty() {
        w.fail(&format!(
                "429 RATE_LIMITED for some of {} concurrent requests by one {} (the declared limit is {} per {} s); all {} were accepted in {:.2} s",
                b.sent,
                keyed_on(w),
                limit(w),
                window(w).as_secs(),
                b.accepted,
                b.elapsed.as_secs_f64()
            ),
            &[],
        );
    }
    for ex in &b.limited {
        if !is_error(w, ex, 429, "RATE_LIMITED") || retry_after(ex).is_none() {
            w.exchanges.push(ex.clone());
            w.fail("429 with error code RATE_LIMITED and a Retry-After header holding delay-seconds (RFC 9110 §10.2.3)",
                &[],
            );
        }
    }
}

fn keyed_on(w: &XauthWorld) -> &'static str {
    match w.ctx.profile.rate_limit.keying {
        RateLimitKeying::Subject => "subject",
        RateLimitKeying::Ip => "client address",
    }
}

#[then(regex = r"^every other request of the burst was accepted$")]
async fn burst_others_accepted(w: &mut XauthWorld) {
    let b = last_burst(w).await;
    if let Some(ex) = b.other.first() {
        w.exchanges.push(ex.clone());
        w.fail(
            "2xx or 429 RATE_LIMITED for every request of a burst of one valid token",
            &[],
        );
    }
}

#[then(regex = r"^no more requests of the burst were accepted than the declared limit allows$")]
async fn burst_bounded(w: &mut XauthWorld) {
    let b = last_burst(w).await;
    let windows = (b.elapsed.as_secs_f64() / window(w).as_secs_f64()).floor() as u64;
    let allowed = limit(w) * (2 + windows);
    if b.accepted as u64 > allowed {
        w.fail(&format!(
                "at most {allowed} accepted requests in a burst of {} lasting {:.2} s (declared limit {} per {} s, times 2 plus the whole windows elapsed, for any limiter's refill); {} were accepted",
                b.sent,
                b.elapsed.as_secs_f64(),
                limit(w),
                window(w).as_secs(),
                b.accepted
            ),
            &[],
        );
    }
}

#[when(regex = r"^I call the protected route with it until it is answered 429 RATE_LIMITED$")]
async fn until_limited(w: &mut XauthWorld) {
    let token = w.current().compact.clone();
    let url = protected_url(w);
    let tries = 2 * limit(w) + 10;
    for _ in 0..tries {
        let ex = send_bearer(&w.http, url.clone(), &token).await;
        let limited = response(&ex).is_some_and(|r| r.status == 429);
        let accepted = is_accepted(&ex);
        w.exchanges.push(ex);
        if limited {
            return;
        }
        if !accepted {
            w.fail("2xx or 429 RATE_LIMITED for a valid token", &[]);
        }
    }
    w.fail(&format!(
            "429 RATE_LIMITED within {tries} sequential requests right after a burst (declared limit {} per {} s)",
            limit(w),
            window(w).as_secs()
        ),
        &[],
    );
}

#[when(regex = r"^I wait as long as its Retry-After says$")]
async fn wait_retry_after(w: &mut XauthWorld) {
    let ex = w.last_exchange().clone();
    let Some(secs) = retry_after(&ex) else {
        w.fail(
            "a Retry-After header holding delay-seconds on 429 RATE_LIMITED",
            &[],
        )
    };
    let max = window(w).as_secs() + 1;
    if secs > max {
        w.fail(&format!(
                "a Retry-After of at most the declared window ({} s) plus 1 s: within one window the limit is refilled (got {secs})",
                window(w).as_secs()
            ),
            &[],
        );
    }
    // whole seconds as announced, plus a little for the two clocks' second boundaries
    let wait = Duration::from_secs(secs) + Duration::from_millis(250);
    w.extend_deadline(wait);
    tokio::time::sleep(wait).await;
}

#[when(
    regex = r"^another user calls the protected route with a valid token right after the burst$"
)]
async fn another_user(w: &mut XauthWorld) {
    let kid = current_kid(w, "ES256").await;
    let token = mint_fresh(w, &kid, Map::new()).await;
    let client = match w.ctx.profile.rate_limit.keying {
        RateLimitKeying::Subject => w.http.clone(),
        RateLimitKeying::Ip => other_source_client(w, w.ctx.timeouts.request).await,
    };
    let ex = send_bearer(&client, protected_url(w), &token).await;
    w.exchanges.push(ex);
}

#[when(
    regex = r"^an attacker at another address sends 3 times the declared limit of tokens naming my sub with a broken signature$"
)]
async fn forged_flood(w: &mut XauthWorld) {
    let n = BURST_FACTOR * limit(w);
    if n > MAX_BURST {
        w.harness_error(format!(
            "the declared limit {} needs {n} forged requests, more than this suite sends ({MAX_BURST})",
            limit(w)
        ));
    }
    let genuine = w.current().compact.clone();
    let forged = match crate::forge::jws::Jws::parse(&genuine).and_then(|j| {
        let mut sig = j.signature_bytes()?;
        if let Some(b) = sig.last_mut() {
            *b ^= 0x01;
        }
        Ok(j.with_signature_bytes(&sig).compact())
    }) {
        Ok(t) => t,
        Err(e) => w.harness_error(e),
    };
    let client = other_source_client(w, w.ctx.timeouts.request).await;
    let (answers, elapsed) = send_many(w, &client, vec![forged; n as usize]).await;
    let mut b = Burst {
        sent: answers.len(),
        elapsed,
        ..Burst::default()
    };
    for ex in answers {
        if is_error(w, &ex, 401, "UNAUTHENTICATED") || is_error(w, &ex, 429, "RATE_LIMITED") {
            if response(&ex).is_some_and(|r| r.status == 429) {
                b.limited.push(ex);
            }
        } else {
            b.other.push(ex);
        }
    }
    {
        let s = &mut w.state;
        s.burst = Some(b);
    };
}

#[then(regex = r"^every forged token was answered 401 UNAUTHENTICATED or 429 RATE_LIMITED$")]
async fn forged_refused(w: &mut XauthWorld) {
    let b = last_burst(w).await;
    if let Some(ex) = b.other.first() {
        w.exchanges.push(ex.clone());
        w.fail(
            "401 UNAUTHENTICATED (or 429 RATE_LIMITED) for every token whose signature is broken",
            &[],
        );
    }
}

#[when(regex = r"^I call the protected route with it half the declared limit times$")]
async fn half_limit(w: &mut XauthWorld) {
    let n = limit(w).div_ceil(2).min(MAX_BURST);
    let token = w.current().compact.clone();
    let url = protected_url(w);
    let mut series = Vec::new();
    for _ in 0..n {
        series.push(send_bearer(&w.http, url.clone(), &token).await);
    }
    {
        let s = &mut w.state;
        s.series = series;
    };
}

#[then(regex = r"^every one of those requests was accepted$")]
async fn series_accepted(w: &mut XauthWorld) {
    let series = w.state.series.clone();
    if series.is_empty() {
        w.harness_error("no requests were sent");
    }
    if let Some((i, ex)) = series.iter().enumerate().find(|(_, ex)| !is_accepted(ex)) {
        w.exchanges.push(ex.clone());
        w.fail(&format!(
                "2xx for each of {} requests with the victim's valid token (half its declared limit), although only forged tokens naming its sub were sent before; request {} was not",
                series.len(),
                i + 1
            ),
            &[],
        );
    }
}
