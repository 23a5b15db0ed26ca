//! Refresh-family steps (`features/refresh.feature`): GoTrue's password and refresh grants sent
//! through the implementation's auth proxy the way supabase-js sends them, compared with
//! GoTrue's contract and, for errors, with the issuer's own answer to the same request.

use cucumber::{given, then, when};
use serde_json::{Value, json};

use super::response;
use crate::forge::jws::Jws;
use crate::net::evidence::{Exchange, Response};
use crate::net::target::TargetClient;
use crate::scenario::world::{CurrentToken, XauthWorld};

fn proxy_url(w: &XauthWorld, query: &str) -> url::Url {
    let path = w
        .ctx
        .profile
        .routes
        .auth_proxy
        .as_ref()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| w.harness_error("the profile declares no auth proxy"));
    w.ctx.target_url(&format!("{path}?{query}"))
}

fn direct_url(w: &XauthWorld, query: &str) -> url::Url {
    crate::net::urls::join(&w.ctx.issuer.auth_url(), &format!("/token?{query}"))
}

/// How far beyond the access-token lifetime plus the leeway the issuer's clock is set back (the
/// feature's "plus 60 seconds").
pub const CLOCK_BACK_EXTRA_SECONDS: i64 = 60;

/// The headers supabase-js sends to the token endpoint (anon key as apikey and bearer).
fn client_headers(w: &XauthWorld, api_version: bool) -> Vec<(String, String)> {
    let anon = w.ctx.issuer.anon_key.clone();
    let mut h = vec![
        ("apikey".to_owned(), anon.clone()),
        ("authorization".to_owned(), format!("Bearer {anon}")),
        (
            "content-type".to_owned(),
            "application/json;charset=UTF-8".to_owned(),
        ),
        (
            "x-client-info".to_owned(),
            "xauth-conformance (supabase-js compatible)".to_owned(),
        ),
    ];
    if api_version {
        h.push(("x-supabase-api-version".to_owned(), "2024-01-01".to_owned()));
    }
    h
}

/// One bounded `POST` with a JSON body, through the scenario's own client (source address,
/// timeout, body cap, no redirects); transport failures are recorded, never raised.
async fn post(w: &XauthWorld, url: url::Url, headers: &[(String, String)], body: &str) -> Exchange {
    post_with(&w.http, url, headers, body).await
}

/// [`post`] through `client` (e.g. one with a longer timeout).
async fn post_with(
    client: &TargetClient,
    url: url::Url,
    headers: &[(String, String)],
    body: &str,
) -> Exchange {
    let headers = headers
        .iter()
        .map(|(n, v)| (n.clone(), v.as_bytes().to_vec()))
        .collect();
    client
        .send_with_body(
            reqwest::Method::POST,
            url,
            headers,
            Some(body.as_bytes().to_vec()),
            None,
        )
        .await
}

/// Sends a token request through the proxy, remembers it for replay, records the answer, and
/// takes the session over when the answer is a token response.
async fn via_proxy(w: &mut XauthWorld, query: &str, body: Value, api_version: bool) -> Exchange {
    let client = w.http.clone();
    via_proxy_with(w, &client, query, body, api_version).await
}

/// [`via_proxy`] through `client`.
pub(super) async fn via_proxy_with(
    w: &mut XauthWorld,
    client: &TargetClient,
    query: &str,
    body: Value,
    api_version: bool,
) -> Exchange {
    let headers = client_headers(w, api_version);
    let body = body.to_string();
    let ex = post_with(client, proxy_url(w, query), &headers, &body).await;
    if let Some(r) = response(&ex)
        && r.status == 200
        && let Some(v) = r.json()
    {
        let access = v
            .get("access_token")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let refresh = v
            .get("refresh_token")
            .and_then(Value::as_str)
            .map(str::to_owned);
        {
            let s = &mut w.state;
            if access.is_some() {
                s.auth.access_token = access;
            }
            if let Some(r) = refresh {
                s.auth.refresh_tokens.push(r);
            }
        };
    }
    let stored = ex.clone();
    {
        let s = &mut w.state;
        s.auth.last_request = Some((query.to_owned(), headers, body));
        s.auth.proxy_answer = Some(stored);
    };
    w.exchanges.push(ex.clone());
    ex
}

pub(super) async fn password_body(w: &XauthWorld, wrong: bool) -> Value {
    let a = w.state.auth.clone();
    if a.email.is_empty() {
        w.harness_error("no user: a step must create one first");
    }
    let password = if wrong {
        format!("{}-wrong", a.password)
    } else {
        a.password
    };
    json!({"email": a.email, "password": password, "gotrue_meta_security": {}})
}

