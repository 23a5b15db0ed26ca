//! GoTrue flows over real HTTP: password and refresh grants, rotation and reuse, logout scopes,
//! signup, /user, admin users, settings, health, counters, persistence. (Past 500 lines: one
//! file per API keeps the test binaries, each linking the whole issuer, few.)
// Tests assert with unwrap.
#![allow(clippy::unwrap_used)]

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{PASSWORD, email, jwt_claims, jwt_header, redact, start, start_with};

fn is_v1_refresh_token(token: &str) -> bool {
    token.len() == 12
        && token
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
}

#[tokio::test]
async fn password_grant_returns_a_gotrue_session() {
    let alice = email("alice");
    let h = start_with(|b| b.user(&alice, PASSWORD)).await;
    let reply = h.sign_in(&alice, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    // Success responses never echo the API version header.
    assert_eq!(reply.header("x-supabase-api-version"), None);
    let body = reply.json();

    assert_eq!(body["token_type"], "bearer");
    let expires_in = body["expires_in"].as_i64().unwrap();
    assert!((3599..=3600).contains(&expires_in), "{expires_in}");
    let refresh = body["refresh_token"].as_str().unwrap();
    assert!(is_v1_refresh_token(refresh), "{refresh}");

    let user = &body["user"];
    let user_id = user["id"].as_str().unwrap();
    assert_eq!(user["aud"], "authenticated");
    assert_eq!(user["role"], "authenticated");
    assert_eq!(user["email"], alice.as_str());
    assert_eq!(user["phone"], "");
    assert_eq!(
        user["app_metadata"],
        json!({"provider": "email", "providers": ["email"]})
    );
    assert_eq!(user["user_metadata"]["email_verified"], true);
    assert_eq!(user["is_anonymous"], false);
    for field in [
        "email_confirmed_at",
        "confirmed_at",
        "last_sign_in_at",
        "created_at",
        "updated_at",
    ] {
        assert!(user[field].is_string(), "{field} missing: {user}");
    }
    assert!(user.get("phone_confirmed_at").is_none());
    assert!(user.get("banned_until").is_none());
    let identities = user["identities"].as_array().unwrap();
    assert_eq!(identities.len(), 1);
    assert_eq!(identities[0]["provider"], "email");
    assert_eq!(identities[0]["user_id"], user_id);
    assert_eq!(identities[0]["identity_data"]["sub"], user_id);

    // The access token: GoTrue's header and claims.
    let token = body["access_token"].as_str().unwrap();
    let header = jwt_header(token);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "JWT");
    assert!(header["kid"].is_string());
    let claims = jwt_claims(token);
    assert_eq!(claims["iss"], h.auth_url.as_str());
    assert_eq!(claims["sub"], user_id);
    assert_eq!(claims["aud"], "authenticated");
    assert_eq!(claims["exp"], body["expires_at"]);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    assert_eq!(claims["email"], alice.as_str());
    assert_eq!(claims["phone"], "");
    assert_eq!(claims["role"], "authenticated");
    assert_eq!(claims["aal"], "aal1");
    assert_eq!(claims["amr"][0]["method"], "password");
    assert!(claims["amr"][0]["timestamp"].is_i64());
    assert_eq!(claims["is_anonymous"], false);
    assert_eq!(claims["app_metadata"], user["app_metadata"]);
    assert!(claims.get("nbf").is_none() && claims.get("jti").is_none());

    // Informational headers.
    assert_eq!(reply.header("sb-auth-user-id"), Some(user_id));
    assert_eq!(
        reply.header("sb-auth-session-id"),
        claims["session_id"].as_str()
    );
    assert_eq!(
        reply.header("sb-auth-refresh-token-prefix"),
        Some(&refresh[..5])
    );

    insta::assert_json_snapshot!("password_grant_session", redact(&body));
}

