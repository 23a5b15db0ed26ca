//! Personal access tokens end to end: real servers on loopback, the in-process issuer (users
//! and the admin API), SQLite in a temp dir, an injected PAT clock. Each seeded PAT defect
//! flips the verdict of the test that names it. The `postgres_*` tests run the key flows again
//! on PostgreSQL, each in a database of its own, when `XAUTH_TEST_DATABASE_URL` names a server
//! (see `support::pats::DATABASE_URL_VAR`); without it they print that they were skipped.

// Test code: unwrap() is the assertion (clippy does not treat integration tests as test code).
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use support::pats::*;
use support::*;
use xauth_reference::pat::PatDefect;
use xauth_reference::pat::token;

const CONTENT: &[&str] = &["content:read"];

/// Create, use, list (never the secret), revoke: 401.
async fn create_use_list_revoke(db: Option<String>) {
    let p = start_pats_on(db, &[], |_, _| {}).await;
    let user = p.user().await;
    let (id, pat) = p.create(&user, CONTENT, 30).await;
    assert!(pat.starts_with("xpat_") && pat.len() == token::TOKEN_LEN && !pat.contains('.'));

    let resp = p.env.get("/api/content", Some(&pat)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["ratelimit-policy"], "\"sub\";q=120;w=60");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["data"]["subject"], user.id.as_str());
    assert_eq!(body["data"]["role"], "authenticated");

    let (status, text) = p.list(&user.jwt).await;
    assert_eq!(status, 200);
    assert!(
        !text.contains(&pat) && !text.contains(&pat[5..45]),
        "{text}"
    );
    let list: Value = serde_json::from_str(&text).unwrap();
    let item = &list["data"][0];
    assert_eq!(item["id"], id.as_str());
    assert_eq!(item["token_prefix"], "xpat_");
    assert_eq!(item["last_chars"], &pat[pat.len() - 4..]);
    assert_eq!(item["scopes"], json!(["content:read"]));
    assert_eq!(item["status"], "active");
    assert!(item["expires_at"].as_str().unwrap().ends_with('Z'));
    assert!(item["last_used_at"].is_string());
    assert!(item.get("token").is_none() && item.get("token_digest").is_none());
    // Another user sees none of it.
    let other = p.user().await;
    let (_, text) = p.list(&other.jwt).await;
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["data"],
        json!([])
    );
    assert_eq!(p.revoke(&user.jwt, &id).await, 204);
    assert_eq!(p.status("/api/content", &pat).await, 401);
    let (_, text) = p.list(&user.jwt).await;
    let list: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(list["data"][0]["status"], "revoked");
    p.shutdown().await;
}

#[tokio::test]
async fn create_use_list_and_revoke_without_showing_the_secret() {
    create_use_list_revoke(None).await;
}

#[tokio::test]
async fn defect_list_leaks_secret() {
    let p = start_pats(&[PatDefect::ListLeaksSecret], |_, _| {}).await;
    let user = p.user().await;
    let (_, pat) = p.create(&user, CONTENT, 30).await;
    let (_, text) = p.list(&user.jwt).await;
    assert!(text.contains(&pat));
    p.shutdown().await;
}

