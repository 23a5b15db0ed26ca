//! The token proxy: pass-through against the real issuer (success and GoTrue errors unchanged),
//! exact forwarding checked on a wiremock upstream, and broken upstreams (down → 502, slow → 504,
//! oversized → 502) with bounded waits.

// Test code: unwrap() is the assertion (clippy does not treat integration tests as test code).
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::*;
use wiremock::matchers::{body_string, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn post_token(
    http: &reqwest::Client,
    base: &str,
    grant: &str,
    apikey: Option<&str>,
    version: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut req = http
        .post(format!("{base}/token?grant_type={grant}"))
        .header("content-type", "application/json;charset=UTF-8")
        .body(body.to_string());
    if let Some(k) = apikey {
        req = req
            .header("apikey", k)
            .header("authorization", format!("Bearer {k}"));
    }
    if let Some(v) = version {
        req = req.header("x-supabase-api-version", v);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn password_and_refresh_grants_pass_through_and_the_token_works() {
    let env = start(|_| {}).await;
    let anon = env.issuer.info().anon_key;
    let proxy = env.url("/api/auth/v1");
    let resp = post_token(
        &env.http,
        &proxy,
        "password",
        Some(&anon),
        Some("2024-01-01"),
        json!({"email": EMAIL, "password": PASSWORD}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let session: Value = resp.json().await.unwrap();
    assert_eq!(session["token_type"], "bearer");
    let access = session["access_token"].as_str().unwrap();
    let refresh = session["refresh_token"].as_str().unwrap();
    assert_eq!(env.get("/api/content", Some(access)).await.status(), 200);

    let resp = post_token(
        &env.http,
        &proxy,
        "refresh_token",
        Some(&anon),
        None,
        json!({"refresh_token": refresh}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let rotated: Value = resp.json().await.unwrap();
    assert_ne!(rotated["refresh_token"], session["refresh_token"]);
    let access = rotated["access_token"].as_str().unwrap();
    assert_eq!(env.get("/api/content", Some(access)).await.status(), 200);
    env.shutdown().await;
}

/// The proxied answer equals the direct answer: status, body bytes and error headers.
#[tokio::test]
async fn gotrue_errors_come_back_unchanged() {
    let env = start(|_| {}).await;
    let anon = env.issuer.info().anon_key;
    let direct = format!("{}/auth/v1", env.issuer.base_url());
    let proxy = env.url("/api/auth/v1");
    let cases: Vec<(&str, Option<&str>, Option<&str>, Value)> = vec![
        (
            "password",
            Some(&anon),
            None,
            json!({"email": EMAIL, "password": "wrong"}),
        ),
        (
            "password",
            Some(&anon),
            Some("2024-01-01"),
            json!({"email": EMAIL, "password": "wrong"}),
        ),
        (
            "refresh_token",
            Some(&anon),
            Some("2024-01-01"),
            json!({"refresh_token": "abcdefghijkl"}),
        ),
        ("refresh_token", Some(&anon), None, json!({})),
        ("nonsense", Some(&anon), None, json!({})),
        (
            "password",
            None,
            None,
            json!({"email": EMAIL, "password": PASSWORD}),
        ),
    ];
    for (grant, key, version, body) in cases {
        let a = post_token(&env.http, &direct, grant, key, version, body.clone()).await;
        let b = post_token(&env.http, &proxy, grant, key, version, body.clone()).await;
        let label = format!("{grant} {version:?} key={}", key.is_some());
        assert_eq!(a.status(), b.status(), "{label}");
        assert!(b.status().is_client_error(), "{label}: {}", b.status());
        for h in ["content-type", "x-sb-error-code", "x-supabase-api-version"] {
            assert_eq!(a.headers().get(h), b.headers().get(h), "{label}: {h}");
        }
        assert_eq!(a.text().await.unwrap(), b.text().await.unwrap(), "{label}");
    }
    // Spot-check one shape so a both-sides regression cannot hide.
    let resp = post_token(
        &env.http,
        &proxy,
        "password",
        Some(&anon),
        Some("2024-01-01"),
        json!({"email": EMAIL, "password": "wrong"}),
    )
    .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.headers()["x-sb-error-code"], "invalid_credentials");
    assert_eq!(resp.headers()["x-supabase-api-version"], "2024-01-01");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "invalid_credentials");
    env.shutdown().await;
}

#[tokio::test]
async fn exactly_the_client_headers_query_and_body_are_forwarded() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/auth/v1/token"))
        .and(query_param("grant_type", "password"))
        .and(header("apikey", "anon-key"))
        .and(header("authorization", "Bearer anon-key"))
        .and(header("content-type", "application/json;charset=UTF-8"))
        .and(header("x-supabase-api-version", "2024-01-01"))
        .and(header("x-client-info", "supabase-js/2.0.0"))
        .and(body_string(r#"{"email":"a@b.c","password":"pw"}"#))
        .respond_with(
            ResponseTemplate::new(418)
                .insert_header("x-sb-error-code", "teapot")
                .insert_header("x-supabase-api-version", "2024-01-01")
                .insert_header("sb-auth-user-id", "u-1")
                .set_body_raw(
                    r#"{"code":"teapot","message":"short and stout"}"#,
                    "application/json",
                ),
        )
        .expect(1)
        .mount(&upstream)
        .await;
    let api = xauth_reference::spawn(xauth_reference::Config::new(&upstream.uri()).unwrap())
        .await
        .unwrap();
    let resp = client()
        .post(format!(
            "{}/api/auth/v1/token?grant_type=password",
            api.url()
        ))
        .header("apikey", "anon-key")
        .header("authorization", "Bearer anon-key")
        .header("content-type", "application/json;charset=UTF-8")
        .header("x-supabase-api-version", "2024-01-01")
        .header("x-client-info", "supabase-js/2.0.0")
        .header("cookie", "secret=1")
        .header("x-forwarded-for", "203.0.113.9")
        .body(r#"{"email":"a@b.c","password":"pw"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 418);
    assert_eq!(resp.headers()["x-sb-error-code"], "teapot");
    assert_eq!(resp.headers()["x-supabase-api-version"], "2024-01-01");
    assert_eq!(resp.headers()["sb-auth-user-id"], "u-1");
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(
        resp.text().await.unwrap(),
        r#"{"code":"teapot","message":"short and stout"}"#
    );
    // Headers outside the list are not forwarded.
    let seen = &upstream.received_requests().await.unwrap()[0];
    assert!(seen.headers.get("cookie").is_none());
    assert!(seen.headers.get("x-forwarded-for").is_none());
    api.shutdown().await;
    upstream.verify().await;
}

#[tokio::test]
async fn redirects_are_relayed_not_followed() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("location", "http://127.0.0.1:1/elsewhere"),
        )
        .mount(&upstream)
        .await;
    let api = xauth_reference::spawn(xauth_reference::Config::new(&upstream.uri()).unwrap())
        .await
        .unwrap();
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = http
        .post(format!(
            "{}/api/auth/v1/token?grant_type=password",
            api.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(resp.headers()["location"], "http://127.0.0.1:1/elsewhere");
    api.shutdown().await;
}

#[tokio::test]
async fn upstream_down_is_502_in_our_envelope() {
    // A port that was just free: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let api = xauth_reference::spawn(
        xauth_reference::Config::new(&format!("http://127.0.0.1:{port}")).unwrap(),
    )
    .await
    .unwrap();
    let resp = client()
        .post(format!(
            "{}/api/auth/v1/token?grant_type=password",
            api.url()
        ))
        .body("{}")
        .send()
        .await
        .unwrap();
    insta::assert_snapshot!("upstream_down", render(resp).await);
    api.shutdown().await;
}

#[tokio::test]
async fn slow_upstream_is_504_within_the_bound() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(10)))
        .mount(&upstream)
        .await;
    let mut config = xauth_reference::Config::new(&upstream.uri()).unwrap();
    config.limits.upstream_timeout = Duration::from_millis(300);
    let api = xauth_reference::spawn(config).await.unwrap();
    let started = Instant::now();
    let resp = client()
        .post(format!(
            "{}/api/auth/v1/token?grant_type=refresh_token",
            api.url()
        ))
        .body("{}")
        .send()
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let (status, code, _) = error_code(resp).await;
    assert_eq!((status, code.as_str()), (504, "UPSTREAM_TIMEOUT"));
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    api.shutdown().await;
}

#[tokio::test]
async fn bodies_are_bounded_both_ways() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(query_param("grant_type", "password"))
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(2 * 1024 * 1024)))
        .mount(&upstream)
        .await;
    let api = xauth_reference::spawn(xauth_reference::Config::new(&upstream.uri()).unwrap())
        .await
        .unwrap();
    let url = format!("{}/api/auth/v1/token?grant_type=password", api.url());
    // Request body over the limit: 413, upstream never called.
    let resp = client()
        .post(&url)
        .body("x".repeat(65 * 1024))
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_code(resp).await;
    assert_eq!((status, code.as_str()), (413, "PAYLOAD_TOO_LARGE"));
    assert!(upstream.received_requests().await.unwrap().is_empty());
    // Upstream answer over the limit: 502.
    let resp = client().post(&url).body("{}").send().await.unwrap();
    let (status, code, _) = error_code(resp).await;
    assert_eq!((status, code.as_str()), (502, "UPSTREAM_UNAVAILABLE"));
    api.shutdown().await;
}