#[tokio::test]
async fn access_tokens_verify_with_jsonwebtoken_using_only_the_jwks() {
    let alice = email("alice");
    let h = start_with(|b| b.user(&alice, PASSWORD)).await;
    let session = h.session(&alice, PASSWORD).await;
    let token = session["access_token"].as_str().unwrap();
    let jwks: jsonwebtoken::jwk::JwkSet = h
        .http
        .get(format!("{}/.well-known/jwks.json", h.auth_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = jwt_header(token)["kid"].as_str().unwrap().to_owned();
    let jwk = jwks.find(&kid).expect("signing key is published");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&["authenticated"]);
    validation.set_issuer(&[h.auth_url.as_str()]);
    let data = jsonwebtoken::decode::<Value>(token, &key, &validation).expect("verifies");
    assert_eq!(data.claims["sub"], session["user"]["id"]);
}

#[tokio::test]
async fn refresh_rotates_and_keeps_amr() {
    let alice = email("alice");
    let h = start_with(|b| b.user(&alice, PASSWORD)).await;
    let first = h.session(&alice, PASSWORD).await;
    let a = first["refresh_token"].as_str().unwrap();
    let first_claims = jwt_claims(first["access_token"].as_str().unwrap());

    h.advance(120);
    let reply = h.refresh(a).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let second = reply.json();
    let b = second["refresh_token"].as_str().unwrap();
    assert_ne!(a, b);
    assert!(is_v1_refresh_token(b));
    assert_eq!(second["token_type"], "bearer");
    assert_eq!(second["user"]["id"], first["user"]["id"]);
    assert!(second.get("weak_password").is_none());
    let claims = jwt_claims(second["access_token"].as_str().unwrap());
    assert_eq!(claims["session_id"], first_claims["session_id"]);
    assert_eq!(
        claims["amr"], first_claims["amr"],
        "amr is not updated on refresh"
    );
    assert!(claims["iat"].as_i64().unwrap() >= first_claims["iat"].as_i64().unwrap() + 120);
    assert_eq!(claims["exp"], second["expires_at"]);
    assert_eq!(reply.header("sb-auth-refresh-token-prefix"), Some(&b[..5]));
    insta::assert_json_snapshot!("refresh_grant_session", redact(&second));

    // The new token works in turn.
    let third = h.refresh(b).await;
    assert_eq!(third.status, StatusCode::OK);
}

#[tokio::test]
async fn reusing_the_parent_of_the_active_token_returns_the_active_token_at_any_time() {
    let alice = email("alice");
    let h = start_with(|b| b.user(&alice, PASSWORD)).await;
    let a = h.session(&alice, PASSWORD).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = h.refresh(&a).await.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    h.advance(3_000); // far outside the reuse interval
    let again = h.refresh(&a).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.json()["refresh_token"], b.as_str());
    // Nothing was revoked: the active token still rotates normally.
    let c = h.refresh(&b).await;
    assert_eq!(c.status, StatusCode::OK);
    assert_ne!(c.json()["refresh_token"], b.as_str());
}

#[tokio::test]
async fn reuse_inside_the_interval_succeeds() {
    let alice = email("alice");
    let h = start_with(|b| b.user(&alice, PASSWORD)).await;
    let a = h.session(&alice, PASSWORD).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = h.refresh(&a).await.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let c = h.refresh(&b).await.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    h.advance(5); // within the default 10 s
    let reused = h.refresh(&a).await;
    assert_eq!(reused.status, StatusCode::OK, "{}", reused.text);
    let d = reused.json()["refresh_token"].as_str().unwrap().to_owned();
    assert!(d != b && d != c && d != a);
    // The active token was not revoked by the allowed reuse.
    assert_eq!(h.refresh(&c).await.status, StatusCode::OK);
}

