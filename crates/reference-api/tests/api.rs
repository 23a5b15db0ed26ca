//! Every route, error code and header of the reference API, over real HTTP against the real
//! in-process issuer.

// Test code: unwrap() is the assertion (clippy does not treat integration tests as test code).
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn health_is_public() {
    let env = start(|_| {}).await;
    let resp = env.get("/health", None).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"status": "ok"}));
    env.shutdown().await;
}

#[tokio::test]
async fn content_accepts_es256_rs256_and_hs256_tokens() {
    let env = start(|_| {}).await;
    let es = env.token_for("user-es");
    let rs = env.rs256_token(json!({"sub": "user-rs"})).await;
    let hs = env.hs256_token(json!({"sub": "user-hs"}));
    for (token, sub) in [(es, "user-es"), (rs, "user-rs"), (hs, "user-hs")] {
        let resp = env.get("/api/content", Some(&token)).await;
        assert_eq!(resp.status(), 200, "{sub}");
        assert_eq!(resp.headers()["content-type"], "application/json");
        assert_eq!(resp.headers()["ratelimit-policy"], "\"sub\";q=120;w=60");
        assert_eq!(resp.headers()["ratelimit"], "\"sub\";r=119;t=1");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["data"]["subject"], sub);
        assert_eq!(body["data"]["role"], "authenticated");
    }
    env.shutdown().await;
}

#[tokio::test]
async fn service_role_reaches_content_and_admin() {
    let env = start(|_| {}).await;
    let token = env.token(json!({"role": "service_role"}));
    assert_eq!(env.get("/api/content", Some(&token)).await.status(), 200);
    let resp = env.get("/api/admin/stats", Some(&token)).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["data"]["requests"]["granted"], 2);
    assert_eq!(body["data"]["defects"], json!([]));
    assert!(body["data"]["jwks_fetches"].as_u64().unwrap() >= 1);
    env.shutdown().await;
}