#[given(regex = r"^a confirmed user with a password, created through the issuer's admin API$")]
async fn create_user(w: &mut XauthWorld) {
    let email = format!("xauth-{}@example.com", uuid::Uuid::new_v4().simple());
    let password = format!("Xa-{}-9!", uuid::Uuid::new_v4().simple());
    let user = match w.issuer.create_user(&email, &password).await {
        Ok(u) => u,
        Err(e) => w.harness_error(e),
    };
    let Some(id) = user.get("id").and_then(Value::as_str) else {
        w.harness_error(format!(
            "the admin API answered a user without an id: {user}"
        ))
    };
    let id = id.to_owned();
    w.secrets.add(&password, "XAUTH_TEST_USER_PASSWORD");
    {
        let s = &mut w.state;
        s.auth.user_id = id;
        s.auth.email = email;
        s.auth.password = password;
    };
}

#[when(regex = r"^I sign in with the password grant through the auth proxy$")]
async fn sign_in(w: &mut XauthWorld) {
    let body = password_body(w, false).await;
    via_proxy(w, "grant_type=password", body, false).await;
}

async fn require_ok(w: &XauthWorld, ex: &Exchange, what: &str) {
    if response(ex).is_none_or(|r| r.status != 200) {
        w.fail(&format!("200 with a token response for {what}"), &[ex]);
    }
}

#[given(regex = r"^I signed in with the password grant through the auth proxy$")]
async fn signed_in(w: &mut XauthWorld) {
    let body = password_body(w, false).await;
    let ex = via_proxy(w, "grant_type=password", body, false).await;
    require_ok(w, &ex, "the password grant through the auth proxy").await;
}

pub(super) async fn latest_refresh_token(w: &XauthWorld) -> String {
    match w.state.auth.refresh_tokens.clone().last() {
        Some(t) => t.clone(),
        None => w.harness_error("no refresh token: the session was never signed in"),
    }
}

#[when(regex = r"^I refresh the session through the auth proxy$")]
async fn refresh(w: &mut XauthWorld) {
    let token = latest_refresh_token(w).await;
    via_proxy(
        w,
        "grant_type=refresh_token",
        json!({"refresh_token": token}),
        false,
    )
    .await;
}

#[given(regex = r"^I refreshed the session through the auth proxy twice$")]
async fn refreshed_twice(w: &mut XauthWorld) {
    for _ in 0..2 {
        let token = latest_refresh_token(w).await;
        let ex = via_proxy(
            w,
            "grant_type=refresh_token",
            json!({"refresh_token": token}),
            false,
        )
        .await;
        require_ok(w, &ex, "the refresh grant through the auth proxy").await;
    }
}

#[when(regex = r"^I refresh through the auth proxy with the first refresh token of the session$")]
async fn refresh_with_first(w: &mut XauthWorld) {
    let Some(first) = w.state.auth.refresh_tokens.clone().first().cloned() else {
        w.harness_error("no refresh token: the session was never signed in")
    };
    via_proxy(
        w,
        "grant_type=refresh_token",
        json!({"refresh_token": first}),
        false,
    )
    .await;
}

#[when(regex = r"^I refresh through the auth proxy with an unknown refresh token$")]
async fn refresh_unknown(w: &mut XauthWorld) {
    // GoTrue v1 format: 12 characters of lowercase base32
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let token: String = bytes[..12]
        .iter()
        .map(|b| ALPHABET[(*b as usize) % 32] as char)
        .collect();
    via_proxy(
        w,
        "grant_type=refresh_token",
        json!({"refresh_token": token}),
        false,
    )
    .await;
}

#[when(
    regex = r"^I sign in through the auth proxy with a wrong password (without an API version header|with X-Supabase-Api-Version 2024-01-01)$"
)]
async fn wrong_password(w: &mut XauthWorld, version: String) {
    let body = password_body(w, true).await;
    via_proxy(w, "grant_type=password", body, version.starts_with("with ")).await;
}

#[when(regex = r"^I send the same request to the issuer directly$")]
async fn same_request_direct(w: &mut XauthWorld) {
    let Some((query, headers, body)) = w.state.auth.last_request.clone() else {
        w.harness_error("no request was sent through the proxy")
    };
    let ex = post(w, direct_url(w, &query), &headers, &body).await;
    {
        let s = &mut w.state;
        s.auth.direct_answer = Some(ex.clone());
    };
    w.exchanges.push(ex);
}

