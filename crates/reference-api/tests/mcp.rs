//! The MCP endpoint end to end: real servers on loopback, the in-process issuer minting the
//! tokens, rmcp answering behind the gate. Covers the protected resource metadata, the 401/403
//! challenges, both audience modes, ID tokens, scopes, query tokens, Origin, PATs, the rate
//! limit, the upstream call without token passthrough, and one test per seeded MCP defect.
//! Longer than 500 lines on purpose: one test per clause of the MCP contract and per defect,
//! kept in one file so the contract reads top to bottom (the helpers are in `support::mcp`).

// Test code: unwrap() is the assertion (clippy does not treat integration tests as test code).
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use support::mcp::*;
use support::pats::start_pats;
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn www_authenticate(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

async fn metadata(env: &Env, path: &str) -> (reqwest::header::HeaderMap, Value) {
    let resp = env.get(path, None).await;
    assert_eq!(resp.status(), 200, "{path}");
    let headers = resp.headers().clone();
    (headers, resp.json().await.unwrap())
}

#[tokio::test]
async fn protected_resource_metadata_at_both_urls_names_the_resource() {
    let env = start_mcp(&[], &[]).await;
    for p in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ] {
        let (headers, doc) = metadata(&env, p).await;
        assert_eq!(
            doc,
            json!({
                "resource": env.resource(),
                "authorization_servers": [format!("{}/auth/v1", env.issuer.base_url())],
                "bearer_methods_supported": ["header"],
                "resource_name": "xauth reference",
            })
        );
        assert_eq!(headers["content-type"], "application/json");
        assert!(
            headers["cache-control"]
                .to_str()
                .unwrap()
                .contains("max-age")
        );
    }
    env.shutdown().await;
}

#[tokio::test]
async fn a_configured_resource_is_the_metadata_and_the_audience() {
    let resource = "https://api.example.test/mcp";
    let env = start_mcp(
        &[
            "--mcp-resource",
            resource,
            "--mcp-audience-mode",
            "resource",
        ],
        &[],
    )
    .await;
    let (_, doc) = metadata(&env, "/.well-known/oauth-protected-resource/mcp").await;
    assert_eq!(doc["resource"], resource);
    let resp = env.mcp_initialize(None).await;
    assert!(
        www_authenticate(&resp).contains(
            "resource_metadata=\"https://api.example.test/.well-known/oauth-protected-resource/mcp\""
        ),
        "{}",
        www_authenticate(&resp)
    );
    assert_eq!(
        env.mcp_status(Some(&env.mcp_token(json!({"aud": resource}))))
            .await,
        200
    );
    env.shutdown().await;
}

#[tokio::test]
async fn the_401_challenge_points_at_the_metadata_and_names_no_scope() {
    let env = start_mcp(&[], &[]).await;
    let resp = env.mcp_initialize(None).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(
        www_authenticate(&resp),
        format!("Bearer resource_metadata=\"{}\"", env.metadata_url())
    );
    let (_, code, _) = error_code(resp).await;
    assert_eq!(code, "UNAUTHENTICATED");

    let forged = bad_signature(&env.mcp_token(json!({})));
    let resp = env.mcp_initialize(Some(&forged)).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(
        www_authenticate(&resp),
        format!(
            "Bearer resource_metadata=\"{}\", error=\"invalid_token\"",
            env.metadata_url()
        )
    );

    let expired = env.mint(xauth_issuer::MintRequest {
        claims: Some(as_map(json!({"client_id": CLIENT}))),
        ttl: Some(-60),
        ..Default::default()
    });
    let resp = env.mcp_initialize(Some(&expired)).await;
    let challenge = www_authenticate(&resp);
    assert!(
        challenge.contains("error=\"invalid_token\"") && challenge.contains("resource_metadata="),
        "{challenge}"
    );
    let (status, code, _) = error_code(resp).await;
    assert_eq!((status, code.as_str()), (401, "TOKEN_EXPIRED"));
    env.shutdown().await;
}

