//! The tower layer and extractor, served by a real axum server on an ephemeral loopback port.
// Tests assert with unwrap.
#![allow(clippy::unwrap_used)]

mod support;

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use support::*;
use xauth_verifier::axum::{AuthLayer, Authenticated};
use xauth_verifier::{Claims, Forbidden, Policy};

async fn content(Authenticated(c): Authenticated<Claims>) -> Result<Json<Value>, Forbidden> {
    Policy::require_role(["authenticated", "service_role"]).check(&c)?;
    Ok(Json(json!({"sub": c.sub})))
}

async fn admin(Authenticated(c): Authenticated<Claims>) -> Result<Json<Value>, Forbidden> {
    Policy::require_role(["service_role"]).check(&c)?;
    Ok(Json(json!({"ok": true})))
}

async fn optional(auth: Option<Authenticated<Claims>>) -> String {
    auth.map_or_else(|| "anonymous".to_owned(), |Authenticated(c)| c.sub)
}

struct App {
    fx: Fixture,
    base: String,
    http: reqwest::Client,
}

async fn app() -> App {
    let fx = fixture().await;
    let router = Router::new()
        .route("/api/content", get(content))
        .route("/api/admin", get(admin))
        .route("/optional", get(optional))
        .route("/health", get(|| async { "ok" }))
        .layer(AuthLayer::new(fx.verifier.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    App {
        fx,
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
    }
}

struct Answer {
    status: u16,
    challenge: Option<String>,
    body: Value,
}

impl App {
    async fn get(&self, route: &str, auth: &[&str]) -> Answer {
        let mut req = self.http.get(format!("{}{route}", self.base));
        for a in auth {
            req = req.header("authorization", *a);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let challenge = resp
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer {
            status,
            challenge,
            body,
        }
    }
}

fn unauthenticated() -> Value {
    json!({"error":{"code":"UNAUTHENTICATED","message":"Missing or invalid bearer token"}})
}

#[tokio::test]
async fn no_token_gets_a_bare_bearer_challenge() {
    let app = app().await;
    let a = app.get("/api/content", &[]).await;
    assert_eq!(a.status, 401);
    assert_eq!(a.challenge.as_deref(), Some("Bearer"));
    assert_eq!(a.body, unauthenticated());
    // Public routes under the layer are unaffected.
    assert_eq!(app.get("/health", &[]).await.status, 200);
    assert_eq!(app.get("/optional", &[]).await.body, json!("anonymous"));
}

#[tokio::test]
async fn valid_token_passes_and_policy_forbids() {
    let app = app().await;
    let token = app.fx.es256(&app.fx.claims());
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let a = app
            .get("/api/content", &[&format!("{scheme} {token}")])
            .await;
        assert_eq!(a.status, 200);
        assert_eq!(a.body["sub"], app.fx.claims()["sub"]);
    }
    let a = app.get("/api/admin", &[&format!("Bearer {token}")]).await;
    assert_eq!(a.status, 403);
    assert_eq!(
        a.body,
        json!({"error":{"code":"FORBIDDEN","message":"Insufficient permissions"}})
    );
    assert_eq!(
        a.challenge.as_deref(),
        Some("Bearer error=\"insufficient_scope\"")
    );
    let service = app
        .fx
        .es256(&app.fx.claims_with(json!({"role":"service_role"})));
    assert_eq!(
        app.get("/api/admin", &[&format!("Bearer {service}")])
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn expired_token_is_token_expired() {
    let app = app().await;
    let token = app.fx.es256(
        &app.fx
            .claims_with(json!({"exp": NOW - 1, "iat": NOW - 100})),
    );
    let a = app.get("/api/content", &[&format!("Bearer {token}")]).await;
    assert_eq!(a.status, 401);
    assert_eq!(a.body["error"]["code"], "TOKEN_EXPIRED");
    assert!(
        a.challenge
            .unwrap()
            .starts_with("Bearer error=\"invalid_token\"")
    );
}

#[tokio::test]
async fn a51_identical_bodies_no_reflection() {
    let app = app().await;
    let fx = &app.fx;
    let c = fx.claims_with(json!({"sub": "<script>MARKER</script>", "role": "MARKER"}));
    let good = fx.es256(&fx.claims());
    let mut broken = unb64(&segments(&good)[2]);
    broken[0] ^= 1;
    let tokens = vec![
        with_sig(&good, &broken),
        jwt(&json!({"alg":"none"}), &c, Signer::Empty),
        jwt(
            &json!({"alg":"HS256","kid":"ec-1"}),
            &c,
            Signer::Hs256(b"public-key-as-secret-public-key-as"),
        ),
        jwt(
            &json!({"alg":"HS256","kid":"../../dev/null"}),
            &c,
            Signer::Hs256(b""),
        ),
        jwt(
            &json!({"alg":"ES256","kid":"MARKER-kid"}),
            &c,
            Signer::Es256(&keys().attacker_ec),
        ),
        format!("{}.{}.{}", b64("not json"), b64(c.to_string()), "AAAA"),
        "garbage".to_owned(),
    ];
    for t in tokens {
        let a = app.get("/api/content", &[&format!("Bearer {t}")]).await;
        assert_eq!(a.status, 401);
        assert_eq!(a.body, unauthenticated(), "{t}");
        assert_eq!(
            a.challenge.as_deref(),
            Some("Bearer error=\"invalid_token\"")
        );
        assert!(!a.body.to_string().contains("MARKER"));
    }
    for header in ["Basic dXNlcjpwYXNz", "Bearer", "Token abc"] {
        let a = app.get("/api/content", &[header]).await;
        assert_eq!(a.status, 401);
        assert_eq!(a.body, unauthenticated());
    }
}

#[tokio::test]
async fn a62_duplicate_authorization_headers_refused() {
    let app = app().await;
    let token = app.fx.es256(&app.fx.claims());
    let h = format!("Bearer {token}");
    let a = app.get("/api/content", &[&h, &h]).await;
    assert_eq!(a.status, 401);
    assert_eq!(a.body, unauthenticated());
    // Query-string tokens are not read.
    let resp = app
        .http
        .get(format!("{}/api/content?access_token={token}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
}