#[tokio::test]
async fn missing_token_is_401_with_a_bare_challenge() {
    let env = start(|_| {}).await;
    let resp = env.get("/api/content", None).await;
    insta::assert_snapshot!("missing_token", render(resp).await);
    // A token only in the query string or a cookie is not a bearer credential (RFC 6750 §2).
    let token = env.user_token();
    let resp = env
        .http
        .get(env.url(&format!("/api/content?access_token={token}")))
        .header("cookie", format!("sb-access-token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    env.shutdown().await;
}

#[tokio::test]
async fn every_invalid_token_gets_the_identical_401() {
    let env = start(|_| {}).await;
    let good = env.user_token();
    let other_issuer = env.token(json!({"iss": "https://evil.example/auth/v1"}));
    let other_aud = env.token(json!({"aud": "other"}));
    let injected = with_payload(
        &good,
        &json!({"sub": "<script>MARKER-1337</script>", "role": "service_role"}),
    );
    let authorizations = vec![
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        "Bearer null".to_owned(),
        "Bearer garbage".to_owned(),
        "Basic dXNlcjpwYXNz".to_owned(),
        format!("Token {good}"),
        format!("Bearer {}", bad_signature(&good)),
        format!("Bearer {}", alg_none(&good)),
        format!("Bearer {other_issuer}"),
        format!("Bearer {other_aud}"),
        format!("Bearer {injected}"),
        format!("Bearer {}", "a.".repeat(4000)),
        format!("Bearer {good}.extra.segments"),
        format!("Bearer {}", "x".repeat(9000)),
    ];
    let mut bodies = Vec::new();
    for auth in &authorizations {
        let resp = env.get_with("/api/content", auth).await;
        assert_eq!(resp.status(), 401, "{auth:.40}");
        assert_eq!(
            resp.headers()["www-authenticate"],
            "Bearer error=\"invalid_token\"",
            "{auth:.40}"
        );
        let (_, code, body) = error_code(resp).await;
        assert_eq!(code, "UNAUTHENTICATED");
        assert!(!body.contains("MARKER") && !body.contains("script"));
        bodies.push(body);
    }
    bodies.dedup();
    assert_eq!(bodies.len(), 1, "401 bodies differ: {bodies:?}");
    // Same bytes as the missing-token answer.
    let (_, _, missing) = error_code(env.get("/api/content", None).await).await;
    assert_eq!(missing, bodies[0]);

    let resp = env.get("/api/content", Some(&bad_signature(&good))).await;
    insta::assert_snapshot!("invalid_token", render(resp).await);
    env.shutdown().await;
}

#[tokio::test]
async fn duplicate_authorization_headers_are_refused() {
    let env = start(|_| {}).await;
    let good = env.user_token();
    let resp = env
        .http
        .get(env.url("/api/content"))
        .header("authorization", format!("Bearer {good}"))
        .header("authorization", format!("Bearer {good}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    env.shutdown().await;
}

#[tokio::test]
async fn bearer_scheme_is_case_insensitive() {
    let env = start(|_| {}).await;
    let good = env.user_token();
    for scheme in ["bearer", "BEARER", "bEaReR"] {
        let resp = env
            .get_with("/api/content", &format!("{scheme} {good}"))
            .await;
        assert_eq!(resp.status(), 200, "{scheme}");
    }
    env.shutdown().await;
}

#[tokio::test]
async fn expired_token_is_401_token_expired() {
    let env = start(|_| {}).await;
    let resp = env.get("/api/content", Some(&env.expired_token())).await;
    insta::assert_snapshot!("token_expired", render(resp).await);
    // An expired token with a broken signature is not "expired": it is forged.
    let forged = bad_signature(&env.expired_token());
    let (status, code, _) = error_code(env.get("/api/content", Some(&forged)).await).await;
    assert_eq!((status, code.as_str()), (401, "UNAUTHENTICATED"));
    env.shutdown().await;
}

#[tokio::test]
async fn wrong_role_is_403_not_401() {
    let env = start(|_| {}).await;
    let anon = env.token(json!({"role": "anon"}));
    let resp = env.get("/api/content", Some(&anon)).await;
    insta::assert_snapshot!("forbidden", render(resp).await);
    let user = env.user_token();
    let (status, code, _) = error_code(env.get("/api/admin/stats", Some(&user)).await).await;
    assert_eq!((status, code.as_str()), (403, "FORBIDDEN"));
    let no_role = env.token(json!({"role": null}));
    let (status, code, _) = error_code(env.get("/api/content", Some(&no_role)).await).await;
    assert_eq!((status, code.as_str()), (403, "FORBIDDEN"));
    // Unauthenticated requests to the admin route are 401, not 403.
    let (status, _, _) = error_code(env.get("/api/admin/stats", None).await).await;
    assert_eq!(status, 401);
    env.shutdown().await;
}

#[tokio::test]
async fn hs256_is_refused_without_a_configured_secret() {
    let env = start(|c| c.jwt_secret = None).await;
    let hs = env.hs256_token(json!({}));
    let (status, code, _) = error_code(env.get("/api/content", Some(&hs)).await).await;
    assert_eq!((status, code.as_str()), (401, "UNAUTHENTICATED"));
    assert_eq!(
        env.get("/api/content", Some(&env.user_token()))
            .await
            .status(),
        200
    );
    env.shutdown().await;
}

#[tokio::test]
async fn unknown_route_is_404_and_wrong_method_is_405_in_the_envelope() {
    let env = start(|_| {}).await;
    let resp = env.get("/nope", None).await;
    insta::assert_snapshot!("not_found", render(resp).await);
    let resp = env.http.post(env.url("/api/content")).send().await.unwrap();
    insta::assert_snapshot!("method_not_allowed", render(resp).await);
    let resp = env.get("/api/auth/v1/token", None).await;
    let (status, code, _) = error_code(resp).await;
    assert_eq!((status, code.as_str()), (405, "METHOD_NOT_ALLOWED"));
    env.shutdown().await;
}

/// Sends raw bytes and returns the status line (or "" if the server closed the connection).
async fn raw(addr: std::net::SocketAddr, request: Vec<u8>) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _ = s.write_all(&request).await;
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    String::from_utf8_lossy(&buf)
        .lines()
        .next()
        .unwrap_or("")
        .to_owned()
}

#[tokio::test]
async fn oversized_headers_are_431_and_the_server_survives() {
    let env = start(|_| {}).await;
    for size in [64 * 1024, 1024 * 1024] {
        let req = format!(
            "GET /api/content HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\nconnection: close\r\n\r\n",
            "a".repeat(size)
        );
        let status = raw(env.api.addr(), req.into_bytes()).await;
        assert!(
            status.is_empty() || status.starts_with("HTTP/1.1 431"),
            "{size}: {status}"
        );
    }
    // Bearer + 100k periods within the header limit → fast 401, never 5xx.
    let resp = env
        .get_with("/api/content", &format!("Bearer {}", ".".repeat(12_000)))
        .await;
    assert_eq!(resp.status(), 401);
    assert_eq!(env.get("/health", None).await.status(), 200);
    env.shutdown().await;
}

#[tokio::test]
async fn huge_and_deep_claims_are_a_plain_401() {
    let env = start(|_| {}).await;
    let good = env.user_token();
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let deep_claims: Value = json!({"sub": "x", "deep": "placeholder"});
    let mut forged = with_payload(&good, &deep_claims);
    // Splice the deep array as raw JSON (serde_json cannot build it without recursion).
    let raw_payload = format!(r#"{{"sub":"x","deep":{deep}}}"#);
    use base64::Engine;
    let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw_payload);
    let mut parts: Vec<&str> = forged.split('.').collect();
    parts[1] = &enc;
    forged = parts.join(".");
    let (status, code, _) = error_code(env.get("/api/content", Some(&forged)).await).await;
    assert_eq!((status, code.as_str()), (401, "UNAUTHENTICATED"));
    env.shutdown().await;
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string("{\"ok\":true}")
                .set_delay(std::time::Duration::from_millis(500)),
        )
        .mount(&upstream)
        .await;
    let config = xauth_reference::Config::new(&upstream.uri()).unwrap();
    let api = xauth_reference::spawn(config).await.unwrap();
    let url = format!("{}/api/auth/v1/token?grant_type=password", api.url());
    let in_flight = tokio::spawn(async move { client().post(url).body("{}").send().await });
    // Wait until the upstream saw the request, then shut down while it is still open.
    for _ in 0..200 {
        if !upstream.received_requests().await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let addr = api.addr();
    api.shutdown().await;
    let resp = in_flight.await.unwrap().unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "{\"ok\":true}");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still listening"
    );
}

#[tokio::test]
async fn non_ascii_and_control_bytes_in_authorization_are_a_401() {
    let env = start(|_| {}).await;
    for value in [
        &b"Bearer \xff\xfe\xfd"[..],
        b"Bearer a\x01b",
        b"\xc3\xa9",
        b"Bearer \t",
    ] {
        let mut req =
            b"GET /api/content HTTP/1.1\r\nhost: x\r\nconnection: close\r\nauthorization: "
                .to_vec();
        req.extend_from_slice(value);
        req.extend_from_slice(b"\r\n\r\n");
        let status = raw(env.api.addr(), req).await;
        assert!(
            status.starts_with("HTTP/1.1 401") || status.starts_with("HTTP/1.1 400"),
            "{value:?}: {status}"
        );
    }
    env.shutdown().await;
}