#[tokio::test]
async fn token_expired_only_for_a_token_this_resource_would_accept() {
    let env = start_mcp(&[], &[]).await;
    let expired = |claims: Value| {
        env.mint(xauth_issuer::MintRequest {
            claims: Some(as_map(claims)),
            ttl: Some(-60),
            ..Default::default()
        })
    };
    let ours = expired(json!({"client_id": CLIENT}));
    let (status, code, _) = error_code(env.mcp_initialize(Some(&ours)).await).await;
    assert_eq!((status, code.as_str()), (401, "TOKEN_EXPIRED"));
    for claims in [
        json!({"client_id": FOREIGN_CLIENT}),
        json!({"aud": CLIENT, "client_id": null}),
    ] {
        let (status, code, _) =
            error_code(env.mcp_initialize(Some(&expired(claims.clone()))).await).await;
        assert_eq!(
            (status, code.as_str()),
            (401, "UNAUTHENTICATED"),
            "{claims}"
        );
    }
    env.shutdown().await;
}

#[tokio::test]
async fn supabase_mode_handshake_and_list_content() {
    let env = start_mcp(&[], &[]).await;
    let sub = uuid::Uuid::new_v4().to_string();
    let token = env.mcp_token(json!({"sub": sub}));
    let result = env.mcp_call(&token, "list_content").await;
    assert_ne!(result["isError"], true, "{result}");
    let content = tool_json(&result);
    let api: Value = env
        .get("/api/content", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(content["items"], api["data"]["items"]);
    assert_eq!(content["subject"], sub.as_str());
    assert_eq!(result["structuredContent"], content);
    // Stateless: no session, and no GET stream (but the gate still comes first).
    let resp = env.mcp_initialize(Some(&token)).await;
    assert!(resp.headers().get("mcp-session-id").is_none());
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(resp.headers()["ratelimit-policy"], "\"sub\";q=120;w=60");
    let get = env.get("/mcp", Some(&token)).await;
    assert_eq!(get.status(), 405);
    assert_eq!(env.get("/mcp", None).await.status(), 401);
    env.shutdown().await;
}

#[tokio::test]
async fn supabase_mode_refuses_a_foreign_or_missing_client_id() {
    let env = start_mcp(&[], &[]).await;
    for claims in [
        json!({"client_id": FOREIGN_CLIENT}),
        json!({"client_id": null}),
        json!({"client_id": 7}),
        json!({"aud": env.resource()}),
    ] {
        let resp = env
            .mcp_initialize(Some(&env.mcp_token(claims.clone())))
            .await;
        assert_eq!(resp.status(), 401, "{claims}");
        assert!(www_authenticate(&resp).contains("error=\"invalid_token\""));
    }
    env.shutdown().await;
}

#[tokio::test]
async fn supabase_mode_without_allowed_clients_accepts_no_jwt() {
    let env = start(|c| {
        c.mcp = Some(xauth_reference::McpConfig::default());
    })
    .await;
    assert_eq!(env.mcp_status(Some(&env.mcp_token(json!({})))).await, 401);
    env.shutdown().await;
}

#[tokio::test]
async fn resource_mode_requires_the_resource_as_audience() {
    let env = start_mcp(&["--mcp-audience-mode", "resource"], &[]).await;
    let resource = env.resource();
    let ok = env.mcp_token(json!({"aud": resource}));
    let result = env.mcp_call(&ok, "list_content").await;
    assert_eq!(tool_json(&result)["items"][0]["id"], 1);
    let array = env.mcp_token(json!({"aud": ["other", resource]}));
    assert_eq!(env.mcp_status(Some(&array)).await, 200);
    for claims in [
        json!({}), // aud authenticated
        json!({"aud": null}),
        json!({"aud": format!("{resource}/")}),
        json!({"aud": resource, "client_id": FOREIGN_CLIENT}),
        json!({"aud": resource, "client_id": null}),
    ] {
        let token = env.mcp_token(claims.clone());
        assert_eq!(env.mcp_status(Some(&token)).await, 401, "{claims}");
    }
    env.shutdown().await;
}

#[tokio::test]
async fn resource_mode_without_an_allow_list_does_not_need_a_client_id() {
    let env = start(|c| {
        c.mcp = Some(xauth_reference::McpConfig {
            audience_mode: xauth_reference::mcp::AudienceMode::Resource,
            ..Default::default()
        });
    })
    .await;
    let token = env.mcp_token(json!({"aud": env.resource(), "client_id": null}));
    assert_eq!(env.mcp_status(Some(&token)).await, 200);
    env.shutdown().await;
}

#[tokio::test]
async fn id_tokens_are_refused_in_both_modes() {
    for mode in ["supabase", "resource"] {
        let env = start_mcp(&["--mcp-audience-mode", mode], &[]).await;
        for claims in [
            json!({"aud": CLIENT}),
            json!({"aud": CLIENT, "client_id": null}),
            json!({"aud": [CLIENT]}),
        ] {
            let token = env.mcp_token(claims.clone());
            assert_eq!(env.mcp_status(Some(&token)).await, 401, "{mode} {claims}");
        }
        env.shutdown().await;
    }
}

#[tokio::test]
async fn a_jwt_scope_claim_is_not_enforced_as_supabase_grants_full_access() {
    // Supabase's OAuth server puts OpenID scopes in `scope`; an MCP scope is never there.
    let env = start_mcp(&[], &[]).await;
    for scope in ["openid email", "openid mcp:tools"] {
        let token = env.mcp_token(json!({ "scope": scope }));
        assert_eq!(env.mcp_status(Some(&token)).await, 200, "{scope}");
    }
    env.shutdown().await;
}

#[tokio::test]
async fn a_token_in_the_query_string_is_not_a_credential() {
    let env = start_mcp(&[], &[]).await;
    let token = env.mcp_token(json!({}));
    let resp = env
        .mcp_post_to(&format!("?access_token={token}"), None, &[], &initialize())
        .await;
    assert_eq!(resp.status(), 401);
    assert!(!www_authenticate(&resp).contains("error="));
    env.shutdown().await;
}

#[tokio::test]
async fn a_foreign_origin_is_403_and_allowed_origins_pass() {
    let env = start_mcp(&["--mcp-allowed-origin", "https://app.example.test"], &[]).await;
    let token = env.mcp_token(json!({}));
    let own = env.api.url();
    for (origin, want) in [
        ("https://evil.example.test", 403),
        ("null", 403),
        ("http://127.0.0.1:1", 403),
        ("https://app.example.test", 200),
        ("https://app.example.test:443", 200),
        (own.as_str(), 200),
    ] {
        let resp = env
            .mcp_post_to("", Some(&token), &[("origin", origin)], &initialize())
            .await;
        assert_eq!(resp.status(), want, "{origin}");
        if want == 403 {
            assert!(resp.headers().get("www-authenticate").is_none());
            let (_, code, _) = error_code(resp).await;
            assert_eq!(code, "FORBIDDEN");
        }
    }
    // Refused before anything else: no token needed to see the 403.
    let resp = env
        .mcp_post_to(
            "",
            None,
            &[("origin", "https://evil.example.test")],
            &initialize(),
        )
        .await;
    assert_eq!(resp.status(), 403);
    env.shutdown().await;
}

#[tokio::test]
async fn pats_need_the_mcp_tools_scope() {
    let p = start_pats(&[], |c, _| c.mcp = Some(mcp_config(&[], &[]))).await;
    let user = p.user().await;
    let (_, with) = p.create(&user, &["mcp:tools"], 30).await;
    let (_, without) = p.create(&user, &["content:read"], 30).await;
    let result = p.env.mcp_call(&with, "list_content").await;
    assert_eq!(tool_json(&result)["subject"], user.id.as_str());
    let resp = p.env.mcp_initialize(Some(&without)).await;
    assert_eq!(resp.status(), 403);
    assert!(www_authenticate(&resp).starts_with(
        "Bearer error=\"insufficient_scope\", scope=\"mcp:tools\", resource_metadata="
    ));
    // An unknown PAT is a 401 with the MCP challenge.
    let mut unknown = with.clone();
    unknown.replace_range(10..11, if &with[10..11] == "a" { "b" } else { "a" });
    let resp = p.env.mcp_initialize(Some(&unknown)).await;
    assert_eq!(resp.status(), 401);
    assert!(www_authenticate(&resp).contains("resource_metadata="));
    // The MCP scope does not open the REST routes.
    assert_eq!(p.status("/api/content", &with).await, 403);
    p.shutdown().await;
}

#[tokio::test]
async fn the_mcp_endpoint_shares_the_subject_rate_limit() {
    let env = start(|c| {
        c.subject_rate.limit = std::num::NonZeroU32::new(2).unwrap();
        c.mcp = Some(mcp_config(&[], &[]));
    })
    .await;
    let token = env.mcp_token(json!({}));
    assert_eq!(env.get("/api/content", Some(&token)).await.status(), 200);
    assert_eq!(env.mcp_status(Some(&token)).await, 200);
    let resp = env.mcp_initialize(Some(&token)).await;
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().get("retry-after").is_some());
    env.shutdown().await;
}