#[when(regex = r"^I call the protected route with its access token$")]
async fn call_with_access_token(w: &mut XauthWorld) {
    let Some(token) = w.state.auth.access_token.clone() else {
        w.harness_error("no access token: the session was never signed in")
    };
    w.token = Some(CurrentToken {
        compact: token.clone(),
        recipe: vec!["access token of the auth proxy's last token response".into()],
        origin: None,
    });
    let url = w.ctx.target_url(w.ctx.profile.routes.protected.as_str());
    super::super::requests::call(w, url, Some(format!("Bearer {token}")), Some(token)).await;
}

pub(super) async fn proxy_answer(w: &XauthWorld) -> Exchange {
    match w.state.auth.proxy_answer.clone() {
        Some(e) => e,
        None => w.harness_error("no request was sent through the proxy"),
    }
}

/// Checks GoTrue's token response shape; returns what is wrong, if anything.
fn token_response_problem(body: &Value, user_id: &str, email: &str) -> Option<String> {
    let Some(access) = body.get("access_token").and_then(Value::as_str) else {
        return Some("access_token is not a string".into());
    };
    let claims = match Jws::parse(access).and_then(|j| j.payload_json()) {
        Ok(c) => c,
        Err(e) => return Some(format!("access_token is not a JWS: {e}")),
    };
    let exp = claims.get("exp").and_then(Value::as_i64);
    let iat = claims.get("iat").and_then(Value::as_i64);
    let (Some(exp), Some(iat)) = (exp, iat) else {
        return Some("the access token has no integer exp and iat".into());
    };
    if claims.get("sub").and_then(Value::as_str) != Some(user_id) {
        return Some(format!(
            "the access token's sub is not the user's id {user_id}"
        ));
    }
    if body.get("token_type").and_then(Value::as_str) != Some("bearer") {
        return Some("token_type is not \"bearer\"".into());
    }
    let Some(expires_in) = body.get("expires_in").and_then(Value::as_i64) else {
        return Some("expires_in is not an integer".into());
    };
    if expires_in <= 0 || (expires_in - (exp - iat)).abs() > 1 {
        return Some(format!(
            "expires_in {expires_in} is not the token's lifetime exp - iat = {}",
            exp - iat
        ));
    }
    if body.get("expires_at").and_then(Value::as_i64) != Some(exp) {
        return Some(format!("expires_at is not the token's exp {exp}"));
    }
    match body.get("refresh_token").and_then(Value::as_str) {
        Some(r) if !r.is_empty() => {}
        _ => return Some("refresh_token is missing or empty".into()),
    }
    let Some(user) = body.get("user") else {
        return Some("user is missing".into());
    };
    if user.get("id").and_then(Value::as_str) != Some(user_id)
        || user.get("email").and_then(Value::as_str) != Some(email)
    {
        return Some("user is not the signed-in user's object (id, email)".into());
    }
    None
}

async fn check_token_response(w: &XauthWorld, new_refresh: bool) {
    let ex = proxy_answer(w).await;
    let a = w.state.auth.clone();
    let expectation = "200 with GoTrue's token response: access_token (a JWS for the user), token_type \"bearer\", expires_in = exp - iat, expires_at = exp, a refresh_token and the user object";
    let Some(r) = response(&ex) else {
        w.fail(expectation, &[&ex])
    };
    let body = r.json().unwrap_or(Value::Null);
    if r.status != 200 || body.get("access_token").is_none() || body.get("user").is_none() {
        w.fail(expectation, &[&ex]);
    }
    if let Some(problem) = token_response_problem(&body, &a.user_id, &a.email) {
        w.fail(&format!("{expectation}; but {problem}"), &[&ex]);
    }
    if new_refresh {
        let n = a.refresh_tokens.len();
        if n < 2 || a.refresh_tokens[n - 1] == a.refresh_tokens[n - 2] {
            w.fail("a new refresh token (rotation): the refreshed session's refresh_token differs from the one spent",
                &[&ex],
            );
        }
    }
}

#[then(regex = r"^the answer is GoTrue's token response for that user$")]
async fn is_token_response(w: &mut XauthWorld) {
    check_token_response(w, false).await;
}

#[then(regex = r"^the answer is GoTrue's token response for that user, with a new refresh token$")]
async fn is_new_token_response(w: &mut XauthWorld) {
    check_token_response(w, true).await;
}

/// GoTrue's error code of an answer: the `x-sb-error-code` header and the body's `error_code`
/// (legacy shape) or `code` (API version 2024-01-01); `None` unless both agree.
fn gotrue_code(r: &Response) -> Option<String> {
    let header = r.header("x-sb-error-code")?.to_owned();
    let body = r.json()?;
    let in_body = body
        .get("error_code")
        .and_then(Value::as_str)
        .or_else(|| body.get("code").and_then(Value::as_str))?;
    (in_body == header).then_some(header)
}