/// Revocation applies at once, on this server and on a second one sharing the database.
async fn revocation_seen_by_replica(
    db: Option<String>,
    replica_defects: &[PatDefect],
) -> (u16, u16) {
    let p = start_pats_on(db, &[], |_, _| {}).await;
    let b = p.replica(replica_defects).await;
    let user = p.user().await;
    let (id, pat) = p.create(&user, CONTENT, 30).await;
    let on_b = |pat: String| {
        let http = p.env.http.clone();
        let url = b.url("/api/content");
        async move {
            http.get(url)
                .bearer_auth(pat)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(on_b(pat.clone()).await, 200, "B sees A's new token");
    assert_eq!(p.revoke(&user.jwt, &id).await, 204);
    let a = p.status("/api/content", &pat).await;
    let bs = on_b(pat.clone()).await;
    assert_eq!(p.revoke(&user.jwt, &id).await, 204, "idempotent");
    b.api.shutdown().await;
    p.shutdown().await;
    (a, bs)
}

#[tokio::test]
async fn revoke_is_immediate_on_every_replica() {
    assert_eq!(revocation_seen_by_replica(None, &[]).await, (401, 401));
}

#[tokio::test]
async fn defect_revocation_cached() {
    assert_eq!(
        revocation_seen_by_replica(None, &[PatDefect::RevocationCached]).await,
        (401, 200)
    );
}

async fn rotation_and_family_revocation(db: Option<String>) {
    let p = start_pats_on(db, &[], |_, _| {}).await;
    let user = p.user().await;
    let (old_id, old) = p.create(&user, CONTENT, 30).await;
    let resp = p.rotate(&user.jwt, &old_id).await;
    assert_eq!(resp.status(), 201);
    let v: Value = resp.json().await.unwrap();
    let new = v["data"]["token"].as_str().unwrap().to_owned();
    let new_id = v["data"]["id"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(v["data"]["scopes"], json!(["content:read"]));
    assert_eq!(p.status("/api/content", &new).await, 200);
    assert_eq!(p.status("/api/content", &old).await, 401);
    // Rotating the revoked token again: a sign it leaked. The whole family goes.
    let resp = p.rotate(&user.jwt, &old_id).await;
    let (status, code, _) = error_code(resp).await;
    assert_eq!((status, code.as_str()), (409, "CONFLICT"));
    assert_eq!(p.status("/api/content", &new).await, 401);
    let (_, text) = p.list(&user.jwt).await;
    let list: Value = serde_json::from_str(&text).unwrap();
    for item in list["data"].as_array().unwrap() {
        assert_eq!(item["status"], "revoked", "{item}");
    }
    assert!(text.contains(&new_id));
    // Another user cannot rotate or revoke it.
    let other = p.user().await;
    assert_eq!(p.rotate(&other.jwt, &new_id).await.status(), 404);
    assert_eq!(p.revoke(&other.jwt, &new_id).await, 404);
    p.shutdown().await;
}

#[tokio::test]
async fn rotation_and_family_revocation_on_reuse() {
    rotation_and_family_revocation(None).await;
}

async fn expiry_boundary(db: Option<String>, defects: &[PatDefect]) -> (u16, u16, Option<String>) {
    let p = start_pats_on(db, defects, |_, _| {}).await;
    let user = p.user().await;
    let (_, pat) = p.create(&user, CONTENT, 1).await;
    p.pat_clock.advance(86_399);
    let before = p.status("/api/content", &pat).await;
    p.pat_clock.advance(1);
    let resp = p.env.get("/api/content", Some(&pat)).await;
    let status = resp.status().as_u16();
    let detail = if status == 401 {
        assert_eq!(
            resp.headers()["www-authenticate"],
            "Bearer error=\"invalid_token\", error_description=\"The personal access token expired\""
        );
        Some(error_code(resp).await.1)
    } else {
        None
    };
    p.shutdown().await;
    (before, status, detail)
}

#[tokio::test]
async fn expiry_is_exact_and_answered_pat_expired() {
    assert_eq!(
        expiry_boundary(None, &[]).await,
        (200, 401, Some("PAT_EXPIRED".to_owned()))
    );
}

#[tokio::test]
async fn defect_ignore_expiry() {
    assert_eq!(
        expiry_boundary(None, &[PatDefect::IgnoreExpiry]).await,
        (200, 200, None)
    );
}

#[tokio::test]
async fn bad_input_is_400_never_5xx() {
    let p = start_pats(&[], |_, pat| pat.max_ttl_days = 365).await;
    let user = p.user().await;
    let ok = json!({"name": "n", "scopes": ["content:read"], "expires_in_days": 365});
    assert_eq!(p.create_raw(&user.jwt, &ok).await.status(), 201);
    for seconds in [1, 365 * 86_400] {
        let ok = json!({"name": "n", "scopes": ["content:read"], "expires_in_seconds": seconds});
        assert_eq!(
            p.create_raw(&user.jwt, &ok).await.status(),
            201,
            "{seconds}"
        );
    }
    let long_name = "x".repeat(65);
    let many: Vec<&str> = vec!["content:read"; 9];
    for body in [
        json!({"name": "n", "scopes": ["content:read"], "expires_in_days": 366}),
        json!({"name": "n", "scopes": ["content:read"], "expires_in_days": 0}),
        json!({"name": "n", "scopes": ["content:read"], "expires_in_days": -1}),
        json!({"name": "n", "scopes": ["content:read"], "expires_in_days": 1.5}),
        json!({"name": "n", "scopes": ["content:read"], "expires_in_days": 1e30}),
        json!({"name": "n", "scopes": ["content:read"]}),
        json!({"name": "n", "scopes": ["content:read"], "expires_in_seconds": 0}),
        json!({"name": "n", "scopes": ["content:read"], "expires_in_seconds": 365 * 86_400 + 1}),
        json!({"name": "n", "scopes": ["content:read"], "expires_in_seconds": u64::MAX}),
        json!({"name": "n", "scopes": ["content:read"], "expires_in_seconds": 60, "expires_in_days": 1}),
        json!({"name": "", "scopes": ["content:read"], "expires_in_days": 1}),
        json!({"name": long_name, "scopes": ["content:read"], "expires_in_days": 1}),
        json!({"name": "a\u{0007}b", "scopes": ["content:read"], "expires_in_days": 1}),
        json!({"name": "n", "scopes": [], "expires_in_days": 1}),
        json!({"name": "n", "scopes": ["repo"], "expires_in_days": 1}),
        json!({"name": "n", "scopes": many, "expires_in_days": 1}),
        json!({"name": "n", "scopes": "content:read", "expires_in_days": 1}),
        json!({"name": "n", "scopes": ["content:read"], "expires_in_days": 1, "admin": true}),
        json!(["not", "an", "object"]),
        json!(null),
    ] {
        let resp = p.create_raw(&user.jwt, &body).await;
        let (status, code, _) = error_code(resp).await;
        assert_eq!((status, code.as_str()), (400, "BAD_REQUEST"), "{body}");
    }
    let post = |body: String| {
        p.env
            .http
            .post(p.tokens_url(""))
            .bearer_auth(&user.jwt)
            .body(body)
            .send()
    };
    let (status, code, _) = error_code(post("{not json".into()).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (400, "BAD_REQUEST"));
    let (status, code, _) = error_code(post("x".repeat(20_000)).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (413, "PAYLOAD_TOO_LARGE"));
    // Ids: not a UUID → 400; somebody else's or unknown → 404.
    for id in ["nope", "..%2F..%2Fx", &"a".repeat(300)] {
        let (status, code, _) = error_code(
            p.env
                .http
                .delete(p.tokens_url(&format!("/{id}")))
                .bearer_auth(&user.jwt)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((status, code.as_str()), (400, "BAD_REQUEST"), "{id}");
    }
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_eq!(p.revoke(&user.jwt, &unknown).await, 404);
    assert_eq!(p.rotate(&user.jwt, &unknown).await.status(), 404);
    // No session at all.
    let resp = p.env.http.get(p.tokens_url("")).send().await.unwrap();
    assert_eq!(error_code(resp).await.0, 401);
    p.shutdown().await;
}

async fn admin_with_content_scope(defects: &[PatDefect]) -> u16 {
    let p = start_pats(defects, |_, _| {}).await;
    let admin = p.user_with_role(Some("service_role")).await;
    let (_, pat) = p.create(&admin, CONTENT, 30).await;
    assert_eq!(p.status("/api/content", &pat).await, 200);
    let status = p.status("/api/admin/stats", &pat).await;
    // With the scope, the same owner gets in.
    let (_, full) = p.create(&admin, &["content:read", "admin:read"], 30).await;
    assert_eq!(p.status("/api/admin/stats", &full).await, 200);
    p.shutdown().await;
    status
}

#[tokio::test]
async fn out_of_scope_is_403() {
    assert_eq!(admin_with_content_scope(&[]).await, 403);
}

#[tokio::test]
async fn defect_scope_not_enforced() {
    assert_eq!(
        admin_with_content_scope(&[PatDefect::ScopeNotEnforced]).await,
        200
    );
}

/// A plain user asks for `admin:read`: refused at creation (403) and, were it granted, at use.
async fn user_asks_for_admin(defects: &[PatDefect]) -> (u16, Option<u16>) {
    let p = start_pats(defects, |_, _| {}).await;
    let user = p.user().await;
    let resp = p
        .create_raw(
            &user.jwt,
            &json!({"name": "n", "scopes": ["admin:read"], "expires_in_days": 1}),
        )
        .await;
    let created = resp.status().as_u16();
    let used = if created == 201 {
        let v: Value = resp.json().await.unwrap();
        let pat = v["data"]["token"].as_str().unwrap().to_owned();
        Some(p.status("/api/admin/stats", &pat).await)
    } else {
        assert_eq!(error_code(resp).await.1, "FORBIDDEN");
        None
    };
    p.shutdown().await;
    (created, used)
}

#[tokio::test]
async fn a_pat_never_outranks_its_owner() {
    assert_eq!(user_asks_for_admin(&[]).await, (403, None));
}

#[tokio::test]
async fn defect_outranks_owner() {
    assert_eq!(
        user_asks_for_admin(&[PatDefect::OutranksOwner]).await,
        (201, Some(200))
    );
}

async fn owner_deleted(defects: &[PatDefect]) -> (u16, u16) {
    let p = start_pats(defects, |_, pat| {
        pat.owner_cache = std::time::Duration::from_secs(30);
    })
    .await;
    let user = p.user().await;
    let (_, pat) = p.create(&user, CONTENT, 30).await;
    assert_eq!(p.status("/api/content", &pat).await, 200);
    p.delete_user(&user.id).await;
    // Within the declared owner cache the deletion may not be seen yet…
    p.pat_clock.advance(29);
    let within = p.status("/api/content", &pat).await;
    // …after it, it must be.
    p.pat_clock.advance(1);
    let after = p.status("/api/content", &pat).await;
    p.shutdown().await;
    (within, after)
}

#[tokio::test]
async fn owner_deletion_kills_the_pat_once_the_owner_cache_expires() {
    assert_eq!(owner_deleted(&[]).await, (200, 401));
}

#[tokio::test]
async fn defect_owner_deletion_ignored() {
    assert_eq!(
        owner_deleted(&[PatDefect::OwnerDeletionIgnored]).await,
        (200, 200)
    );
}

/// The four management calls with a PAT as the bearer.
async fn pat_manages_pats(defects: &[PatDefect]) -> Vec<u16> {
    let p = start_pats(defects, |_, _| {}).await;
    let user = p.user().await;
    let (id, pat) = p.create(&user, CONTENT, 30).await;
    let resp = p
        .create_raw(
            &pat,
            &json!({"name": "n", "scopes": ["content:read"], "expires_in_days": 1}),
        )
        .await;
    let create = resp.status().as_u16();
    let minted = if create == 201 {
        let v: Value = resp.json().await.unwrap();
        v["data"]["id"].as_str().unwrap().to_owned()
    } else {
        uuid::Uuid::new_v4().to_string()
    };
    let list = p.list(&pat).await.0;
    let revoke = p.revoke(&pat, &minted).await;
    let rotate = p.rotate(&pat, &id).await.status().as_u16();
    p.shutdown().await;
    vec![create, list, revoke, rotate]
}

#[tokio::test]
async fn a_pat_cannot_manage_pats() {
    assert_eq!(pat_manages_pats(&[]).await, vec![403, 403, 403, 403]);
}

#[tokio::test]
async fn defect_mints_pats() {
    assert_eq!(
        pat_manages_pats(&[PatDefect::MintsPats]).await,
        vec![201, 200, 204, 201]
    );
}

/// Malformed PATs: each one's status (a 401 must have the one body) and the database
/// statements it cost; then the statements of an unknown, well-formed token.
async fn malformed(db: Option<String>, defects: &[PatDefect]) -> (Vec<(u16, u64)>, u64) {
    let p = start_pats_on(db, defects, |_, _| {}).await;
    let user = p.user().await;
    let (_, pat) = p.create(&user, CONTENT, 30).await;
    let reference = error_code(p.env.get("/api/content", Some("garbage")).await)
        .await
        .2;
    let last = pat.as_bytes()[pat.len() - 1];
    let flipped = format!(
        "{}{}",
        &pat[..pat.len() - 1],
        if last == b'A' { 'B' } else { 'A' }
    );
    let mut secret_changed = pat.clone().into_bytes();
    secret_changed[10] = if secret_changed[10] == b'a' {
        b'b'
    } else {
        b'a'
    };
    let secret_changed = String::from_utf8(secret_changed).unwrap();
    let mut offline = Vec::new();
    for bad in [
        flipped.clone(),
        secret_changed,
        pat[..pat.len() - 1].to_owned(),
        format!("{pat}0"),
        format!("ghp_{}", &pat[5..]),
        format!("XPAT_{}", &pat[5..]),
        "xpat_".to_owned(),
        format!("xpat_{}", "é".repeat(20)),
    ] {
        let before = p.pats.queries();
        let resp = p.env.get("/api/content", Some(&bad)).await;
        let status = resp.status().as_u16();
        if status == 401 {
            let (_, code, body) = error_code(resp).await;
            assert_eq!(code, "UNAUTHENTICATED", "{bad}");
            assert_eq!(body, reference);
        }
        offline.push((status, p.pats.queries() - before));
    }
    // A well-formed token with a valid checksum that does not exist: one lookup, 401.
    let mut unknown = token::generate();
    while unknown == pat {
        unknown = token::generate();
    }
    let before = p.pats.queries();
    let (status, _, body) = error_code(p.env.get("/api/content", Some(&unknown)).await).await;
    assert_eq!((status, body), (401, reference));
    let lookups = p.pats.queries() - before;
    p.shutdown().await;
    (offline, lookups)
}

#[tokio::test]
async fn malformed_pats_are_401_without_touching_the_database() {
    let (offline, lookups) = malformed(None, &[]).await;
    assert!(offline.iter().all(|r| *r == (401, 0)), "{offline:?}");
    assert_eq!(lookups, 1);
}

#[tokio::test]
async fn defect_no_checksum() {
    let (offline, _) = malformed(None, &[PatDefect::NoChecksum]).await;
    // The two bad-checksum tokens now reach the database, and the live token with a mistyped
    // checksum is even accepted (its first use is also recorded: a second statement).
    assert_eq!(offline[0].0, 200, "{offline:?}");
    assert!(offline[0].1 >= 1, "{offline:?}");
    assert_eq!(offline[1], (401, 1));
}

async fn in_query_string(defects: &[PatDefect]) -> u16 {
    let p = start_pats(defects, |_, _| {}).await;
    let user = p.user().await;
    let (_, pat) = p.create(&user, CONTENT, 30).await;
    let resp = p
        .env
        .http
        .get(p.env.url(&format!("/api/content?access_token={pat}")))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    if status == 401 {
        assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    }
    p.shutdown().await;
    status
}

#[tokio::test]
async fn a_pat_in_the_query_string_is_never_accepted() {
    assert_eq!(in_query_string(&[]).await, 401);
}

#[tokio::test]
async fn defect_query_string() {
    assert_eq!(in_query_string(&[PatDefect::QueryString]).await, 200);
}

/// Two PATs and the JWT of one owner share one budget of 4.
async fn shared_budget(defects: &[PatDefect]) -> Vec<u16> {
    let p = start_pats(defects, |config, _| {
        config.subject_rate.limit = std::num::NonZeroU32::new(4).unwrap();
    })
    .await;
    let user = p.user().await;
    let (_, a) = p.create(&user, CONTENT, 30).await;
    let (_, b) = p.create(&user, CONTENT, 30).await;
    p.refill();
    let mut out = Vec::new();
    for t in [&a, &b, &a, &b, &b, &user.jwt] {
        out.push(p.status("/api/content", t).await);
    }
    p.shutdown().await;
    out
}

#[tokio::test]
async fn the_rate_limit_is_the_owners_across_pats_and_jwts() {
    assert_eq!(shared_budget(&[]).await, vec![200, 200, 200, 200, 429, 429]);
}

#[tokio::test]
async fn defect_per_token_rate_limit() {
    let out = shared_budget(&[PatDefect::PerTokenRateLimit]).await;
    assert_eq!(&out[..5], &[200, 200, 200, 200, 200]);
}

async fn last_used_at(db: Option<String>) {
    let p = start_pats_on(db, &[], |_, _| {}).await;
    let user = p.user().await;
    let (_, pat) = p.create(&user, CONTENT, 30).await;
    let last_used = || async {
        let (_, text) = p.list(&user.jwt).await;
        let v: Value = serde_json::from_str(&text).unwrap();
        v["data"][0]["last_used_at"].clone()
    };
    assert_eq!(last_used().await, Value::Null);
    let t0 = p.pat_clock.now();
    assert_eq!(p.status("/api/content", &pat).await, 200);
    let first = last_used().await;
    assert_eq!(first, rfc3339(t0));
    // Within the interval: one read, no write.
    p.pat_clock.advance(10);
    let before = p.pats.queries();
    assert_eq!(p.status("/api/content", &pat).await, 200);
    assert_eq!(p.pats.queries() - before, 1);
    assert_eq!(last_used().await, first);
    // After it: recorded again.
    p.pat_clock.advance(51);
    assert_eq!(p.status("/api/content", &pat).await, 200);
    assert_eq!(last_used().await, rfc3339(t0 + 61));
    p.shutdown().await;
}

#[tokio::test]
async fn last_used_at_advances_with_bounded_writes() {
    last_used_at(None).await;
}

fn rfc3339(t: i64) -> Value {
    Value::String(
        chrono::DateTime::from_timestamp(t, 0)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

async fn pat_prefixed_jwt(defects: &[PatDefect]) -> u16 {
    let p = start_pats(defects, |_, _| {}).await;
    let user = p.user().await;
    let status = p
        .status("/api/content", &format!("xpat_{}", user.jwt))
        .await;
    p.shutdown().await;
    status
}

#[tokio::test]
async fn api_keys_and_pat_prefixed_jwts_are_not_pats() {
    let p = start_pats(&[], |_, _| {}).await;
    let info = p.env.issuer.info();
    for key in [&info.anon_key, &info.service_role_key] {
        let (status, code, _) = error_code(p.env.get("/api/content", Some(key)).await).await;
        assert_eq!((status, code.as_str()), (401, "UNAUTHENTICATED"));
    }
    // A user's JWT still works next to PATs.
    let user = p.user().await;
    assert_eq!(p.status("/api/content", &user.jwt).await, 200);
    p.shutdown().await;
    assert_eq!(pat_prefixed_jwt(&[]).await, 401);
}

#[tokio::test]
async fn defect_jwt_confusion() {
    assert_eq!(pat_prefixed_jwt(&[PatDefect::JwtConfusion]).await, 200);
}

#[tokio::test]
async fn the_pepper_keys_the_stored_digest() {
    let p = start_pats(&[], |_, pat| {
        pat.pepper = Some(b"0123456789abcdef0123456789abcdef".to_vec());
    })
    .await;
    let user = p.user().await;
    let (_, pat) = p.create(&user, CONTENT, 30).await;
    assert_eq!(p.status("/api/content", &pat).await, 200);
    // A replica without the pepper computes a different digest: the token is unknown there.
    let mut config = p.pat_config.clone();
    config.pepper = None;
    let other = xauth_reference::PatService::open(&p.config.supabase_url, config)
        .await
        .unwrap();
    let api = xauth_reference::spawn_with(p.config.clone(), Some(other))
        .await
        .unwrap();
    let resp = p
        .env
        .http
        .get(format!("{}/api/content", api.url()))
        .bearer_auth(&pat)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    api.shutdown().await;
    p.shutdown().await;
}

#[tokio::test]
async fn without_pat_config_nothing_changes() {
    let env = start(|_| {}).await;
    let resp = env
        .get("/api/account/tokens", Some(&env.user_token()))
        .await;
    assert_eq!(error_code(resp).await.0, 404);
    let (status, code, _) =
        error_code(env.get("/api/content", Some(&token::generate())).await).await;
    assert_eq!((status, code.as_str()), (401, "UNAUTHENTICATED"));
    env.shutdown().await;
}

#[tokio::test]
async fn tokens_survive_a_restart() {
    let p = start_pats(&[], |_, _| {}).await;
    let user = p.user().await;
    let (_, pat) = p.create(&user, CONTENT, 30).await;
    let PatEnv {
        env,
        pat_config,
        config,
        dir,
        ..
    } = p;
    env.api.shutdown().await;
    let pats = xauth_reference::PatService::open(&config.supabase_url, pat_config)
        .await
        .unwrap();
    let api = xauth_reference::spawn_with(config, Some(pats))
        .await
        .unwrap();
    let resp = env
        .http
        .get(format!("{}/api/content", api.url()))
        .bearer_auth(&pat)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    api.shutdown().await;
    env.issuer.shutdown().await;
    drop(dir);
}

#[tokio::test]
async fn processes_racing_to_migrate_one_fresh_file_both_start() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("race.db").to_str().unwrap()
    );
    let config = xauth_reference::PatConfig::new(url, "unused-key");
    let open = || xauth_reference::PatService::open("http://127.0.0.1:9", config.clone());
    let (a, b, c) = tokio::join!(open(), open(), open());
    a.unwrap();
    b.unwrap();
    c.unwrap();
}

#[tokio::test]
async fn an_unreachable_auth_server_fails_closed_with_502() {
    let p = start_pats(&[], |_, _| {}).await;
    let user = p.user().await;
    let (_, pat) = p.create(&user, CONTENT, 30).await;
    assert_eq!(p.status("/api/content", &pat).await, 200);
    p.pat_clock.advance(30); // the owner cache (30 s) has expired
    let PatEnv { env, dir, .. } = p;
    env.issuer.shutdown().await;
    let resp = env
        .http
        .get(format!("{}/api/content", env.api.url()))
        .bearer_auth(&pat)
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_code(resp).await;
    assert_eq!((status, code.as_str()), (502, "UPSTREAM_UNAVAILABLE"));
    env.api.shutdown().await;
    drop(dir);
}

// The key flows on PostgreSQL: the same helpers as above, each test on a database of its own.

#[tokio::test]
async fn postgres_create_use_list_and_revoke() {
    let Some(db) = postgres("postgres_create_use_list_and_revoke").await else {
        return;
    };
    create_use_list_revoke(Some(db.url.clone())).await;
}

#[tokio::test]
async fn postgres_revoke_is_immediate_on_every_replica() {
    let Some(db) = postgres("postgres_revoke_is_immediate_on_every_replica").await else {
        return;
    };
    assert_eq!(
        revocation_seen_by_replica(Some(db.url.clone()), &[]).await,
        (401, 401)
    );
}

/// The replica test has teeth on PostgreSQL too: a replica that caches validity is caught.
#[tokio::test]
async fn postgres_defect_revocation_cached() {
    let Some(db) = postgres("postgres_defect_revocation_cached").await else {
        return;
    };
    assert_eq!(
        revocation_seen_by_replica(Some(db.url.clone()), &[PatDefect::RevocationCached]).await,
        (401, 200)
    );
}

#[tokio::test]
async fn postgres_rotation_and_family_revocation_on_reuse() {
    let Some(db) = postgres("postgres_rotation_and_family_revocation_on_reuse").await else {
        return;
    };
    rotation_and_family_revocation(Some(db.url.clone())).await;
}

#[tokio::test]
async fn postgres_expiry_is_exact_and_answered_pat_expired() {
    let Some(db) = postgres("postgres_expiry_is_exact_and_answered_pat_expired").await else {
        return;
    };
    assert_eq!(
        expiry_boundary(Some(db.url.clone()), &[]).await,
        (200, 401, Some("PAT_EXPIRED".to_owned()))
    );
}

#[tokio::test]
async fn postgres_malformed_pats_never_reach_the_database() {
    let Some(db) = postgres("postgres_malformed_pats_never_reach_the_database").await else {
        return;
    };
    let (offline, lookups) = malformed(Some(db.url.clone()), &[]).await;
    assert!(offline.iter().all(|r| *r == (401, 0)), "{offline:?}");
    assert_eq!(lookups, 1);
}

#[tokio::test]
async fn postgres_last_used_at_advances_with_bounded_writes() {
    let Some(db) = postgres("postgres_last_used_at_advances_with_bounded_writes").await else {
        return;
    };
    last_used_at(Some(db.url.clone())).await;
}