/// An upstream that records what it is sent.
async fn canary() -> MockServer {
    let upstream = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/status"))
        .respond_with(ResponseTemplate::new(418))
        .mount(&upstream)
        .await;
    upstream
}

async fn upstream_authorizations(upstream: &MockServer) -> Vec<Option<String>> {
    upstream
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            r.headers
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn upstream_status_never_forwards_the_client_token() {
    let upstream = canary().await;
    let url = format!("{}/status", upstream.uri());
    let env = start_mcp(&["--mcp-upstream", &url], &[]).await;
    let token = env.mcp_token(json!({}));
    let result = env.mcp_call(&token, "upstream_status").await;
    assert_eq!(tool_json(&result), json!({"status": 418}));
    assert_eq!(upstream_authorizations(&upstream).await, vec![None]);
    env.shutdown().await;

    let env = start_mcp(
        &[
            "--mcp-upstream",
            &url,
            "--mcp-upstream-token",
            "service-credential",
        ],
        &[],
    )
    .await;
    let token = env.mcp_token(json!({}));
    env.mcp_call(&token, "upstream_status").await;
    let seen = upstream_authorizations(&upstream).await;
    assert_eq!(seen[1].as_deref(), Some("Bearer service-credential"));
    assert!(seen.iter().flatten().all(|a| !a.contains(&token)));
    env.shutdown().await;
}

#[tokio::test]
async fn upstream_status_without_an_upstream_is_a_tool_error() {
    let env = start_mcp(&[], &[]).await;
    let result = env
        .mcp_call(&env.mcp_token(json!({})), "upstream_status")
        .await;
    assert_eq!(result["isError"], true, "{result}");
    env.shutdown().await;
}

#[test]
fn an_mcp_defect_without_mcp_is_a_usage_error() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xauth-reference"))
        .args(["--supabase-url", "http://127.0.0.1:9", "--port", "0"])
        .args(["--defect", "mcp-query-token"])
        .env_remove("XAUTH_MCP")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs --mcp"));
}

