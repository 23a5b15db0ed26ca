//! The auth proxy while the auth server is down (`features/refresh.feature`): the issuer's
//! token endpoint drops every connection or hangs, and the proxy must answer 502 or 504 itself,
//! promptly, instead of a 5xx of its own making or a hang; verification keeps working, and the
//! proxy recovers once the auth server is back.

use std::time::Duration;

use cucumber::{given, then, when};
use serde_json::json;

use super::refresh::{password_body, proxy_answer, via_proxy_with};
use super::{MARGIN, derived_wait, response, same_source_client};
use crate::scenario::world::XauthWorld;

/// How much longer than the declared auth-proxy timeout the issuer's token endpoint hangs: long
/// enough that only the proxy's own timeout can end the request first.
const HANG_BEYOND_DECLARED: Duration = Duration::from_secs(20);

/// The declared auth-proxy upstream timeout.
fn declared_timeout(w: &XauthWorld) -> Duration {
    Duration::from_secs(w.ctx.profile.auth_proxy_timeout_seconds)
}

async fn set_token_fault(w: &XauthWorld, fault: serde_json::Value) {
    if let Err(e) = w.issuer.set_token_fault(&fault).await {
        w.harness_error(format!(
            "cannot inject the token-endpoint fault {fault}: {e}"
        ));
    }
}

#[given(regex = r"^the issuer's token endpoint closes every connection without answering$")]
async fn token_endpoint_drops(w: &mut XauthWorld) {
    set_token_fault(w, json!({"kind": "drop"})).await;
}

#[given(
    regex = r"^the issuer's token endpoint hangs for longer than the declared auth-proxy timeout$"
)]
async fn token_endpoint_hangs(w: &mut XauthWorld) {
    let ms = (declared_timeout(w) + MARGIN + HANG_BEYOND_DECLARED).as_millis();
    set_token_fault(w, json!({"kind": "delay", "ms": ms as u64})).await;
}

#[when(regex = r"^the issuer's token endpoint answers normally again$")]
async fn token_endpoint_back(w: &mut XauthWorld) {
    if let Err(e) = w.issuer.clear_faults().await {
        w.harness_error(format!("cannot clear the token-endpoint fault: {e}"));
    }
}

#[when(
    regex = r"^I sign in with the password grant through the auth proxy, waiting at most the declared auth-proxy timeout plus 5 seconds$"
)]
async fn sign_in_bounded(w: &mut XauthWorld) {
    let bound = derived_wait(w, "auth_proxy_timeout_seconds", declared_timeout(w)).await;
    let client = same_source_client(w, bound).await;
    let body = password_body(w, false).await;
    via_proxy_with(w, &client, "grant_type=password", body, false).await;
}

#[then(regex = r"^the auth proxy answers 502 or 504$")]
async fn answers_gateway_error(w: &mut XauthWorld) {
    let ex = proxy_answer(w).await;
    let declared = w.ctx.profile.auth_proxy_timeout_seconds;
    let expectation = match response(&ex) {
        Some(r) if r.status == 502 || r.status == 504 => return,
        Some(r) => format!(
            "502 Bad Gateway or 504 Gateway Timeout while the auth server is down (got {}: a \
             proxy must not pass its own failure off as another status, and never as a 5xx of \
             its own making)",
            r.status
        ),
        None => format!(
            "502 or 504 while the auth server is down, within the declared \
             auth_proxy_timeout_seconds ({declared} s) plus {} s; no answer came in {:.1} s: \
             clients of this proxy hang",
            MARGIN.as_secs(),
            ex.elapsed.as_secs_f64()
        ),
    };
    w.fail(&expectation, &[&ex]);
}