#[tokio::test]
async fn chunked_request_bodies_over_the_limit_are_413() {
    let upstream = MockServer::start().await;
    let api = xauth_reference::spawn(xauth_reference::Config::new(&upstream.uri()).unwrap())
        .await
        .unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(api.addr()).await.unwrap();
    s.write_all(
        b"POST /api/auth/v1/token?grant_type=password HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let chunk = format!("400\r\n{}\r\n", "x".repeat(1024));
    for _ in 0..100 {
        if s.write_all(chunk.as_bytes()).await.is_err() {
            break; // the server may answer and close early
        }
    }
    let _ = s.write_all(b"0\r\n\r\n").await;
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains(r#""code":"PAYLOAD_TOO_LARGE""#), "{text}");
    assert!(upstream.received_requests().await.unwrap().is_empty());
    api.shutdown().await;
}

#[tokio::test]
async fn odd_query_strings_are_never_a_5xx() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .mount(&upstream)
        .await;
    let api = xauth_reference::spawn(xauth_reference::Config::new(&upstream.uri()).unwrap())
        .await
        .unwrap();
    for target in [
        "/api/auth/v1/token?grant_type=%zz&x=%%",
        "/api/auth/v1/token?grant_type=password&grant_type=refresh_token",
        "/api/auth/v1/token?",
        "/api/auth/v1/token?a[]=1&b={}&c=|^`",
        "/api/auth/v1/token?%00=%FF",
    ] {
        let mut s = tokio::net::TcpStream::connect(api.addr()).await.unwrap();
        let req = format!(
            "POST {target} HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await;
        let text = String::from_utf8_lossy(&buf);
        let status: u16 = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        assert!((200..500).contains(&status), "{target}: {text}");
    }
    api.shutdown().await;
}