/// The binary, killed when dropped.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binary_takes_the_mcp_environment_and_derives_the_resource() {
    use std::io::{BufRead, BufReader};
    let upstream = canary().await;
    let issuer = xauth_issuer::Issuer::builder()
        .port(0)
        .spawn()
        .await
        .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_xauth-reference"))
        .env("SUPABASE_URL", issuer.base_url())
        .env("PORT", "0")
        .env("RUST_LOG", "info")
        .env("XAUTH_MCP", "true")
        .env("XAUTH_MCP_ALLOWED_CLIENT_IDS", format!("other,{CLIENT}"))
        .env("MCP_UPSTREAM_URL", format!("{}/status", upstream.uri()))
        .env_remove("XAUTH_MCP_UPSTREAM_URL")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let _running = Running(child);
    // Read stderr to its end (a closed pipe would fail the server's log writes).
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(i) = line.find("addr=")
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(line[i + 5..].split_whitespace().next().unwrap().to_owned());
            }
        }
    });
    let addr = rx.await.expect("the server logs its address");
    let base = format!("http://{addr}");
    let http = client();
    let doc: Value = http
        .get(format!("{base}/.well-known/oauth-protected-resource/mcp"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["resource"], format!("{base}/mcp"));
    let token = issuer
        .mint(&xauth_issuer::MintRequest {
            claims: Some(as_map(json!({"client_id": CLIENT}))),
            ..Default::default()
        })
        .unwrap()
        .token;
    let resp = http
        .post(format!("{base}/mcp"))
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .bearer_auth(&token)
        .body(call("upstream_status").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let answer = rpc_answer(resp).await;
    assert_eq!(tool_json(&answer["result"]), json!({"status": 418}));
    assert_eq!(upstream_authorizations(&upstream).await, vec![None]);
    issuer.shutdown().await;
}

// ---- one test per seeded MCP defect: each flips a verdict above ---------------------------

#[tokio::test]
async fn defect_mcp_no_resource_metadata() {
    let env = start_mcp(&[], &["mcp-no-resource-metadata"]).await;
    let resp = env.mcp_initialize(None).await;
    assert_eq!(resp.status(), 401);
    assert!(!www_authenticate(&resp).contains("resource_metadata"));
    env.shutdown().await;
}

#[tokio::test]
async fn defect_mcp_metadata_resource_mismatch() {
    let env = start_mcp(&[], &["mcp-metadata-resource-mismatch"]).await;
    let (_, doc) = metadata(&env, "/.well-known/oauth-protected-resource/mcp").await;
    assert_ne!(doc["resource"], env.resource());
    assert_eq!(doc["resource"], env.api.url());
    env.shutdown().await;
}

#[tokio::test]
async fn defect_mcp_any_audience() {
    for mode in ["supabase", "resource"] {
        let env = start_mcp(&["--mcp-audience-mode", mode], &["mcp-any-audience"]).await;
        let token = env.mcp_token(json!({"aud": "some-other-api"}));
        assert_eq!(env.mcp_status(Some(&token)).await, 200, "{mode}");
        env.shutdown().await;
    }
}

#[tokio::test]
async fn defect_mcp_client_id_ignored() {
    let env = start_mcp(&[], &["mcp-client-id-ignored"]).await;
    let token = env.mcp_token(json!({"client_id": FOREIGN_CLIENT}));
    assert_eq!(env.mcp_status(Some(&token)).await, 200);
    env.shutdown().await;
}

#[tokio::test]
async fn defect_mcp_id_token_accepted() {
    for mode in ["supabase", "resource"] {
        let env = start_mcp(&["--mcp-audience-mode", mode], &["mcp-id-token-accepted"]).await;
        let token = env.mcp_token(json!({"aud": CLIENT, "client_id": null}));
        assert_eq!(env.mcp_status(Some(&token)).await, 200, "{mode}");
        // Other audiences are still refused: only the ID-token confusion is seeded.
        let other = env.mcp_token(json!({"aud": "some-other-api"}));
        assert_eq!(env.mcp_status(Some(&other)).await, 401, "{mode}");
        env.shutdown().await;
    }
}

#[tokio::test]
async fn defect_mcp_token_passthrough() {
    let upstream = canary().await;
    let url = format!("{}/status", upstream.uri());
    let env = start_mcp(
        &[
            "--mcp-upstream",
            &url,
            "--mcp-upstream-token",
            "service-credential",
        ],
        &["mcp-token-passthrough"],
    )
    .await;
    let token = env.mcp_token(json!({}));
    env.mcp_call(&token, "upstream_status").await;
    assert_eq!(
        upstream_authorizations(&upstream).await,
        vec![Some(format!("Bearer {token}"))]
    );
    env.shutdown().await;
}

#[tokio::test]
async fn defect_mcp_query_token() {
    let env = start_mcp(&[], &["mcp-query-token"]).await;
    let token = env.mcp_token(json!({}));
    let resp = env
        .mcp_post_to(&format!("?access_token={token}"), None, &[], &initialize())
        .await;
    assert_eq!(resp.status(), 200);
    env.shutdown().await;
}

#[tokio::test]
async fn defect_mcp_origin_ignored() {
    let env = start_mcp(&[], &["mcp-origin-ignored"]).await;
    let token = env.mcp_token(json!({}));
    let resp = env
        .mcp_post_to(
            "",
            Some(&token),
            &[("origin", "https://evil.example.test")],
            &initialize(),
        )
        .await;
    assert_eq!(resp.status(), 200);
    env.shutdown().await;
}
