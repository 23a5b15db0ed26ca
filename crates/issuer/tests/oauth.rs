//! The OAuth 2.1 server, over real HTTP: discovery, dynamic registration, /authorize with the
//! control API's auto-approve, the code grant with S256 PKCE, refresh rotation, ID tokens,
//! userinfo, the control switches and the input bounds. Time moves through the issuer's clock.
//! (Past 500 lines: one test binary per API, each linking the whole issuer, keeps builds short.)
// unwrap() is the assertion in tests (the helpers here and in `support` included).
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::{Harness, Reply, SEED_EMAIL, jwt_claims, start_seeded, verify_with_jwks};

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const RESOURCE: &str = "https://mcp.example.com/mcp";

const FORM: &str = "application/x-www-form-urlencoded";

fn encode(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A PKCE verifier and its S256 challenge.
struct Pkce {
    verifier: String,
    challenge: String,
}

fn pkce() -> Pkce {
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    Pkce {
        verifier,
        challenge,
    }
}

async fn register(h: &Harness, body: Value) -> Reply {
    // No apikey: OAuth clients have none.
    h.send(
        h.http
            .post(format!("{}/oauth/clients/register", h.auth_url))
            .json(&body),
    )
    .await
}

/// A public client (token_endpoint_auth_method `none`) with [`REDIRECT`]; its id.
async fn public_client(h: &Harness) -> String {
    let reply = register(
        h,
        json!({"client_name": "MCP test", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["client_type"], "public");
    assert!(body.get("client_secret").is_none());
    body["client_id"].as_str().unwrap().to_owned()
}

async fn auto_approve(h: &Harness, email: &str) {
    let resp = h
        .control_post("/oauth/auto-approve", Some(json!({"email": email})))
        .await;
    assert_eq!(resp.status(), 200);
}

async fn control_put(h: &Harness, path: &str, body: Value) -> Value {
    let resp = h
        .http
        .put(h.url(&format!("/_control/v1{path}")))
        .bearer_auth(&h.service_key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

async fn authorize(h: &Harness, params: &[(&str, &str)]) -> Reply {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    h.send(
        h.http
            .get(format!("{}/oauth/authorize?{query}", h.auth_url)),
    )
    .await
}

/// The standard parameters for `client` with `p`, plus `extra`.
fn params<'a>(
    client: &'a str,
    p: &'a Pkce,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut v: Vec<(&str, &str)> = vec![
        ("client_id", client),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("code_challenge", p.challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("state", "xyz 1"),
    ];
    // An extra parameter replaces a default of the same name.
    v.retain(|(k, _)| !extra.iter().any(|(name, _)| name == k));
    v.extend_from_slice(extra);
    v
}

/// The query parameters of the 302's `Location`, asserting it goes to `prefix`.
fn redirected(reply: &Reply, prefix: &str) -> HashMap<String, String> {
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.text);
    let location = reply.header("location").expect("a Location");
    assert!(location.starts_with(prefix), "{location}");
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// An approved code for `client`.
async fn approved_code(h: &Harness, client: &str, p: &Pkce, extra: &[(&str, &str)]) -> String {
    let reply = authorize(h, &params(client, p, extra)).await;
    let q = redirected(&reply, REDIRECT);
    assert_eq!(q["state"], "xyz 1");
    q["code"].clone()
}

async fn token(h: &Harness, form: &[(&str, &str)]) -> Reply {
    h.send(
        h.http
            .post(format!("{}/oauth/token", h.auth_url))
            .header("content-type", FORM)
            .body(encode(form)),
    )
    .await
}

async fn exchange(h: &Harness, client: &str, code: &str, verifier: &str) -> Reply {
    token(
        h,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", client),
            ("code_verifier", verifier),
        ],
    )
    .await
}

async fn refresh(h: &Harness, client: &str, refresh_token: &str) -> Reply {
    token(
        h,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", client),
        ],
    )
    .await
}

fn oauth_error(reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    reply.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A seeded issuer with a public client and auto-approve of the seeded user.
async fn ready() -> (Harness, String) {
    let h = start_seeded().await;
    let client = public_client(&h).await;
    auto_approve(&h, SEED_EMAIL).await;
    (h, client)
}

#[tokio::test]
async fn discovery_is_served_at_both_urls_and_points_at_the_jwks() {
    let h = start_seeded().await;
    let info = h.issuer.info();
    let mut bodies = Vec::new();
    for url in [
        h.url("/auth/v1/.well-known/openid-configuration"),
        h.url("/auth/v1/.well-known/oauth-authorization-server"),
        h.url("/.well-known/oauth-authorization-server/auth/v1"),
    ] {
        let reply = h.send(h.http.get(&url)).await;
        assert_eq!(reply.status, StatusCode::OK, "{url}");
        bodies.push(reply.text);
    }
    assert!(bodies.iter().all(|b| *b == bodies[0]));
    // Browser-based MCP clients fetch it cross-origin.
    let cors = h
        .send(
            h.http
                .get(h.url("/.well-known/oauth-authorization-server/auth/v1"))
                .header("origin", "http://localhost:6274"),
        )
        .await;
    assert_eq!(
        cors.header("access-control-allow-origin"),
        Some("http://localhost:6274")
    );
    let doc: Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(doc["issuer"], info.issuer.as_str());
    assert_eq!(doc["jwks_uri"], info.jwks_url.as_str());
    assert_eq!(
        doc["authorization_endpoint"],
        format!("{}/oauth/authorize", info.issuer)
    );
    assert_eq!(
        doc["token_endpoint"],
        format!("{}/oauth/token", info.issuer)
    );
    assert_eq!(
        doc["userinfo_endpoint"],
        format!("{}/oauth/userinfo", info.issuer)
    );
    assert_eq!(
        doc["registration_endpoint"],
        format!("{}/oauth/clients/register", info.issuer)
    );
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    assert_eq!(
        doc["grant_types_supported"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post", "none"])
    );
    assert_eq!(
        doc["scopes_supported"],
        json!(["openid", "profile", "email", "phone", "offline_access"])
    );
    // The JWKS the document names is the one that verifies the tokens.
    let jwks = h.send(h.http.get(doc["jwks_uri"].as_str().unwrap())).await;
    assert_eq!(jwks.status, StatusCode::OK);
}

#[tokio::test]
async fn registration_authorize_and_token_give_a_verifiable_access_token() {
    let (h, client) = ready().await;
    let p = pkce();
    let code = approved_code(&h, &client, &p, &[("scope", "email")]).await;
    let reply = exchange(&h, &client, &code, &p.verifier).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let body = reply.json();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["access_token", "expires_in", "refresh_token", "token_type"]
    );
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    let access = body["access_token"].as_str().unwrap();
    let claims = verify_with_jwks(access, &h.jwks().await, Algorithm::ES256, &h.auth_url)
        .expect("the access token verifies against the JWKS");
    assert_eq!(claims["aud"], "authenticated");
    assert_eq!(claims["client_id"], client.as_str());
    assert_eq!(claims["scope"], "email");
    assert_eq!(claims["role"], "authenticated");
    assert_eq!(claims["email"], SEED_EMAIL);
    assert_eq!(claims["aal"], "aal1");
    assert_eq!(
        claims["amr"][0]["method"],
        "oauth_provider/authorization_code"
    );
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    assert_eq!(
        support::claim_names(access)[..2],
        ["iss".to_owned(), "sub".to_owned()]
    );
    assert_eq!(support::claim_names(access).last().unwrap(), "scope");
    // It is a normal GoTrue session.
    let user = h.get_user(access).await;
    assert_eq!(user.status, StatusCode::OK, "{}", user.text);
    assert_eq!(
        reply.header("sb-auth-session-id"),
        claims["session_id"].as_str()
    );
    let counters = h.control_json("/counters").await;
    assert_eq!(
        counters["oauth"],
        json!({"codes_issued": 1, "codes_redeemed": 1})
    );
}

#[tokio::test]
async fn plain_and_missing_pkce_challenges_are_refused() {
    let (h, client) = ready().await;
    let p = pkce();
    for (method, challenge) in [
        ("plain", p.verifier.as_str()),
        ("", p.challenge.as_str()),
        ("S256", ""),
        ("S256", "too-short"),
    ] {
        let reply = authorize(
            &h,
            &[
                ("client_id", &client),
                ("redirect_uri", REDIRECT),
                ("code_challenge", challenge),
                ("code_challenge_method", method),
                ("state", "s"),
            ],
        )
        .await;
        let q = redirected(&reply, REDIRECT);
        assert_eq!(q["error"], "invalid_request", "{method} {challenge}");
        assert_eq!(q["state"], "s");
        assert!(!q.contains_key("code"));
    }
    assert_eq!(
        h.control_json("/counters").await["oauth"]["codes_issued"],
        0
    );
}

#[tokio::test]
async fn a_wrong_verifier_is_invalid_grant() {
    let (h, client) = ready().await;
    let p = pkce();
    let code = approved_code(&h, &client, &p, &[]).await;
    let wrong = exchange(&h, &client, &code, &pkce().verifier).await;
    assert_eq!(oauth_error(&wrong), "invalid_grant");
    assert!(
        wrong.json()["error_description"]
            .as_str()
            .unwrap()
            .starts_with("PKCE verification failed")
    );
    let missing = exchange(&h, &client, &code, "").await;
    assert_eq!(oauth_error(&missing), "invalid_grant");
    // As in GoTrue, a failed exchange does not consume the code.
    let right = exchange(&h, &client, &code, &p.verifier).await;
    assert_eq!(right.status, StatusCode::OK, "{}", right.text);
}

#[tokio::test]
async fn a_code_works_once_and_a_replay_revokes_its_session() {
    let (h, client) = ready().await;
    let p = pkce();
    let code = approved_code(&h, &client, &p, &[]).await;
    let first = exchange(&h, &client, &code, &p.verifier).await;
    assert_eq!(first.status, StatusCode::OK);
    let access = first.json()["access_token"].as_str().unwrap().to_owned();
    let refresh_token = first.json()["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(h.get_user(&access).await.status, StatusCode::OK);

    let replay = exchange(&h, &client, &code, &p.verifier).await;
    assert_eq!(oauth_error(&replay), "invalid_grant");
    assert_eq!(
        replay.json()["error_description"],
        "Invalid authorization code"
    );
    // The session the code produced is gone.
    let user = h.get_user(&access).await;
    assert_eq!(user.status, StatusCode::FORBIDDEN);
    assert_eq!(user.error_code(), "session_not_found");
    assert_eq!(
        oauth_error(&refresh(&h, &client, &refresh_token).await),
        "invalid_grant"
    );
}

#[tokio::test]
async fn a_code_expires_ten_minutes_after_authorize() {
    let (h, client) = ready().await;
    let p = pkce();
    let late = approved_code(&h, &client, &p, &[]).await;
    let q = pkce();
    let in_time = approved_code(&h, &client, &q, &[]).await;
    h.advance(599);
    let ok = exchange(&h, &client, &in_time, &q.verifier).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    h.advance(2); // 601 s after /authorize
    let expired = exchange(&h, &client, &late, &p.verifier).await;
    assert_eq!(oauth_error(&expired), "invalid_grant");
    assert_eq!(
        expired.json()["error_description"],
        "Authorization code has expired"
    );
}

#[tokio::test]
async fn an_unregistered_redirect_uri_is_refused_without_redirecting() {
    let (h, client) = ready().await;
    let p = pkce();
    for uri in [
        "http://127.0.0.1:9/other",
        "http://127.0.0.1:9/callback/",
        "https://evil.example/callback",
    ] {
        let reply = authorize(
            &h,
            &[
                ("client_id", &client),
                ("redirect_uri", uri),
                ("code_challenge", &p.challenge),
                ("code_challenge_method", "S256"),
            ],
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(reply.header("location").is_none());
        assert_eq!(reply.error_code(), "validation_failed");
    }
    let unknown = authorize(&h, &params(&uuid::Uuid::new_v4().to_string(), &p, &[])).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(unknown.header("location").is_none());
    // The code is bound to the redirect URI it was issued for.
    let code = approved_code(&h, &client, &p, &[]).await;
    let other = token(
        &h,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/other"),
            ("client_id", &client),
            ("code_verifier", &p.verifier),
        ],
    )
    .await;
    assert_eq!(oauth_error(&other), "invalid_grant");
    // ... and to its client.
    let another = public_client(&h).await;
    let stolen = exchange(&h, &another, &code, &p.verifier).await;
    assert_eq!(oauth_error(&stolen), "invalid_grant");
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_old_token_revokes_the_family() {
    let (h, client) = ready().await;
    let p = pkce();
    let code = approved_code(&h, &client, &p, &[]).await;
    let t0 = exchange(&h, &client, &code, &p.verifier).await.json();
    let r0 = t0["refresh_token"].as_str().unwrap().to_owned();
    let first = refresh(&h, &client, &r0).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let r1 = first.json()["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r0);
    let claims = jwt_claims(first.json()["access_token"].as_str().unwrap());
    assert_eq!(claims["client_id"], client.as_str());
    assert_eq!(
        claims["session_id"],
        jwt_claims(t0["access_token"].as_str().unwrap())["session_id"]
    );
    // Nor may anyone at the password-session endpoint, without the client.
    let gotrue = h
        .send(
            h.http
                .post(format!("{}/token?grant_type=refresh_token", h.auth_url))
                .header("apikey", &h.issuer.info().anon_key)
                .header("content-type", "application/json")
                .body(json!({"refresh_token": r1}).to_string()),
        )
        .await;
    assert_eq!(gotrue.status, StatusCode::BAD_REQUEST, "{}", gotrue.text);
    assert!(gotrue.text.contains("invalid_client"), "{}", gotrue.text);
    // Another client may not refresh this session.
    let other = public_client(&h).await;
    assert_eq!(
        oauth_error(&refresh(&h, &other, &r1).await),
        "invalid_client"
    );
    let second = refresh(&h, &client, &r1).await;
    assert_eq!(second.status, StatusCode::OK);
    let r2 = second.json()["refresh_token"].as_str().unwrap().to_owned();
    // Past GoTrue's reuse interval, the old token is refused and the family revoked.
    h.advance(11);
    let reused = refresh(&h, &client, &r0).await;
    assert_eq!(oauth_error(&reused), "invalid_grant");
    assert_eq!(
        reused.json()["error_description"],
        "Refresh token is invalid or expired."
    );
    // The family is revoked: once the reuse interval has passed for its newest token too.
    h.advance(11);
    assert_eq!(
        oauth_error(&refresh(&h, &client, &r2).await),
        "invalid_grant"
    );
}

#[tokio::test]
async fn the_id_token_is_for_the_client() {
    let (h, client) = ready().await;
    let p = pkce();
    let code = approved_code(
        &h,
        &client,
        &p,
        &[("scope", "openid email"), ("nonce", "n-0S6")],
    )
    .await;
    let body = exchange(&h, &client, &code, &p.verifier).await.json();
    let id_token = body["id_token"].as_str().expect("an id_token with openid");
    let jwks = h.jwks().await;
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    let key = DecodingKey::from_jwk(jwks.find(&header.kid.unwrap()).unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&[client.as_str()]);
    validation.set_issuer(&[h.auth_url.as_str()]);
    let claims = jsonwebtoken::decode::<Value>(id_token, &key, &validation)
        .expect("the ID token verifies with aud = client_id")
        .claims;
    assert_eq!(claims["aud"], client.as_str());
    assert_eq!(claims["nonce"], "n-0S6");
    assert_eq!(claims["email"], SEED_EMAIL);
    assert_eq!(claims["email_verified"], true);
    assert_eq!(
        claims["sub"],
        jwt_claims(body["access_token"].as_str().unwrap())["sub"]
    );
    // Without openid there is none.
    let q = pkce();
    let code = approved_code(&h, &client, &q, &[("scope", "email")]).await;
    let body = exchange(&h, &client, &code, &q.verifier).await.json();
    assert!(body.get("id_token").is_none());
}

#[tokio::test]
async fn userinfo_answers_by_scope() {
    let (h, client) = ready().await;
    let p = pkce();
    let code = approved_code(&h, &client, &p, &[("scope", "openid email")]).await;
    let access = exchange(&h, &client, &code, &p.verifier).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = format!("{}/oauth/userinfo", h.auth_url);
    let info = h.send(h.http.get(&url).bearer_auth(&access)).await;
    assert_eq!(info.status, StatusCode::OK, "{}", info.text);
    let info = info.json();
    assert_eq!(info["sub"], jwt_claims(&access)["sub"]);
    assert_eq!(info["email"], SEED_EMAIL);
    assert_eq!(info["email_verified"], true);
    assert!(info.get("name").is_none(), "no profile scope");
    let anonymous = h.send(h.http.get(&url)).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let garbage = h.send(h.http.get(&url).bearer_auth("not-a-jwt")).await;
    assert_eq!(garbage.status, StatusCode::FORBIDDEN);
    // GoTrue routes userinfo for GET only.
    let post = h.send(h.http.post(&url).bearer_auth(&access)).await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn the_hook_switch_sets_aud_to_the_resource() {
    let (h, client) = ready().await;
    let aud = |body: &Value| jwt_claims(body["access_token"].as_str().unwrap())["aud"].clone();
    let p = pkce();
    let code = approved_code(&h, &client, &p, &[("resource", RESOURCE)]).await;
    let off = exchange(&h, &client, &code, &p.verifier).await.json();
    assert_eq!(
        aud(&off),
        "authenticated",
        "resource is ignored without the hook"
    );

    let settings = control_put(&h, "/oauth", json!({"access_token_hook": true})).await;
    assert_eq!(settings["access_token_hook"], true);
    let q = pkce();
    let code = approved_code(&h, &client, &q, &[("resource", RESOURCE)]).await;
    let on = exchange(&h, &client, &code, &q.verifier).await.json();
    assert_eq!(aud(&on), RESOURCE);
    let refreshed = refresh(&h, &client, on["refresh_token"].as_str().unwrap())
        .await
        .json();
    assert_eq!(aud(&refreshed), RESOURCE);
    // Without a resource the hook leaves aud alone.
    let r = pkce();
    let code = approved_code(&h, &client, &r, &[]).await;
    assert_eq!(
        aud(&exchange(&h, &client, &code, &r.verifier).await.json()),
        "authenticated"
    );
}

#[tokio::test]
async fn switches_turn_registration_and_the_server_off() {
    let h = start_seeded().await;
    control_put(&h, "/oauth", json!({"dynamic_registration": false})).await;
    let refused = register(&h, json!({"redirect_uris": [REDIRECT]})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused.error_code(),
        "oauth_dynamic_client_registration_disabled"
    );
    let doc = h
        .send(
            h.http
                .get(h.url("/auth/v1/.well-known/oauth-authorization-server")),
        )
        .await
        .json();
    assert!(doc.get("registration_endpoint").is_none());

    control_put(&h, "/oauth", json!({"enabled": false})).await;
    for url in [
        h.url("/auth/v1/.well-known/oauth-authorization-server"),
        h.url("/.well-known/oauth-authorization-server/auth/v1"),
        format!("{}/oauth/authorize?client_id=x", h.auth_url),
        format!("{}/oauth/userinfo", h.auth_url),
    ] {
        let reply = h.send(h.http.get(&url)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{url}");
        assert_eq!(reply.error_code(), "feature_disabled", "{url}");
    }
    let openid = h
        .send(
            h.http
                .get(h.url("/auth/v1/.well-known/openid-configuration")),
        )
        .await;
    assert_eq!(openid.status, StatusCode::OK);

    let reset = h.control_delete("/oauth").await;
    assert_eq!(reset.status(), 204);
    let settings = h.control_json("/oauth").await;
    assert_eq!(
        settings,
        json!({"enabled": true, "dynamic_registration": true, "access_token_hook": false, "auto_approve_user_id": null})
    );
    assert_eq!(
        register(&h, json!({"redirect_uris": [REDIRECT]}))
            .await
            .status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn without_auto_approve_authorize_goes_to_the_consent_page() {
    let h = start_seeded().await;
    let client = public_client(&h).await;
    let p = pkce();
    let reply = authorize(&h, &params(&client, &p, &[])).await;
    let q = redirected(&reply, "http://127.0.0.1:3000/oauth/consent?");
    assert_eq!(q["authorization_id"].len(), 32);
    assert_eq!(
        h.control_json("/counters").await["oauth"]["codes_issued"],
        0
    );
    // Auto-approve of an unknown user is refused; clearing it restores the consent redirect.
    let unknown = h
        .control_post(
            "/oauth/auto-approve",
            Some(json!({"user_id": uuid::Uuid::new_v4()})),
        )
        .await;
    assert_eq!(unknown.status(), 404);
    auto_approve(&h, SEED_EMAIL).await;
    redirected(&authorize(&h, &params(&client, &p, &[])).await, REDIRECT);
    assert_eq!(h.control_delete("/oauth/auto-approve").await.status(), 204);
    redirected(
        &authorize(&h, &params(&client, &p, &[])).await,
        "http://127.0.0.1:3000/",
    );
}

#[tokio::test]
async fn confidential_clients_authenticate_with_their_secret() {
    let h = start_seeded().await;
    auto_approve(&h, SEED_EMAIL).await;
    let reply = register(&h, json!({"redirect_uris": [REDIRECT]})).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let body = reply.json();
    assert_eq!(body["client_type"], "confidential");
    assert_eq!(body["token_endpoint_auth_method"], "client_secret_basic");
    let client = body["client_id"].as_str().unwrap().to_owned();
    let secret = body["client_secret"].as_str().unwrap().to_owned();
    let p = pkce();
    let code = approved_code(&h, &client, &p, &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("code_verifier", p.verifier.as_str()),
    ];
    let url = format!("{}/oauth/token", h.auth_url);
    for (user, password) in [(client.as_str(), "wrong"), (client.as_str(), "")] {
        let refused = h
            .send(
                h.http
                    .post(&url)
                    .basic_auth(user, Some(password))
                    .header("content-type", FORM)
                    .body(encode(&form)),
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert_eq!(refused.error_code(), "invalid_credentials");
    }
    // client_secret_post is not the method it registered.
    let mut post = form.to_vec();
    post.extend([
        ("client_id", client.as_str()),
        ("client_secret", secret.as_str()),
    ]);
    let wrong_method = h
        .send(
            h.http
                .post(&url)
                .header("content-type", FORM)
                .body(encode(&post)),
        )
        .await;
    assert_eq!(wrong_method.error_code(), "invalid_credentials");
    let none = token(&h, &form).await;
    assert_eq!(oauth_error(&none), "invalid_client");
    let ok = h
        .send(
            h.http
                .post(&url)
                .basic_auth(&client, Some(&secret))
                .header("content-type", FORM)
                .body(encode(&form)),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
}

#[tokio::test]
async fn oversized_and_malformed_inputs_are_refused_without_server_errors() {
    let (h, client) = ready().await;
    let too_many: Vec<String> = (0..11)
        .map(|i| format!("http://127.0.0.1:9/cb{i}"))
        .collect();
    let long_uri = format!("http://127.0.0.1:9/{}", "a".repeat(3000));
    for body in [
        json!({"redirect_uris": too_many}),
        json!({"redirect_uris": [REDIRECT], "client_name": "n".repeat(1025)}),
        json!({"redirect_uris": [long_uri]}),
        json!({"redirect_uris": ["http://example.com/cb"]}),
        json!({"redirect_uris": [REDIRECT], "grant_types": ["client_credentials"]}),
        json!({}),
    ] {
        let reply = register(&h, body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
        assert_eq!(reply.error_code(), "validation_failed");
    }
    let not_json = h
        .send(
            h.http
                .post(format!("{}/oauth/clients/register", h.auth_url))
                .body("{"),
        )
        .await;
    assert_eq!(not_json.error_code(), "bad_json");

    let p = pkce();
    let long_scope = "email ".repeat(300);
    let long_state = "s".repeat(5000);
    for extra in [
        ("scope", long_scope.as_str()),
        ("state", long_state.as_str()),
    ] {
        let reply = authorize(&h, &params(&client, &p, &[extra])).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", extra.0);
        assert!(reply.header("location").is_none());
    }
    let bad_scope = authorize(&h, &params(&client, &p, &[("scope", "admin")])).await;
    assert_eq!(redirected(&bad_scope, REDIRECT)["error"], "invalid_request");

    let huge = "x".repeat(70 * 1024);
    let too_big = token(&h, &[("grant_type", "authorization_code"), ("code", &huge)]).await;
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
    let no_grant = token(&h, &[("client_id", &client)]).await;
    assert_eq!(oauth_error(&no_grant), "invalid_request");
    let unsupported = token(
        &h,
        &[("grant_type", "client_credentials"), ("client_id", &client)],
    )
    .await;
    assert_eq!(oauth_error(&unsupported), "unsupported_grant_type");
    let bad_json = h
        .send(
            h.http
                .post(format!("{}/oauth/token", h.auth_url))
                .header("content-type", "application/json")
                .body("[1,2]"),
        )
        .await;
    assert_eq!(bad_json.error_code(), "invalid_credentials");
    // GoTrue authenticates the client before it decodes the grant parameters.
    let json_token = |body: Value| {
        h.send(
            h.http
                .post(format!("{}/oauth/token", h.auth_url))
                .json(&body),
        )
    };
    let unknown_client =
        json_token(json!({"client_id": uuid::Uuid::new_v4(), "grant_type": 5})).await;
    assert_eq!(unknown_client.error_code(), "invalid_credentials");
    let bad_type = json_token(json!({"client_id": client, "grant_type": 5})).await;
    assert_eq!(oauth_error(&bad_type), "invalid_request");
    let unknown_code = exchange(&h, &client, "no-such-code", &p.verifier).await;
    assert_eq!(oauth_error(&unknown_code), "invalid_grant");
}

#[tokio::test]
async fn the_consent_page_api_approves_denies_and_remembers() {
    let h = start_seeded().await;
    let client = public_client(&h).await;
    let session = h.session(SEED_EMAIL, support::SEED_PASSWORD).await;
    let user_token = session["access_token"].as_str().unwrap().to_owned();
    let consent_id = |reply: &Reply| {
        redirected(reply, "http://127.0.0.1:3000/oauth/consent?")["authorization_id"].clone()
    };
    let details = |id: String| {
        h.send(
            h.request(reqwest::Method::GET, &format!("/oauth/authorizations/{id}"))
                .bearer_auth(&user_token),
        )
    };
    let decide = |id: String, action: &'static str| {
        h.send(
            h.request(
                reqwest::Method::POST,
                &format!("/oauth/authorizations/{id}/consent"),
            )
            .bearer_auth(&user_token)
            .json(&json!({ "action": action })),
        )
    };

    let p = pkce();
    let id = consent_id(&authorize(&h, &params(&client, &p, &[("scope", "openid email")])).await);
    let shown = details(id.clone()).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text);
    let shown = shown.json();
    assert_eq!(shown["client"]["id"], client.as_str());
    assert_eq!(shown["client"]["name"], "MCP test");
    assert_eq!(shown["user"]["email"], SEED_EMAIL);
    assert_eq!(shown["scope"], "openid email");
    let approved = decide(id.clone(), "approve").await.json();
    let url = url::Url::parse(approved["redirect_url"].as_str().unwrap()).unwrap();
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["state"], "xyz 1");
    let ok = exchange(&h, &client, &q["code"], &p.verifier).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    // The request is no longer pending.
    assert_eq!(decide(id, "approve").await.status, StatusCode::NOT_FOUND);

    // The consent is remembered: the details call approves at once.
    let id = consent_id(&authorize(&h, &params(&client, &p, &[("scope", "email")])).await);
    let again = details(id).await.json();
    assert!(again["redirect_url"].as_str().unwrap().contains("code="));

    // A new scope asks again; denying sends access_denied back to the client.
    let id = consent_id(&authorize(&h, &params(&client, &p, &[("scope", "profile")])).await);
    assert!(
        details(id.clone())
            .await
            .json()
            .get("authorization_id")
            .is_some()
    );
    let denied = decide(id, "deny").await.json();
    let url = url::Url::parse(denied["redirect_url"].as_str().unwrap()).unwrap();
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["error"], "access_denied");
    assert!(!q.contains_key("code"));

    // Without a session, or for an unknown request, nothing is disclosed.
    let id = consent_id(&authorize(&h, &params(&client, &p, &[])).await);
    let anonymous = h
        .send(h.request(reqwest::Method::GET, &format!("/oauth/authorizations/{id}")))
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(details("nope".into()).await.status, StatusCode::NOT_FOUND);
}
