//! Expiry over time (`features/expiry_over_time.feature`): one genuine token watched across its
//! `exp` + leeway, with a bounded poll.

use std::time::Duration;

use cucumber::{given, then, when};
use serde_json::{Map, Value};

use super::{MARGIN, derived_wait, is_accepted, is_error, protected_url, send_bearer};
use crate::scenario::params::Family;
use crate::scenario::poll::{self, Attempt};
use crate::scenario::state::PollResult;
use crate::scenario::world::XauthWorld;

/// Unix time now, in (fractional) seconds, from the suite's clock.
fn now_f64() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn leeway(w: &XauthWorld) -> f64 {
    w.ctx.profile.leeway_seconds as f64
}

fn token_exp(w: &XauthWorld) -> f64 {
    w.current()
        .origin
        .as_ref()
        .and_then(|o| o.claims.get("exp"))
        .and_then(Value::as_f64)
        .unwrap_or_else(|| w.harness_error("the current token has no numeric exp"))
}

#[given(regex = r"^a valid ES256 access token for a fresh user that expires in (\d+) seconds$")]
async fn expiring_token(w: &mut XauthWorld, secs: i64) {
    // exp in whole seconds, at least `secs` from now
    let exp = now_f64().ceil() as i64 + secs;
    let mut claims = Map::new();
    claims.insert("exp".into(), Value::from(exp));
    w.mint_user_token(
        Family::Es256,
        None,
        claims,
        format!("valid ES256 token minted by the issuer with exp = now + {secs} s ({exp})"),
    )
    .await;
}

#[when(regex = r"^I call the protected route with it until it is answered 401 TOKEN_EXPIRED$")]
async fn poll_until_expired(w: &mut XauthWorld) {
    let exp = token_exp(w);
    let deadline_at = exp + leeway(w);
    let wait = (deadline_at - now_f64()).max(0.0);
    let bound = derived_wait(w, "leeway_seconds", Duration::from_secs_f64(wait)).await;
    let interval = (bound / 40).max(Duration::from_millis(200));
    let token = w.current().compact.clone();
    let url = protected_url(w);
    let mut series = Vec::new();
    // `until` stops before an attempt would start after its bound; this poll may try once more
    // at the bound itself, hence one interval more
    let polled = poll::until(bound + interval, interval, async || {
        let sent_at = now_f64();
        let ex = send_bearer(&w.http, url.clone(), &token).await;
        let expired = is_error(w, &ex, 401, "TOKEN_EXPIRED");
        series.push((sent_at, ex));
        if expired {
            Attempt::Reached
        } else {
            Attempt::NotYet
        }
    })
    .await;
    w.state.series = series.iter().map(|(_, e)| e.clone()).collect();
    w.state.poll = Some(PollResult {
        reached: polled.reached,
        elapsed: polled.elapsed,
        bound,
        fetches: 0,
        requests: polled.attempts,
    });
    // the first request must have gone out while the token was certainly valid
    if let Some((first_at, _)) = series.first()
        && *first_at >= exp + leeway(w) - 0.5
    {
        w.harness_error(format!(
            "the first request went out {:.1} s after minting, too late to judge a token that expires in two seconds (the machine is overloaded)",
            first_at - (exp - 2.0)
        ));
    }
    if let Some((_, last)) = series.last() {
        w.exchanges.push(last.clone());
    }
}

#[then(
    regex = r"^it was accepted at first, and answered 401 TOKEN_EXPIRED within the expiry plus the declared leeway plus the margin$"
)]
async fn accepted_then_expired(w: &mut XauthWorld) {
    let s = &w.state;
    let Some(first) = s.series.first() else {
        w.harness_error("no request was sent")
    };
    if !is_accepted(first) {
        let first = first.clone();
        w.fail(
            "2xx for a valid token that expires in two seconds, sent right after minting",
            &[&first],
        );
    }
    let reached = s.poll.as_ref().is_some_and(|p| p.reached);
    if !reached {
        w.fail(&format!(
                "401 TOKEN_EXPIRED once now >= exp + the declared leeway ({} s), within a margin of {} s",
                w.ctx.profile.leeway_seconds,
                MARGIN.as_secs()
            ),
            &[],
        );
    }
}

#[then(regex = r"^once expired it was never accepted again$")]
async fn never_back(w: &mut XauthWorld) {
    let s = &w.state;
    let first_expired = s
        .series
        .iter()
        .position(|e| is_error(w, e, 401, "TOKEN_EXPIRED"));
    if let Some(i) = first_expired
        && let Some(bad) = s.series[i..]
            .iter()
            .find(|e| !is_error(w, e, 401, "TOKEN_EXPIRED"))
    {
        let bad = bad.clone();
        w.fail(
            "401 TOKEN_EXPIRED for every request after the first TOKEN_EXPIRED (expiry is final)",
            &[&bad],
        );
    }
    // between acceptance and expiry, only 2xx or TOKEN_EXPIRED (never another rejection)
    if let Some(bad) = s
        .series
        .iter()
        .find(|e| !(is_accepted(e) || is_error(w, e, 401, "TOKEN_EXPIRED")))
    {
        let bad = bad.clone();
        w.fail(
            "2xx before expiry and 401 TOKEN_EXPIRED after it, never another answer",
            &[&bad],
        );
    }
}
