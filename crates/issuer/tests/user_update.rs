//! `PUT /user` over real HTTP (supabase-js `auth.updateUser`): metadata, password, email
//! change, and GoTrue's refusals, in GoTrue's order.
// Tests assert with unwrap.
#![allow(clippy::unwrap_used)]

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Harness, PASSWORD, Reply, email, start_with};

async fn update(h: &Harness, access_token: &str, body: Value) -> Reply {
    h.send(
        h.request(Method::PUT, "/user")
            .bearer_auth(access_token)
            .json(&body),
    )
    .await
}

fn access(session: &Value) -> String {
    session["access_token"].as_str().unwrap().to_owned()
}

fn refresh_token(session: &Value) -> String {
    session["refresh_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn user_metadata_is_merged_and_null_removes_a_key() {
    let alice = email("alice");
    let h = start_with(|b| b.user(&alice, PASSWORD)).await;
    let s = h.session(&alice, PASSWORD).await;
    let r = update(
        &h,
        &access(&s),
        json!({"data": {"plan": "pro", "theme": "dark"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let user = r.json();
    assert_eq!(user["user_metadata"]["plan"], "pro");
    assert_eq!(user["email"], alice);
    let r = update(
        &h,
        &access(&s),
        json!({"data": {"theme": null, "lang": "en"}}),
    )
    .await;
    let meta = &r.json()["user_metadata"];
    assert_eq!(meta["plan"], "pro");
    assert_eq!(meta["lang"], "en");
    assert!(meta.get("theme").is_none(), "{meta}");
    // GET /user sees the change.
    assert_eq!(
        h.get_user(&access(&s)).await.json()["user_metadata"]["lang"],
        "en"
    );
}

#[tokio::test]
async fn a_new_password_works_and_signs_out_the_other_sessions() {
    let alice = email("alice");
    let h = start_with(|b| b.user(&alice, PASSWORD)).await;
    let mine = h.session(&alice, PASSWORD).await;
    let other = h.session(&alice, PASSWORD).await;
    let new_password = "a-brand-new-passphrase";
    let r = update(&h, &access(&mine), json!({"password": new_password})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        h.sign_in(&alice, PASSWORD).await.error_code(),
        "invalid_credentials"
    );
    assert_eq!(h.sign_in(&alice, new_password).await.status, StatusCode::OK);
    // The other session is gone, this one stays.
    assert_eq!(
        h.refresh(&refresh_token(&other)).await.error_code(),
        "refresh_token_not_found"
    );
    assert_eq!(
        h.get_user(&access(&other)).await.error_code(),
        "session_not_found"
    );
    assert_eq!(
        h.refresh(&refresh_token(&mine)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn gotrue_refusals_change_nothing() {
    let (alice, bob) = (email("alice"), email("bob"));
    let h = start_with(|b| b.user(&alice, PASSWORD).user(&bob, PASSWORD)).await;
    let s = h.session(&alice, PASSWORD).await;
    let cases = [
        (json!({"password": PASSWORD}), 422, "same_password"),
        (json!({"password": "short"}), 422, "weak_password"),
        (json!({"email": bob}), 422, "email_exists"),
        (json!({"email": "not an email"}), 400, "validation_failed"),
        (json!({"app_metadata": {"role": "admin"}}), 403, "not_admin"),
        (
            json!({"phone": "+15555550100"}),
            422,
            "phone_provider_disabled",
        ),
    ];
    for (body, status, code) in cases {
        let r = update(&h, &access(&s), body.clone()).await;
        assert_eq!(r.status.as_u16(), status, "{body}: {}", r.text);
        assert_eq!(r.error_code(), code, "{body}");
    }
    let user = h.get_user(&access(&s)).await.json();
    assert_eq!(user["email"], alice);
    assert!(user["app_metadata"].get("role").is_none());
    assert_eq!(h.sign_in(&alice, PASSWORD).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_email_change_waits_for_confirmation() {
    let alice = email("alice");
    let h = start_with(|b| b.user(&alice, PASSWORD)).await;
    let s = h.session(&alice, PASSWORD).await;
    let new_email = email("alice-new");
    let r = update(&h, &access(&s), json!({"email": new_email.to_uppercase()})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let user = r.json();
    assert_eq!(user["email"], alice, "unchanged until confirmed");
    assert_eq!(user["new_email"], new_email);
    assert!(user["email_change_sent_at"].is_string(), "{user}");
    // The same address again is no change.
    let r = update(&h, &access(&s), json!({"email": alice})).await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn authentication_comes_before_the_body() {
    let alice = email("alice");
    let h = start_with(|b| b.user(&alice, PASSWORD)).await;
    let r = h
        .send(
            h.request(Method::PUT, "/user")
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert_eq!(r.error_code(), "no_authorization");
    let s = h.session(&alice, PASSWORD).await;
    let r = h
        .send(
            h.request(Method::PUT, "/user")
                .bearer_auth(access(&s))
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.error_code(), "bad_json");
}
