//! `Then …` steps: compare the last response with the contract; a mismatch panics with the full
//! evidence (request with secrets redacted, token decoded, response, expectation, curl).

use std::time::Duration;

use cucumber::then;
use serde_json::Value;

use crate::net::evidence::{Exchange, Response};
use crate::net::target::TransportError;
use crate::scenario::world::XauthWorld;

/// The error code at the profile's JSON pointer, if the body is JSON and has one.
pub fn error_code(w: &XauthWorld, r: &Response) -> Option<String> {
    let body = r.json()?;
    w.ctx
        .profile
        .error_code_pointer
        .lookup(&body)?
        .as_str()
        .map(str::to_owned)
}

fn response<'a>(w: &'a XauthWorld, expectation: &str) -> &'a Response {
    let ex = w.last_exchange();
    match &ex.outcome {
        Ok(r) => r,
        Err(_) => w.fail(expectation, &[ex]),
    }
}

/// Asserts status and error code (at the profile's pointer).
fn expect_error(w: &XauthWorld, status: u16, code: &str) {
    let expectation = format!(
        "{status} with error code {code} at {}",
        w.ctx.profile.error_code_pointer.as_str()
    );
    let r = response(w, &expectation);
    if r.status != status || error_code(w, r).as_deref() != Some(code) {
        w.fail(&expectation, &[]);
    }
}

fn is_error(w: &XauthWorld, r: &Response, status: u16, code: &str) -> bool {
    r.status == status && error_code(w, r).as_deref() == Some(code)
}

#[then(regex = r"^the request is accepted$")]
async fn accepted(w: &mut XauthWorld) {
    let r = response(w, "a 2xx answer");
    if !(200..300).contains(&r.status) {
        w.fail("a 2xx answer (the token is valid and permitted)", &[]);
    }
}

#[then(regex = r"^the request is not accepted$")]
async fn not_accepted(w: &mut XauthWorld) {
    let ex = w.last_exchange();
    if ex
        .outcome
        .as_ref()
        .is_ok_and(|r| (200..300).contains(&r.status))
    {
        w.fail(
            "anything but a 2xx: the credential must not grant access",
            &[],
        );
    }
}

#[then(regex = r"^the response is 401 (UNAUTHENTICATED|TOKEN_EXPIRED)$")]
async fn is_401(w: &mut XauthWorld, code: String) {
    expect_error(w, 401, &code);
}

#[then(regex = r"^the response is 403 FORBIDDEN$")]
async fn is_403(w: &mut XauthWorld) {
    expect_error(w, 403, "FORBIDDEN");
}

#[then(
    regex = r"^the request is accepted if legacy HS256 is enabled, otherwise the response is 401 UNAUTHENTICATED$"
)]
async fn accepted_if_legacy(w: &mut XauthWorld) {
    if w.ctx.profile.legacy_hs256 {
        accepted(w).await;
    } else {
        expect_error(w, 401, "UNAUTHENTICATED");
    }
}

#[then(
    regex = r"^the response is 401 TOKEN_EXPIRED if legacy HS256 is enabled, otherwise 401 UNAUTHENTICATED$"
)]
async fn expired_if_legacy(w: &mut XauthWorld) {
    let code = if w.ctx.profile.legacy_hs256 {
        "TOKEN_EXPIRED"
    } else {
        "UNAUTHENTICATED"
    };
    expect_error(w, 401, code);
}

#[then(regex = r"^the response is 401 UNAUTHENTICATED or 401 TOKEN_EXPIRED$")]
async fn unauth_or_expired(w: &mut XauthWorld) {
    let expectation = "401 with error code UNAUTHENTICATED or TOKEN_EXPIRED";
    let r = response(w, expectation);
    if !(is_error(w, r, 401, "UNAUTHENTICATED") || is_error(w, r, 401, "TOKEN_EXPIRED")) {
        w.fail(expectation, &[]);
    }
}

#[then(regex = r"^the response is 403 FORBIDDEN or 401 UNAUTHENTICATED$")]
async fn forbidden_or_unauth(w: &mut XauthWorld) {
    let expectation = "403 FORBIDDEN or 401 UNAUTHENTICATED (never a 2xx)";
    let r = response(w, expectation);
    if !(is_error(w, r, 403, "FORBIDDEN") || is_error(w, r, 401, "UNAUTHENTICATED")) {
        w.fail(expectation, &[]);
    }
}

#[then(regex = r"^the request is accepted or the response is 401 UNAUTHENTICATED$")]
async fn accepted_or_unauth(w: &mut XauthWorld) {
    let expectation = "a 2xx answer or 401 UNAUTHENTICATED (never TOKEN_EXPIRED, never 5xx)";
    let r = response(w, expectation);
    if !((200..300).contains(&r.status) || is_error(w, r, 401, "UNAUTHENTICATED")) {
        w.fail(expectation, &[]);
    }
}

#[then(regex = r"^the response is 401 UNAUTHENTICATED or 431 Request Header Fields Too Large$")]
async fn unauth_or_431(w: &mut XauthWorld) {
    let expectation = "401 UNAUTHENTICATED, or 431 from the HTTP layer";
    let r = response(w, expectation);
    if !(is_error(w, r, 401, "UNAUTHENTICATED") || r.status == 431) {
        w.fail(expectation, &[]);
    }
}

fn closed_by_server(ex: &Exchange) -> bool {
    matches!(
        &ex.outcome,
        Err(e) if !matches!(e, TransportError::Timeout(_) | TransportError::Connect(_))
    )
}

