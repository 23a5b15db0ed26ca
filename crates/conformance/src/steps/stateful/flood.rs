//! The unknown-kid flood (`features/jwks_resilience.feature`, A39): many tokens with unknown
//! kids must neither make the implementation hammer the issuer's JWKS nor slow valid tokens.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cucumber::{given, then, when};
use serde_json::Map;

use super::{
    allowed_fetches, current_kid, fetch_bound_words, is_accepted, is_error, jwks_fetches, median,
    mint_fresh, other_source_client, protected_url, same_source_client, send_bearer,
    unknown_kid_tokens,
};
use crate::net::evidence::Exchange;
use crate::scenario::state::Flood;
use crate::scenario::world::XauthWorld;

/// Valid tokens during the flood: their median latency stays below this many times the
/// baseline median… (the feature's "10 times the baseline plus 500 ms")
pub const FLOOD_LATENCY_FACTOR: u32 = 10;

/// …plus this much.
pub const FLOOD_LATENCY_SLACK: Duration = Duration::from_millis(500);

#[given(
    regex = r"^(\d+) tokens with valid ES256 signatures by a key the issuer never published, each with its own kid$"
)]
async fn flood_tokens(w: &mut XauthWorld, n: usize) {
    if n == 0 || n > 10_000 {
        w.harness_error("the flood size must be within 1..=10000");
    }
    let tokens = unknown_kid_tokens(w, n).await;
    {
        let s = &mut w.state;
        s.flood = Some(Flood {
            tokens,
            ..Flood::default()
        })
    };
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
            w.fail("2xx for a valid token before the flood (baseline)", &[]);
        }
    }
    let baseline = median(latencies);
    {
        let s = &mut w.state;
        if let Some(f) = s.flood.as_mut() {
            f.baseline = Some(baseline);
        }
    };
}

#[when(regex = r"^(\d+) clients send the flood while another client keeps sending valid tokens$")]
async fn send_flood(w: &mut XauthWorld, clients: usize) {
    let Some(mut flood) = w.state.flood.clone() else {
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
    {
        let s = &mut w.state;
        s.flood = Some(flood);
    };
}

async fn flood_result(w: &XauthWorld) -> Flood {
    match w.state.flood.clone() {
        Some(f) if !f.flood.is_empty() => f,
        _ => w.harness_error("the flood was not sent"),
    }
}

#[then(regex = r"^every flood token was answered 401 UNAUTHENTICATED or 429 RATE_LIMITED$")]
async fn flood_refused(w: &mut XauthWorld) {
    let f = flood_result(w).await;
    if let Some(bad) = f.flood.iter().find(|ex| {
        !(is_error(w, ex, 401, "UNAUTHENTICATED") || is_error(w, ex, 429, "RATE_LIMITED"))
    }) {
        w.exchanges.push(bad.clone());
        w.fail("401 UNAUTHENTICATED (or 429 RATE_LIMITED) for every token with an unknown kid: the key was never published",
            &[],
        );
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
        w.fail(&format!(
                "at most {allowed} JWKS fetches at the issuer while {} tokens with unknown kids arrived over {:.2} s ({}): unknown kids must not make the implementation hammer the issuer; it served {}",
                f.flood.len(),
                f.elapsed.as_secs_f64(),
                fetch_bound_words(w),
                f.fetches
            ),
            &[],
        );
    }
}

#[then(
    regex = r"^every valid token sent during the flood was accepted, with a median latency below 10 times the baseline plus 500 ms$"
)]
async fn valid_during_flood(w: &mut XauthWorld) {
    let f = flood_result(w).await;
    if let Some(bad) = f.valid.iter().find(|ex| !is_accepted(ex)) {
        w.exchanges.push(bad.clone());
        w.fail(
            "2xx for every valid token sent (from another client) during the unknown-kid flood",
            &[],
        );
    }
    let Some(baseline) = f.baseline else {
        w.harness_error("no baseline latency was measured")
    };
    let during = median(f.valid.iter().map(|e| e.elapsed).collect());
    let bound = baseline * FLOOD_LATENCY_FACTOR + FLOOD_LATENCY_SLACK;
    if during > bound {
        if let Some(last) = f.valid.last() {
            w.exchanges.push(last.clone());
        }
        w.fail(&format!(
                "valid tokens served at normal latency during the flood: median {} ms, bound {FLOOD_LATENCY_FACTOR} x the baseline median {} ms + {} ms = {} ms ({} valid requests)",
                during.as_millis(),
                baseline.as_millis(),
                FLOOD_LATENCY_SLACK.as_millis(),
                bound.as_millis(),
                f.valid.len()
            ),
            &[],
        );
    }
}