#[then(regex = r"^the answer is GoTrue's 400 refresh_token_already_used error$")]
async fn already_used(w: &mut XauthWorld) {
    let ex = proxy_answer(w).await;
    let ok = response(&ex).is_some_and(|r| {
        r.status == 400 && gotrue_code(r).as_deref() == Some("refresh_token_already_used")
    });
    if !ok {
        w.fail("400 with GoTrue's error code refresh_token_already_used (x-sb-error-code and body): a refresh token spent two rotations ago, reused after the reuse interval",
            &[&ex],
        );
    }
}

#[then(
    regex = r"^the answer is a GoTrue 400 refresh error, because the session's refresh tokens were revoked$"
)]
async fn family_revoked(w: &mut XauthWorld) {
    let ex = proxy_answer(w).await;
    let ok = response(&ex).is_some_and(|r| {
        r.status == 400
            && matches!(
                gotrue_code(r).as_deref(),
                Some(
                    "refresh_token_already_used" | "refresh_token_not_found" | "session_not_found"
                )
            )
    });
    if !ok {
        w.fail("400 with GoTrue's error code refresh_token_already_used, refresh_token_not_found or session_not_found for the session's latest refresh token: detected reuse revokes the whole token family",
            &[&ex],
        );
    }
}

#[then(
    regex = r"^both answers are GoTrue's 400 (invalid_credentials|refresh_token_not_found) with the same body, x-sb-error-code and X-Supabase-Api-Version$"
)]
async fn same_as_direct(w: &mut XauthWorld, code: String) {
    let proxied = proxy_answer(w).await;
    let Some(direct) = w.state.auth.direct_answer.clone() else {
        w.harness_error("the request was not sent to the issuer directly")
    };
    let d = response(&direct);
    if !d.is_some_and(|r| r.status == 400 && gotrue_code(r).as_deref() == Some(code.as_str())) {
        w.harness_error(format!(
            "the issuer itself did not answer 400 {code}: {:?}",
            d.map(|r| (r.status, String::from_utf8_lossy(&r.body).into_owned()))
        ));
    }
    let expectation = format!(
        "the auth proxy relays GoTrue's 400 {code} unchanged: the same status, JSON body, \
         x-sb-error-code and X-Supabase-Api-Version as the issuer's own answer (auth-js reads \
         the error code from the body's \"code\" only when the answer carries \
         X-Supabase-Api-Version)"
    );
    let (Some(p), Some(d)) = (response(&proxied), d) else {
        w.fail(&expectation, &[&proxied, &direct])
    };
    let mut differs = Vec::new();
    if p.status != d.status {
        differs.push("the status".to_owned());
    }
    if p.json().is_none() || p.json() != d.json() {
        differs.push("the JSON body".to_owned());
    }
    for name in ["x-sb-error-code", "x-supabase-api-version"] {
        if p.header(name) != d.header(name) {
            differs.push(format!(
                "the {name} header (proxy {:?}, issuer {:?})",
                p.header(name),
                d.header(name)
            ));
        }
    }
    if !differs.is_empty() {
        let expectation = format!("{expectation}; differs: {}", differs.join(", "));
        w.fail(&expectation, &[&proxied, &direct]);
    }
}

// ---- the issuer's clock ----

#[given(
    regex = r"^the issuer's clock is set back by the access-token lifetime plus the declared leeway plus 60 seconds$"
)]
async fn clock_back(w: &mut XauthWorld) {
    // the issuer's access-token lifetime, from its own answer to a password grant
    let body = password_body(w, false).await.to_string();
    let headers = client_headers(w, false);
    let ex = post(w, direct_url(w, "grant_type=password"), &headers, &body).await;
    let lifetime = response(&ex)
        .filter(|r| r.status == 200)
        .and_then(Response::json)
        .and_then(|v| v.get("expires_in").and_then(Value::as_i64))
        .filter(|n| *n > 0);
    let Some(lifetime) = lifetime else {
        w.harness_error(format!(
            "the issuer's own password grant gave no expires_in: {:?}",
            ex.outcome.as_ref().map(|r| r.status)
        ))
    };
    let offset = -(lifetime + w.ctx.profile.leeway_seconds as i64 + CLOCK_BACK_EXTRA_SECONDS);
    if let Err(e) = w.issuer.set_clock_offset(offset).await {
        w.harness_error(e);
    }
}