#[tokio::test]
async fn reuse_outside_the_interval_revokes_the_family() {
    let alice = email("alice");
    let h = start_with(|b| b.user(&alice, PASSWORD)).await;
    let session = h.session(&alice, PASSWORD).await;
    let access = session["access_token"].as_str().unwrap().to_owned();
    let a = session["refresh_token"].as_str().unwrap().to_owned();
    let b = h.refresh(&a).await.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let c = h.refresh(&b).await.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    h.advance(11);
    let reused = h.refresh(&a).await;
    assert_eq!(reused.status, StatusCode::BAD_REQUEST);
    assert_eq!(reused.error_code(), "refresh_token_already_used");
    assert_eq!(reused.json()["msg"], "Invalid Refresh Token: Already Used");
    // The family is revoked (GoTrue stamps the revocation time, so the active token is only
    // reusable within the interval after it); past that, it is refused too.
    h.advance(11);
    let active = h.refresh(&c).await;
    assert_eq!(active.status, StatusCode::BAD_REQUEST, "{}", active.text);
    assert_eq!(active.error_code(), "refresh_token_already_used");
    // The session itself survives: the access token still works at /user.
    assert_eq!(h.get_user(&access).await.status, StatusCode::OK);
}

#[tokio::test]
async fn reuse_interval_zero_refuses_any_reuse_but_the_parent_of_active() {
    let alice = email("alice");
    let h = start_with(|b| b.user(&alice, PASSWORD).refresh_reuse_interval(0)).await;
    let a = h.session(&alice, PASSWORD).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = h.refresh(&a).await.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let _c = h.refresh(&b).await.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    h.advance(1);
    let reused = h.refresh(&a).await;
    assert_eq!(reused.error_code(), "refresh_token_already_used");
}

#[tokio::test]
async fn unknown_and_malformed_refresh_tokens() {
    let h = start().await;
    let unknown = h.refresh("abcdefghijkl").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.error_code(), "refresh_token_not_found");
    for bad in [
        "",
        "short",
        "ABCDEFGHIJKL",
        "abcdefghijklmnop",
        "abc-efghijkl",
    ] {
        let reply = h.refresh(bad).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(reply.error_code(), "validation_failed", "{bad}");
    }
    let missing = h
        .post_json("/token?grant_type=refresh_token", json!({}))
        .await;
    assert_eq!(missing.error_code(), "validation_failed");
}

