//! Every GoTrue error shape in both envelopes, the gateway's apikey gate, CORS, body limits,
//! bad JSON and unknown routes — never a 5xx. (Past 500 lines: most of it is the one table of
//! error cases and its snapshot; every test file is a binary linking the whole issuer, so fewer
//! is cheaper to build.)
// Tests assert with unwrap.
#![allow(clippy::unwrap_used)]

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Harness, PASSWORD, email, start, start_with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

enum Body {
    None,
    Json(Value),
    Raw(&'static [u8]),
}

struct Case {
    name: &'static str,
    method: Method,
    path: String,
    body: Body,
    bearer: Option<String>,
    extra: Vec<(&'static str, String)>,
    status: u16,
    code: &'static str,
}

fn case(name: &'static str, method: Method, path: &str, status: u16, code: &'static str) -> Case {
    Case {
        name,
        method,
        path: path.to_owned(),
        body: Body::None,
        bearer: None,
        extra: Vec::new(),
        status,
        code,
    }
}

impl Case {
    fn json(mut self, body: Value) -> Self {
        self.body = Body::Json(body);
        self
    }
    fn raw(mut self, body: &'static [u8]) -> Self {
        self.body = Body::Raw(body);
        self
    }
    fn bearer(mut self, token: &str) -> Self {
        self.bearer = Some(token.to_owned());
        self
    }
    fn header(mut self, name: &'static str, value: &str) -> Self {
        self.extra.push((name, value.to_owned()));
        self
    }
}

async fn send_case(h: &Harness, case: &Case, version: Option<&str>) -> support::Reply {
    let mut request = h.request(case.method.clone(), &case.path);
    request = match &case.body {
        Body::None => request,
        Body::Json(v) => request.json(v),
        Body::Raw(bytes) => request
            .header("content-type", "application/json")
            .body(bytes.to_vec()),
    };
    if let Some(token) = &case.bearer {
        request = request.bearer_auth(token);
    }
    for (name, value) in &case.extra {
        request = request.header(*name, value);
    }
    if let Some(v) = version {
        request = request.header("X-Supabase-Api-Version", v);
    }
    h.send(request).await
}

/// Sends every case without and with `X-Supabase-Api-Version: 2024-01-01`, checks both
/// envelopes, and returns the snapshot rows.
async fn run_cases(h: &Harness, cases: &[Case]) -> Vec<Value> {
    let mut rows = Vec::new();
    for case in cases {
        for version in [None, Some("2024-01-01")] {
            let reply = send_case(h, case, version).await;
            let body = reply.json();
            let label = format!("{} ({version:?}): {}", case.name, reply.text);
            assert_eq!(reply.status.as_u16(), case.status, "{label}");
            assert_eq!(reply.header("x-sb-error-code"), Some(case.code), "{label}");
            assert_eq!(
                reply.header("content-type"),
                Some("application/json"),
                "{label}"
            );
            match version {
                None => {
                    assert_eq!(body["code"], case.status, "{label}");
                    assert_eq!(body["error_code"], case.code, "{label}");
                    assert!(body["msg"].is_string(), "{label}");
                    assert!(body.get("message").is_none(), "{label}");
                    assert_eq!(reply.header("x-supabase-api-version"), None, "{label}");
                }
                Some(_) => {
                    assert_eq!(body["code"], case.code, "{label}");
                    assert!(body["message"].is_string(), "{label}");
                    assert!(body.get("msg").is_none() && body.get("error_code").is_none());
                    assert_eq!(
                        reply.header("x-supabase-api-version"),
                        Some("2024-01-01"),
                        "{label}"
                    );
                }
            }
            rows.push(json!({
                "case": case.name,
                "api_version": version,
                "status": reply.status.as_u16(),
                "x-sb-error-code": reply.header("x-sb-error-code"),
                "x-supabase-api-version": reply.header("x-supabase-api-version"),
                "body": body,
            }));
        }
    }
    rows
}

#[tokio::test]
async fn every_error_shape_in_both_envelopes() {
    let alice = email("alice");
    let h = start_with(|b| b.user(&alice, PASSWORD).max_body_bytes(64 * 1024)).await;

    // Fixtures: an unconfirmed user, a logged-out session, a reused refresh-token chain.
    let erin = email("erin");
    let created = h
        .send(
            h.request(Method::POST, "/admin/users")
                .bearer_auth(&h.service_key)
                .json(&json!({"email": erin, "password": PASSWORD})),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK);
    let dead = h.session(&alice, PASSWORD).await;
    let dead_access = dead["access_token"].as_str().unwrap().to_owned();
    let dead_refresh = dead["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(
        h.logout(&dead_access, Some("local")).await.status,
        StatusCode::NO_CONTENT
    );
    let live = h.session(&alice, PASSWORD).await;
    let live_access = live["access_token"].as_str().unwrap().to_owned();
    let a = live["refresh_token"].as_str().unwrap().to_owned();
    let b = h.refresh(&a).await.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    h.refresh(&b).await;
    h.advance(11);

    let post = Method::POST;
    let get = Method::GET;
    let grant = "/token?grant_type=password";
    let cases = vec![
        case(
            "unsupported grant type",
            post.clone(),
            "/token?grant_type=magic",
            400,
            "invalid_credentials",
        )
        .json(json!({})),
        case(
            "missing grant type",
            post.clone(),
            "/token",
            400,
            "invalid_credentials",
        )
        .json(json!({})),
        case("bad json", post.clone(), grant, 400, "bad_json").raw(b"{\"email\":"),
        case("empty body", post.clone(), grant, 400, "bad_json").raw(b""),
        case("wrong type", post.clone(), grant, 400, "bad_json")
            .json(json!({"email": 5, "password": "x"})),
        case("array body", post.clone(), grant, 400, "bad_json").json(json!([1, 2])),
        case(
            "email and phone",
            post.clone(),
            grant,
            400,
            "validation_failed",
        )
        .json(json!({"email": alice, "phone": "15555550100", "password": "x"})),
        case(
            "neither email nor phone",
            post.clone(),
            grant,
            400,
            "validation_failed",
        )
        .json(json!({"password": "x"})),
        case(
            "phone logins disabled",
            post.clone(),
            grant,
            422,
            "phone_provider_disabled",
        )
        .json(json!({"phone": "15555550100", "password": "x"})),
        case(
            "unknown user",
            post.clone(),
            grant,
            400,
            "invalid_credentials",
        )
        .json(json!({"email": "nobody@example.com", "password": PASSWORD})),
        case(
            "wrong password",
            post.clone(),
            grant,
            400,
            "invalid_credentials",
        )
        .json(json!({"email": alice, "password": "wrong-password"})),
        case(
            "empty password",
            post.clone(),
            grant,
            400,
            "invalid_credentials",
        )
        .json(json!({"email": alice, "password": ""})),
        case(
            "email not confirmed",
            post.clone(),
            grant,
            400,
            "email_not_confirmed",
        )
        .json(json!({"email": erin, "password": PASSWORD})),
        case(
            "refresh token malformed",
            post.clone(),
            "/token?grant_type=refresh_token",
            400,
            "validation_failed",
        )
        .json(json!({"refresh_token": "nope"})),
        case(
            "refresh token unknown",
            post.clone(),
            "/token?grant_type=refresh_token",
            400,
            "refresh_token_not_found",
        )
        .json(json!({"refresh_token": "aaaaaaaaaaaa"})),
        case(
            "refresh token after logout",
            post.clone(),
            "/token?grant_type=refresh_token",
            400,
            "refresh_token_not_found",
        )
        .json(json!({"refresh_token": dead_refresh})),
        case(
            "refresh token reused",
            post.clone(),
            "/token?grant_type=refresh_token",
            400,
            "refresh_token_already_used",
        )
        .json(json!({"refresh_token": a})),
        case(
            "user without bearer",
            get.clone(),
            "/user",
            401,
            "no_authorization",
        ),
        case(
            "user with basic auth",
            get.clone(),
            "/user",
            401,
            "no_authorization",
        )
        .header("authorization", "Basic Zm9vOmJhcg=="),
        case(
            "user with garbage jwt",
            get.clone(),
            "/user",
            403,
            "bad_jwt",
        )
        .bearer("a.b.c"),
        case("user with anon key", get.clone(), "/user", 403, "bad_jwt").bearer(&h.anon_key),
        case(
            "user after logout",
            get.clone(),
            "/user",
            403,
            "session_not_found",
        )
        .bearer(&dead_access),
        case(
            "user audience mismatch",
            get.clone(),
            "/user",
            400,
            "validation_failed",
        )
        .bearer(&live_access)
        .header("x-jwt-aud", "elsewhere"),
        case(
            "logout without bearer",
            post.clone(),
            "/logout",
            401,
            "no_authorization",
        ),
        case(
            "logout bad scope",
            post.clone(),
            "/logout?scope=nowhere",
            400,
            "validation_failed",
        )
        .bearer(&live_access),
        case(
            "signup anonymous disabled",
            post.clone(),
            "/signup",
            422,
            "anonymous_provider_disabled",
        )
        .json(json!({"password": PASSWORD})),
        case(
            "signup without password",
            post.clone(),
            "/signup",
            400,
            "validation_failed",
        )
        .json(json!({"email": email("x")})),
        case(
            "signup weak password",
            post.clone(),
            "/signup",
            422,
            "weak_password",
        )
        .json(json!({"email": email("x"), "password": "12345"})),
        case(
            "signup password too long",
            post.clone(),
            "/signup",
            400,
            "validation_failed",
        )
        .json(json!({"email": email("x"), "password": "x".repeat(73)})),
        case(
            "signup invalid email",
            post.clone(),
            "/signup",
            400,
            "validation_failed",
        )
        .json(json!({"email": "not-an-email", "password": PASSWORD})),
        case(
            "signup phone disabled",
            post.clone(),
            "/signup",
            400,
            "phone_provider_disabled",
        )
        .json(json!({"phone": "15555550100", "password": PASSWORD})),
        case(
            "signup existing user",
            post.clone(),
            "/signup",
            422,
            "user_already_exists",
        )
        .json(json!({"email": alice, "password": PASSWORD})),
        case("signup bad json", post.clone(), "/signup", 400, "bad_json").raw(b"nope"),
        case(
            "admin without bearer",
            get.clone(),
            "/admin/users",
            401,
            "no_authorization",
        ),
        case(
            "admin with anon key",
            get.clone(),
            "/admin/users",
            403,
            "not_admin",
        )
        .bearer(&h.anon_key),
        case(
            "admin with user token",
            get.clone(),
            "/admin/users",
            403,
            "not_admin",
        )
        .bearer(&live_access),
        case(
            "admin bad user id",
            get.clone(),
            "/admin/users/not-a-uuid",
            404,
            "validation_failed",
        )
        .bearer(&h.service_key),
        case(
            "admin unknown user",
            get.clone(),
            "/admin/users/00000000-0000-4000-8000-000000000000",
            404,
            "user_not_found",
        )
        .bearer(&h.service_key),
        case(
            "admin create without email",
            post.clone(),
            "/admin/users",
            400,
            "validation_failed",
        )
        .bearer(&h.service_key)
        .json(json!({})),
        case(
            "admin create existing email",
            post.clone(),
            "/admin/users",
            422,
            "email_exists",
        )
        .bearer(&h.service_key)
        .json(json!({"email": alice})),
        case(
            "admin bad pagination",
            get.clone(),
            "/admin/users?page=x",
            400,
            "validation_failed",
        )
        .bearer(&h.service_key),
        case(
            "admin bad ban duration",
            post.clone(),
            "/admin/users",
            400,
            "validation_failed",
        )
        .bearer(&h.service_key)
        .json(json!({"email": email("ban"), "ban_duration": "forever"})),
        case("unknown route", get.clone(), "/nope", 404, "not_found"),
        case(
            "unknown nested route",
            post.clone(),
            "/admin/users/x/factors",
            404,
            "not_found",
        )
        .bearer(&h.service_key),
        case(
            "wrong method",
            Method::DELETE,
            "/token",
            405,
            "method_not_allowed",
        ),
    ];
    let rows = run_cases(&h, &cases).await;

    // Unknown user and wrong password are indistinguishable.
    let body_of = |name: &str| {
        rows.iter()
            .find(|r| r["case"] == name && r["api_version"].is_null())
            .map(|r| r["body"].clone())
            .unwrap()
    };
    assert_eq!(body_of("unknown user"), body_of("wrong password"));
    assert_eq!(body_of("unknown user")["msg"], "Invalid login credentials");
    assert_eq!(
        body_of("unsupported grant type")["msg"],
        "unsupported_grant_type"
    );
    assert_eq!(
        body_of("signup weak password")["weak_password"],
        json!({"reasons": ["length"]})
    );

    insta::assert_json_snapshot!("error_shapes", rows);
}

#[tokio::test]
async fn api_version_header_selection_follows_gotrue() {
    let h = start().await;
    for (value, new_envelope) in [
        ("2024-01-01", true),
        ("2025-06-30", true),
        ("2023-12-31", false),
        ("2024-1-1", false),
        ("yesterday", false),
        ("", false),
    ] {
        let reply = h
            .send(
                h.request(Method::POST, "/token?grant_type=nope")
                    .header("x-supabase-api-version", value)
                    .json(&json!({})),
            )
            .await;
        let body = reply.json();
        assert_eq!(body["code"].is_string(), new_envelope, "{value}: {body}");
        let echoed = reply.header("x-supabase-api-version");
        assert_eq!(echoed, new_envelope.then_some("2024-01-01"), "{value}");
    }
    // Success responses never carry the header.
    let ok = h
        .send(
            h.request(Method::GET, "/settings")
                .header("x-supabase-api-version", "2024-01-01"),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.header("x-supabase-api-version"), None);
}

#[tokio::test]
async fn the_gateway_requires_an_api_key() {
    let alice = email("alice");
    let h = start_with(|b| b.user(&alice, PASSWORD)).await;
    let url = |path: &str| format!("{}{path}", h.auth_url);

    let missing = h
        .send(
            h.http
                .post(url("/token?grant_type=password"))
                .json(&json!({})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.json()["message"], "No API key found in request");
    insta::assert_json_snapshot!("apikey_missing", missing.json());

    let wrong = h
        .send(
            h.http
                .post(url("/token?grant_type=password"))
                .header("apikey", "not-a-key")
                .json(&json!({})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    insta::assert_json_snapshot!("apikey_invalid", wrong.json());

    // The gateway answers before GoTrue routes: unknown routes need a key too.
    let unknown = h.send(h.http.get(url("/nope"))).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);

    // The service_role key, or the key as a query parameter, pass.
    let service = h
        .send(
            h.http
                .post(url("/token?grant_type=password"))
                .header("apikey", &h.service_key)
                .json(&json!({"email": alice, "password": PASSWORD})),
        )
        .await;
    assert_eq!(service.status, StatusCode::OK);
    let query = h
        .send(
            h.http
                .post(url(&format!(
                    "/token?grant_type=password&apikey={}",
                    h.anon_key
                )))
                .json(&json!({"email": alice, "password": PASSWORD})),
        )
        .await;
    assert_eq!(query.status, StatusCode::OK);

    // Open routes: JWKS, OpenID configuration, health.
    for path in [
        "/.well-known/jwks.json",
        "/.well-known/openid-configuration",
        "/health",
    ] {
        let reply = h.send(h.http.get(url(path))).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
    }
    for path in ["/settings", "/user", "/admin/users"] {
        let reply = h.send(h.http.get(url(path))).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            reply.json()["message"],
            "No API key found in request",
            "{path}"
        );
    }
}

#[tokio::test]
async fn no_apikey_mode_lets_requests_through() {
    let alice = email("alice");
    let h = start_with(|b| b.user(&alice, PASSWORD).require_apikey(false)).await;
    let reply = h
        .send(
            h.http
                .post(format!("{}/token?grant_type=password", h.auth_url))
                .json(&json!({"email": alice, "password": PASSWORD})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn cors_preflight_and_exposed_headers() {
    let h = start().await;
    let preflight = h
        .send(
            h.http
                .request(Method::OPTIONS, format!("{}/token?grant_type=password", h.auth_url))
                .header("origin", "http://localhost:3000")
                .header("access-control-request-method", "POST")
                .header(
                    "access-control-request-headers",
                    "apikey, authorization, content-type, x-client-info, x-supabase-api-version, x-jwt-aud",
                ),
        )
        .await;
    assert!(preflight.status.is_success(), "{}", preflight.status);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    assert_eq!(
        preflight.header("access-control-allow-credentials"),
        Some("true")
    );
    let allowed = preflight
        .header("access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    for name in [
        "apikey",
        "authorization",
        "content-type",
        "x-client-info",
        "x-supabase-api-version",
        "x-jwt-aud",
        "accept",
        "x-client-ip",
        "x-use-cookie",
    ] {
        assert!(allowed.contains(name), "{name} not in {allowed}");
    }
    let methods = preflight.header("access-control-allow-methods").unwrap();
    for m in ["GET", "POST", "PUT", "DELETE"] {
        assert!(methods.contains(m), "{methods}");
    }

    // Actual responses (errors included) let the browser read X-Supabase-Api-Version.
    let error = h
        .send(
            h.request(Method::POST, "/token?grant_type=nope")
                .header("origin", "http://localhost:3000")
                .header("x-supabase-api-version", "2024-01-01")
                .json(&json!({})),
        )
        .await;
    assert_eq!(error.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    let exposed = error
        .header("access-control-expose-headers")
        .unwrap()
        .to_ascii_lowercase();
    for name in ["x-supabase-api-version", "x-total-count", "link"] {
        assert!(exposed.contains(name), "{exposed}");
    }
    // The gateway's 401 carries CORS headers too.
    let gate = h
        .send(
            h.http
                .get(format!("{}/settings", h.auth_url))
                .header("origin", "http://localhost:3000"),
        )
        .await;
    assert_eq!(gate.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        gate.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
}

/// Sends a raw HTTP/1.1 request and returns the status line and body text.
async fn raw_http(h: &Harness, request: Vec<u8>) -> (String, String) {
    let addr = h.issuer.addr();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(&request).await.unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut buf),
    )
    .await;
    assert!(read.is_ok(), "server answered within 10 s");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.lines().next().unwrap_or_default().to_owned();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

#[tokio::test]
async fn oversized_bodies_get_413_in_gotrue_shape() {
    let h = start_with(|b| b.max_body_bytes(1024)).await;
    let big = json!({"email": "a@b.c", "password": "x".repeat(4096)});
    for version in [None, Some("2024-01-01")] {
        let mut request = h
            .request(Method::POST, "/token?grant_type=password")
            .json(&big);
        if let Some(v) = version {
            request = request.header("x-supabase-api-version", v);
        }
        let reply = h.send(request).await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            reply.header("x-sb-error-code"),
            Some("request_entity_too_large")
        );
        assert_eq!(reply.error_code(), "request_entity_too_large");
    }

    // A chunked body (no Content-Length) over the limit: 413 from the body reader.
    let chunk = "x".repeat(4096);
    let request = format!(
        "POST /auth/v1/signup HTTP/1.1\r\nhost: localhost\r\napikey: {}\r\n\
         transfer-encoding: chunked\r\nconnection: close\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        h.anon_key,
        chunk.len()
    );
    let (status, body) = raw_http(&h, request.into_bytes()).await;
    assert!(status.contains(" 413 "), "{status}");
    assert!(body.contains("request_entity_too_large"), "{body}");
}

#[tokio::test]
async fn hostile_bodies_never_cause_a_server_error() {
    let alice = email("alice");
    let h = start_with(|b| b.user(&alice, PASSWORD)).await;
    let session = h.session(&alice, PASSWORD).await;
    let access = session["access_token"].as_str().unwrap().to_owned();
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let mut bodies: Vec<Vec<u8>> = [
        "", " ", "{", "}", "[]", "null", "true", "\"str\"", "1e999999", "{\"email\":{\"$gt\":\"\"}}",
        "{\"password\":123}", "{\"email\":null,\"password\":null}",
        "{\"email\":\"a@b.c\",\"email\":\"dup@b.c\",\"password\":\"x\"}",
        "{\"refresh_token\":[\"a\"]}", "{\"refresh_token\":\"\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\"}",
        "{\"data\":\"not an object\",\"email\":\"x@y.z\",\"password\":\"123456\"}",
        "{\"email\":\"\\ud800@x.y\",\"password\":\"123456\"}",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    bodies.push(deep.into_bytes());
    bodies.push(vec![0xff, 0xfe, 0x00, 0x7b]);
    let routes = [
        (Method::POST, "/token?grant_type=password", None),
        (Method::POST, "/token?grant_type=refresh_token", None),
        (Method::POST, "/signup", None),
        (Method::POST, "/logout", Some(access.clone())),
        (Method::POST, "/admin/users", Some(h.service_key.clone())),
        (
            Method::DELETE,
            "/admin/users/00000000-0000-4000-8000-000000000000",
            Some(h.service_key.clone()),
        ),
    ];
    for (method, path, bearer) in &routes {
        for body in &bodies {
            let mut request = h
                .request(method.clone(), path)
                .header("content-type", "application/json")
                .body(body.clone());
            if let Some(token) = bearer {
                request = request.bearer_auth(token);
            }
            // `send` asserts no 5xx; every answer is JSON (or the empty 204 of logout).
            let reply = h.send(request).await;
            if reply.status != StatusCode::NO_CONTENT {
                reply.json();
            }
            assert!(
                reply.status.is_client_error() || reply.status.is_success(),
                "{path} {:?}: {}",
                String::from_utf8_lossy(body),
                reply.status
            );
        }
    }
    // Odd headers and queries.
    for (name, value) in [
        ("authorization", "Bearer "),
        ("authorization", "Bearer a b"),
        ("authorization", "bearer\t.x."),
        ("x-supabase-api-version", "9999-99-99"),
        ("x-jwt-aud", ""),
    ] {
        let reply = h
            .send(h.request(Method::GET, "/user").header(name, value))
            .await;
        assert!(reply.status.is_client_error(), "{name}: {value}");
    }
    let reply = h
        .send(
            h.request(Method::POST, "/token?grant_type=%ZZ&grant_type=password")
                .json(&json!({})),
        )
        .await;
    assert!(reply.status.is_client_error());
}