#[then(regex = r"^the request is refused as unauthenticated or too large$")]
async fn refused_or_too_large(w: &mut XauthWorld) {
    let expectation = "401 UNAUTHENTICATED, or 400/413/431 from the HTTP layer, or the connection closed (never 2xx, 5xx or a hang)";
    let ex = w.last_exchange();
    let ok = match &ex.outcome {
        Ok(r) => is_error(w, r, 401, "UNAUTHENTICATED") || matches!(r.status, 400 | 413 | 431),
        Err(_) => closed_by_server(ex),
    };
    if !ok {
        w.fail(expectation, &[]);
    }
}

#[then(regex = r"^the response is not a server error$")]
async fn not_server_error(w: &mut XauthWorld) {
    let expectation =
        "any answer below 500 (or the connection refused by the HTTP layer), never a 5xx or a hang";
    let ex = w.last_exchange();
    let ok = match &ex.outcome {
        Ok(r) => r.status < 500,
        Err(_) => closed_by_server(ex),
    };
    if !ok {
        w.fail(expectation, &[]);
    }
}

#[then(regex = r"^a valid ES256 access token for a fresh user is still accepted$")]
async fn still_alive(w: &mut XauthWorld) {
    let token = super::tokens::fresh_valid_token(w).await;
    let url = w.ctx.target_url(w.ctx.profile.routes.protected.as_str());
    super::requests::call(w, url, Some(format!("Bearer {token}")), Some(token)).await;
    let r = response(w, "the service still answers a valid token with 2xx");
    if !(200..300).contains(&r.status) {
        w.fail("the service still answers a valid token with 2xx", &[]);
    }
}

#[then(
    regex = r"^the response has a WWW-Authenticate Bearer challenge if the profile requires RFC 6750 headers$"
)]
async fn bearer_challenge(w: &mut XauthWorld) {
    if !w.ctx.profile.strict.rfc6750_headers {
        return;
    }
    let expectation = "a WWW-Authenticate header with the Bearer scheme (RFC 6750 §3; profile strict.rfc6750_headers)";
    let r = response(w, expectation);
    let ok = r
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("www-authenticate"))
        .any(|(_, v)| {
            v.trim_start()
                .get(..6)
                .is_some_and(|s| s.eq_ignore_ascii_case("bearer"))
        });
    if !ok {
        w.fail(expectation, &[]);
    }
}

#[then(regex = r"^the response does not ask to re-authenticate$")]
async fn no_reauth(w: &mut XauthWorld) {
    let expectation = "no WWW-Authenticate challenge with error=\"invalid_token\" on a 403 (RFC 6750 §3.1: insufficient_scope)";
    let r = response(w, expectation);
    let bad = r
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("www-authenticate"))
        .any(|(_, v)| v.contains("invalid_token"));
    if bad {
        w.fail(expectation, &[]);
    }
}

#[then(regex = r"^the response does not echo the marker$")]
async fn no_echo(w: &mut XauthWorld) {
    let expectation = format!(
        "the marker {} appears nowhere in the response (status line, headers, body)",
        w.marker
    );
    let r = response(w, &expectation);
    let in_headers = r
        .headers
        .iter()
        .any(|(n, v)| n.contains(&w.marker) || v.contains(&w.marker));
    let in_body = String::from_utf8_lossy(&r.body).contains(&w.marker);
    if in_headers || in_body {
        w.fail(&expectation, &[]);
    }
}

#[then(regex = r"^all responses so far are 401 UNAUTHENTICATED with the same error object$")]
async fn identical_errors(w: &mut XauthWorld) {
    let pointer = w.ctx.profile.error_code_pointer.as_str().to_owned();
    // the object holding the code: the pointer's parent (e.g. /error for /error/code)
    let parent = pointer
        .rsplit_once('/')
        .map(|(p, _)| p.to_owned())
        .unwrap_or_default();
    let expectation = format!(
        "every answer 401 UNAUTHENTICATED with the same JSON at {} (no error oracle)",
        if parent.is_empty() {
            "the body root"
        } else {
            &parent
        }
    );
    let mut first: Option<(Value, &Exchange)> = None;
    for ex in &w.exchanges {
        let Ok(r) = &ex.outcome else {
            w.fail(&expectation, &[ex])
        };
        if !is_error(w, r, 401, "UNAUTHENTICATED") {
            w.fail(&expectation, &[ex]);
        }
        let body = r.json().unwrap_or(Value::Null);
        let object = body.pointer(&parent).cloned().unwrap_or(Value::Null);
        match &first {
            None => first = Some((object, ex)),
            Some((v, first_ex)) => {
                if *v != object {
                    w.fail(&expectation, &[first_ex, ex]);
                }
            }
        }
    }
    if w.exchanges.len() < 2 {
        w.harness_error("this step compares at least two responses");
    }
}

#[then(regex = r"^the attacker listener received no request$")]
async fn listener_untouched(w: &mut XauthWorld) {
    // A fetch triggered by the token may still be in flight after the answer: give it a short,
    // bounded moment (this is the only wait in the suite; the listener cannot signal absence).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let Some(l) = &w.attacker else {
        w.harness_error("the attacker listener was never started")
    };
    let n = l.connections();
    if n != 0 {
        let lines = l.request_lines().join(" | ");
        w.fail(
            &format!("the attacker listener received no request (it received {n}: {lines})"),
            &[],
        );
    }
}