#[tokio::test]
async fn logout_scopes() {
    let alice = email("alice");
    let h = start_with(|b| b.user(&alice, PASSWORD)).await;
    let s1 = h.session(&alice, PASSWORD).await;
    let s2 = h.session(&alice, PASSWORD).await;
    let s3 = h.session(&alice, PASSWORD).await;
    let at = |s: &Value| s["access_token"].as_str().unwrap().to_owned();
    let rt = |s: &Value| s["refresh_token"].as_str().unwrap().to_owned();

    // local: only s1 goes.
    let out = h.logout(&at(&s1), Some("local")).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(out.text.is_empty());
    assert_eq!(
        h.refresh(&rt(&s1)).await.error_code(),
        "refresh_token_not_found"
    );
    let gone = h.get_user(&at(&s1)).await;
    assert_eq!(gone.status, StatusCode::FORBIDDEN);
    assert_eq!(gone.error_code(), "session_not_found");
    assert_eq!(h.get_user(&at(&s2)).await.status, StatusCode::OK);

    // others: s3 goes, s2 stays.
    assert_eq!(
        h.logout(&at(&s2), Some("others")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        h.refresh(&rt(&s3)).await.error_code(),
        "refresh_token_not_found"
    );
    assert_eq!(h.get_user(&at(&s2)).await.status, StatusCode::OK);
    let s4 = h.session(&alice, PASSWORD).await;

    // bad scope: 400, nothing happens.
    let bad = h.logout(&at(&s2), Some("everywhere")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.error_code(), "validation_failed");
    assert_eq!(h.get_user(&at(&s2)).await.status, StatusCode::OK);

    // default = global: everything goes.
    assert_eq!(
        h.logout(&at(&s2), None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        h.refresh(&rt(&s2)).await.error_code(),
        "refresh_token_not_found"
    );
    assert_eq!(
        h.refresh(&rt(&s4)).await.error_code(),
        "refresh_token_not_found"
    );
    assert_eq!(h.get_user(&at(&s4)).await.error_code(), "session_not_found");
    assert_eq!(h.issuer.state().auth.session_count(), 0);

    // A logged-out token cannot log out again.
    assert_eq!(
        h.logout(&at(&s2), Some("global")).await.error_code(),
        "session_not_found"
    );
}

#[tokio::test]
async fn signup_auto_confirms_and_returns_a_session() {
    let h = start().await;
    let bob = email("bob");
    let reply = h
        .post_json(
            "/signup",
            json!({"email": bob.to_uppercase(), "password": PASSWORD, "data": {"plan": "pro"},
                   "gotrue_meta_security": {}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["user"]["email"], bob.as_str(), "emails are lowercased");
    assert!(body["user"]["email_confirmed_at"].is_string());
    assert_eq!(body["user"]["user_metadata"]["plan"], "pro");
    assert!(body["access_token"].is_string() && body["refresh_token"].is_string());
    insta::assert_json_snapshot!("signup_session", redact(&body));

    // The new user signs in; the same email cannot sign up again.
    assert_eq!(h.sign_in(&bob, PASSWORD).await.status, StatusCode::OK);
    let again = h
        .post_json("/signup", json!({"email": bob, "password": PASSWORD}))
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again.error_code(), "user_already_exists");

    let weak = h
        .post_json(
            "/signup",
            json!({"email": email("weak"), "password": "abc"}),
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(weak.json()["weak_password"], json!({"reasons": ["length"]}));
    assert_eq!(h.issuer.counters().signups, 1);
}

#[tokio::test]
async fn weak_passwords_still_sign_in_with_a_warning() {
    let carol = email("carol");
    let h = start_with(|b| b.user(&carol, "abc")).await;
    let body = h.session(&carol, "abc").await;
    assert_eq!(
        body["weak_password"],
        json!({"message": "Password should be at least 6 characters.", "reasons": ["length"]})
    );
}

#[tokio::test]
async fn user_endpoint_validates_the_bearer_like_gotrue() {
    let alice = email("alice");
    let h = start_with(|b| b.user(&alice, PASSWORD)).await;
    let session = h.session(&alice, PASSWORD).await;
    let token = session["access_token"].as_str().unwrap();

    let ok = h.get_user(token).await;
    assert_eq!(ok.status, StatusCode::OK);
    let user = ok.json();
    assert_eq!(user["id"], session["user"]["id"], "the bare user object");
    assert!(user.get("user").is_none());

    // lowercase "bearer" is accepted too
    let lower = h
        .send(
            h.request(Method::GET, "/user")
                .header("authorization", format!("bearer {token}")),
        )
        .await;
    assert_eq!(lower.status, StatusCode::OK);

    let none = h.send(h.request(Method::GET, "/user")).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.error_code(), "no_authorization");

    let anon = h.get_user(&h.anon_key.clone()).await;
    assert_eq!(anon.status, StatusCode::FORBIDDEN);
    assert_eq!(anon.error_code(), "bad_jwt");
    assert_eq!(anon.json()["msg"], "invalid claim: missing sub claim");

    let garbage = h.get_user("not.a.jwt").await;
    assert_eq!(garbage.status, StatusCode::FORBIDDEN);
    assert_eq!(garbage.error_code(), "bad_jwt");

    let aud = h
        .send(
            h.request(Method::GET, "/user")
                .bearer_auth(token)
                .header("x-jwt-aud", "other"),
        )
        .await;
    assert_eq!(aud.status, StatusCode::BAD_REQUEST);
    assert_eq!(aud.error_code(), "validation_failed");

    h.advance(3600);
    let expired = h.get_user(token).await;
    assert_eq!(expired.status, StatusCode::FORBIDDEN);
    assert_eq!(expired.error_code(), "bad_jwt");
    assert!(expired.json()["msg"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn rotated_keys_sign_new_tokens_and_old_tokens_keep_working() {
    let alice = email("alice");
    let h = start_with(|b| b.user(&alice, PASSWORD)).await;
    let before = h.session(&alice, PASSWORD).await;
    let old_token = before["access_token"].as_str().unwrap();
    h.issuer.keys().await;
    let new_key = h.issuer.rotate(None).await.expect("rotates");
    let after = h
        .refresh(before["refresh_token"].as_str().unwrap())
        .await
        .json();
    let new_token = after["access_token"].as_str().unwrap();
    assert_eq!(jwt_header(new_token)["kid"], new_key.kid.as_str());
    assert_ne!(jwt_header(new_token)["kid"], jwt_header(old_token)["kid"]);
    assert_eq!(h.get_user(old_token).await.status, StatusCode::OK);
    assert_eq!(h.get_user(new_token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn admin_user_api_with_the_service_role_key() {
    let h = start().await;
    let admin = |method: Method, path: &str| h.request(method, path).bearer_auth(&h.service_key);

    let dave = email("dave");
    let created = h
        .send(admin(Method::POST, "/admin/users").json(&json!({
            "email": dave, "password": PASSWORD, "email_confirm": true,
            "user_metadata": {"name": "Dave"}, "app_metadata": {"tier": "gold"}
        })))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let user = created.json();
    let id = user["id"].as_str().unwrap().to_owned();
    assert_eq!(user["app_metadata"]["tier"], "gold");
    assert_eq!(user["app_metadata"]["provider"], "email");
    assert_eq!(user["user_metadata"]["name"], "Dave");
    insta::assert_json_snapshot!("admin_created_user", redact(&user));
    assert_eq!(h.sign_in(&dave, PASSWORD).await.status, StatusCode::OK);

    let list = h.send(admin(Method::GET, "/admin/users")).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.header("x-total-count"), Some("1"));
    let body = list.json();
    assert_eq!(body["aud"], "authenticated");
    assert_eq!(body["users"][0]["id"], id.as_str());

    let one = h
        .send(admin(Method::GET, &format!("/admin/users/{id}")))
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json()["email"], dave.as_str());

    let deleted = h
        .send(admin(Method::DELETE, &format!("/admin/users/{id}")))
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(deleted.json(), json!({}));
    let gone = h
        .send(admin(Method::GET, &format!("/admin/users/{id}")))
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.error_code(), "user_not_found");
    assert_eq!(
        h.sign_in(&dave, PASSWORD).await.error_code(),
        "invalid_credentials"
    );

    // Unconfirmed admin-created users cannot sign in until confirmed.
    let erin = email("erin");
    h.send(admin(Method::POST, "/admin/users").json(&json!({"email": erin, "password": PASSWORD})))
        .await;
    let unconfirmed = h.sign_in(&erin, PASSWORD).await;
    assert_eq!(unconfirmed.error_code(), "email_not_confirmed");

    // Pagination headers.
    for _ in 0..2 {
        h.send(admin(Method::POST, "/admin/users").json(&json!({"email": email("p")})))
            .await;
    }
    let page = h
        .send(admin(Method::GET, "/admin/users?page=1&per_page=2"))
        .await;
    assert_eq!(page.json()["users"].as_array().unwrap().len(), 2);
    assert_eq!(page.header("x-total-count"), Some("3"));
    let link = page.header("link").unwrap();
    assert!(link.contains("page=2&per_page=2>; rel=\"next\""), "{link}");
    assert!(link.contains("rel=\"last\""), "{link}");

    // Non-admin bearers.
    let anon = h
        .send(
            h.request(Method::GET, "/admin/users")
                .bearer_auth(&h.anon_key),
        )
        .await;
    assert_eq!(anon.status, StatusCode::FORBIDDEN);
    assert_eq!(anon.error_code(), "not_admin");
    let none = h.send(h.request(Method::GET, "/admin/users")).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.error_code(), "no_authorization");
}

#[tokio::test]
async fn settings_and_health() {
    let h = start().await;
    let settings = h.send(h.request(Method::GET, "/settings")).await;
    assert_eq!(settings.status, StatusCode::OK);
    let body = settings.json();
    assert_eq!(body["external"]["email"], true);
    assert_eq!(body["external"]["phone"], false);
    assert_eq!(body["mailer_autoconfirm"], true);
    insta::assert_json_snapshot!("settings", body);

    let health = h.send(h.http.get(format!("{}/health", h.auth_url))).await;
    assert_eq!(health.status, StatusCode::OK);
    let body = health.json();
    assert_eq!(body["name"], "GoTrue");
    assert_eq!(
        body["description"],
        "GoTrue is a user registration and authentication API"
    );
}

#[tokio::test]
async fn grants_are_counted() {
    let alice = email("alice");
    let h = start_with(|b| b.user(&alice, PASSWORD)).await;
    let session = h.session(&alice, PASSWORD).await;
    h.refresh(session["refresh_token"].as_str().unwrap()).await;
    h.sign_in(&alice, "wrong-password").await;
    h.post_json("/token?grant_type=magic", json!({})).await;
    let counters = h.issuer.counters();
    assert_eq!(counters.grants.password, 1);
    assert_eq!(counters.grants.refresh_token, 1);
    assert_eq!(counters.grant_failures, 2);
}

#[tokio::test]
async fn users_and_sessions_survive_a_restart_with_a_state_dir() {
    let dir = std::env::temp_dir().join(format!("xauth-gotrue-{}", uuid::Uuid::new_v4()));
    let frank = email("frank");
    let refresh = {
        let h = start_with(|b| b.state_dir(&dir)).await;
        let signup = h
            .post_json("/signup", json!({"email": frank, "password": PASSWORD}))
            .await;
        assert_eq!(signup.status, StatusCode::OK);
        let refresh = signup.json()["refresh_token"].as_str().unwrap().to_owned();
        h.issuer.shutdown().await;
        refresh
    };
    let file = dir.join("auth.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        !text.contains(PASSWORD),
        "passwords are stored only as salted hashes"
    );

    let h = start_with(|b| b.state_dir(&dir)).await;
    let reply = h.refresh(&refresh).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(h.sign_in(&frank, PASSWORD).await.status, StatusCode::OK);
    h.issuer.shutdown().await;
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_all_succeed_within_the_interval() {
    let alice = email("alice");
    let h = std::sync::Arc::new(start_with(|b| b.user(&alice, PASSWORD)).await);
    let token = h.session(&alice, PASSWORD).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let h = h.clone();
        let token = token.clone();
        tasks.push(tokio::spawn(async move { h.refresh(&token).await }));
    }
    let mut issued = std::collections::HashSet::new();
    for task in tasks {
        let reply = task.await.unwrap();
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        issued.insert(reply.json()["refresh_token"].as_str().unwrap().to_owned());
    }
    // Each request either rotated the token or reused it within the interval (a new child),
    // or got the active child back as the parent-of-active: never an error.
    assert!(!issued.is_empty() && !issued.contains(&token));
}

#[tokio::test]
async fn a_corrupt_state_file_is_a_clear_startup_error() {
    let dir = std::env::temp_dir().join(format!("xauth-gotrue-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("auth.json"), b"{not json").unwrap();
    let result = xauth_issuer::Issuer::builder()
        .port(0)
        .state_dir(&dir)
        .spawn()
        .await;
    let error = result.expect_err("a corrupt auth.json must not start");
    assert!(error.to_string().contains("auth.json"), "{error}");
    std::fs::remove_dir_all(&dir).ok();
}
