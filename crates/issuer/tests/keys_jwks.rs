//! Keys as the outside world sees them: the JWKS over real HTTP through the rotation
//! lifecycle, tokens verified by jsonwebtoken from the published JWKS alone, the OpenID
//! configuration, and keys surviving a restart with `--state-dir`.
// Tests assert with unwrap.
#![allow(clippy::unwrap_used)]

mod support;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use support::*;
use xauth_issuer::{Issuer, KeyAlg, KeyState, MintRequest};

/// Key material and ids change on every run; the shapes must not.
macro_rules! redacted_jwks_snapshot {
    ($name:expr, $value:expr) => {
        let value = $value;
        insta::assert_json_snapshot!($name, value, {
            ".keys[].kid" => "[kid]",
            ".keys[].x" => "[x]",
            ".keys[].y" => "[y]",
            ".keys[].n" => "[n]",
        });
    };
}

macro_rules! redacted_keys_snapshot {
    ($name:expr, $value:expr) => {
        let value = $value;
        insta::assert_json_snapshot!($name, value, {
            ".keys[].kid" => "[kid]",
            ".keys[].public_jwk.kid" => "[kid]",
            ".keys[].public_jwk.x" => "[x]",
            ".keys[].public_jwk.y" => "[y]",
            ".keys[].public_jwk.n" => "[n]",
        });
    };
}

#[tokio::test]
async fn default_jwks_publishes_es256_and_rs256_public_members_only() {
    let run = start_seeded_with(|b| b.jwks_max_age(42)).await;
    let resp = run.http.get(run.jwks_url()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "public, max-age=42");
    assert_eq!(resp.headers()["content-type"], "application/json");
    let jwks: Value = resp.json().await.unwrap();
    for key in jwks["keys"].as_array().unwrap() {
        for private in ["d", "p", "q", "dp", "dq", "qi", "k", "oth"] {
            assert!(
                key.get(private).is_none(),
                "private member {private} in {key}"
            );
        }
        assert_ne!(key["kty"], "oct");
        assert_eq!(key["ext"], true);
    }
    // The x/y coordinates are 32 bytes, the modulus 256 bytes, e = 65537.
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys[0]["x"].as_str().unwrap().len(), 43);
    assert_eq!(keys[0]["y"].as_str().unwrap().len(), 43);
    assert_eq!(keys[1]["n"].as_str().unwrap().len(), 342);
    assert_eq!(keys[1]["e"], "AQAB");
    redacted_jwks_snapshot!("default_jwks", &jwks);
    // The JWKS is open: no apikey needed even though GoTrue routes require one.
    assert!(run.issuer.config().require_apikey);
}

#[tokio::test]
async fn rotation_lifecycle_as_seen_through_the_jwks() {
    let run = start_seeded().await;
    let keys = run.control_json("/keys").await;
    redacted_keys_snapshot!("lifecycle_0_initial", &keys);
    let es = keys["keys"][0]["kid"].as_str().unwrap().to_string();
    let rs = keys["keys"][1]["kid"].as_str().unwrap().to_string();
    assert_eq!(run.jwks_kids().await, vec![es.clone(), rs.clone()]);

    // Rotate (no kid): the oldest standby (RS256) signs, ES256 becomes previous; both published.
    let resp = run.control_post("/keys/rotate", None).await;
    assert_eq!(resp.status(), 200);
    let rotated: Value = resp.json().await.unwrap();
    assert_eq!(rotated["kid"], rs.as_str());
    assert_eq!(rotated["state"], "current");
    redacted_keys_snapshot!("lifecycle_1_rotated", &run.control_json("/keys").await);
    assert_eq!(run.jwks_kids().await, vec![es.clone(), rs.clone()]);
    let token = run.password_grant().await;
    assert_eq!(
        jsonwebtoken::decode_header(&token).unwrap().kid.as_deref(),
        Some(rs.as_str())
    );

    // Revoking the current key is refused; revoking the previous one unpublishes it.
    let resp = run.control_post(&format!("/keys/{rs}/revoke"), None).await;
    assert_eq!(resp.status(), 409);
    let resp = run.control_post(&format!("/keys/{es}/revoke"), None).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["state"], "revoked");
    assert_eq!(run.jwks_kids().await, vec![rs.clone()]);

    // Back to standby: published again.
    let resp = run.control_post(&format!("/keys/{es}/standby"), None).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(run.jwks_kids().await, vec![es.clone(), rs.clone()]);

    // Add keys of either kind; a new current key demotes the old one to previous.
    let resp = run
        .control_post("/keys", Some(json!({"alg": "ES256"})))
        .await;
    assert_eq!(resp.status(), 201);
    let added: Value = resp.json().await.unwrap();
    assert_eq!(added["state"], "standby");
    assert_eq!(added["alg"], "ES256");
    let resp = run
        .control_post("/keys", Some(json!({"alg": "RS256", "state": "current"})))
        .await;
    assert_eq!(resp.status(), 201);
    let new_rs: Value = resp.json().await.unwrap();
    redacted_keys_snapshot!("lifecycle_2_added", &run.control_json("/keys").await);
    let kids = run.jwks_kids().await;
    assert_eq!(kids.len(), 4);
    assert_eq!(kids[3], new_rs["kid"].as_str().unwrap());

    // Rotate to a named kid.
    let target = added["kid"].as_str().unwrap();
    let resp = run
        .control_post("/keys/rotate", Some(json!({"kid": target})))
        .await;
    assert_eq!(resp.status(), 200);
    let current: Vec<String> = run
        .issuer
        .keys()
        .await
        .into_iter()
        .filter(|k| k.state == KeyState::Current)
        .map(|k| k.kid)
        .collect();
    assert_eq!(current, vec![target.to_string()]);

    // Unknown kids and bad bodies get GoTrue-shaped errors.
    let resp = run.control_post("/keys/nope/revoke", None).await;
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()["x-sb-error-code"], "not_found");
    let resp = run
        .control_post("/keys", Some(json!({"alg": "HS256"})))
        .await;
    assert_eq!(resp.status(), 400);
    let resp = run
        .control_post("/keys", Some(json!({"alg": "ES256", "state": "previous"})))
        .await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn rotate_without_standby_makes_a_fresh_es256_key() {
    let run = start_seeded().await;
    let rs = run.issuer.rotate(None).await.unwrap();
    assert_eq!(rs.alg, KeyAlg::Rs256);
    // No standby left now.
    let fresh = run.issuer.rotate(None).await.unwrap();
    assert_eq!(fresh.alg, KeyAlg::Es256);
    assert_eq!(fresh.state, KeyState::Current);
    let keys = run.issuer.keys().await;
    assert_eq!(keys.len(), 3);
    assert_eq!(
        keys.iter().map(|k| k.state).collect::<Vec<_>>(),
        vec![KeyState::Previous, KeyState::Previous, KeyState::Current]
    );
    assert!(run.jwks_kids().await.contains(&fresh.kid));
}

#[tokio::test]
async fn a_password_grant_token_and_a_minted_token_have_the_same_claims_in_the_same_order() {
    let run = start_seeded().await;
    let granted = run.password_grant().await;
    let minted = run.mint(json!({})).await;
    let minted = minted["token"].as_str().unwrap();
    let names = claim_names(&granted);
    assert_eq!(
        names,
        [
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "email",
            "phone",
            "app_metadata",
            "user_metadata",
            "role",
            "aal",
            "amr",
            "session_id",
            "is_anonymous",
        ],
        "GoTrue's access-token claims in GoTrue's order"
    );
    assert_eq!(
        claim_names(minted),
        names,
        "the mint template is the same claim set"
    );
    // Same header text too: both are signed by the current key with its default header.
    assert_eq!(segment_text(minted, 0), segment_text(&granted, 0));
}

#[tokio::test]
async fn issuer_tokens_verify_with_jsonwebtoken_from_the_published_jwks_only() {
    let run = start_seeded().await;
    let iss = run.issuer.info().issuer;

    // ES256: a real access token from the password grant, and a minted one.
    let access = run.password_grant().await;
    let jwks = run.jwks().await;
    let claims = verify_with_jwks(&access, &jwks, Algorithm::ES256, &iss).unwrap();
    assert_eq!(claims["role"], "authenticated");
    assert_eq!(claims["email"], SEED_EMAIL);
    let minted = run.mint(json!({})).await;
    let token = minted["token"].as_str().unwrap();
    assert_eq!(signature_len(token), 64, "ES256 signatures are raw r||s");
    verify_with_jwks(token, &jwks, Algorithm::ES256, &iss).unwrap();

    // RS256 after a rotation (the client refetches the JWKS).
    run.issuer.rotate(None).await.unwrap();
    let access = run.password_grant().await;
    let jwks = run.jwks().await;
    let claims = verify_with_jwks(&access, &jwks, Algorithm::RS256, &iss).unwrap();
    assert_eq!(claims["aud"], "authenticated");
    // Tokens signed before the rotation still verify (previous key stays published).
    verify_with_jwks(token, &jwks, Algorithm::ES256, &iss).unwrap();
    // The wrong algorithm for a key is refused by jsonwebtoken.
    assert!(verify_with_jwks(&access, &jwks, Algorithm::ES256, &iss).is_err());

    // HS256: the anon key verifies with the secret alone.
    let info = run.issuer.info();
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&["supabase-demo"]);
    validation.validate_aud = false;
    let anon = jsonwebtoken::decode::<Value>(
        &info.anon_key,
        &DecodingKey::from_secret(info.jwt_secret.as_bytes()),
        &validation,
    )
    .unwrap();
    assert_eq!(anon.claims["role"], "anon");
    let wrong = jsonwebtoken::decode::<Value>(
        &info.anon_key,
        &DecodingKey::from_secret(b"another-secret-another-secret-another-secret"),
        &validation,
    );
    assert!(wrong.is_err());
}

#[tokio::test]
async fn openid_configuration_points_at_the_jwks() {
    let run = start_seeded_with(|b| b.jwks_max_age(7)).await;
    let resp = run
        .http
        .get(run.url("/auth/v1/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "public, max-age=7");
    let body: Value = resp.json().await.unwrap();
    let info = run.issuer.info();
    assert_eq!(body["issuer"], info.issuer.as_str());
    assert_eq!(body["jwks_uri"], info.jwks_url.as_str());
    assert_eq!(run.issuer.counters().openid_config_fetches, 1);
}

#[tokio::test]
async fn public_url_defaults_to_the_bound_address_and_can_be_set() {
    let run = start_seeded().await;
    assert_eq!(run.base, format!("http://{}", run.issuer.addr()));
    let custom = start_seeded_with(|b| b.public_url("https://abc.supabase.co/")).await;
    let info = custom.issuer.info();
    assert_eq!(info.api_url, "https://abc.supabase.co");
    assert_eq!(info.issuer, "https://abc.supabase.co/auth/v1");
    assert_eq!(
        info.jwks_url,
        "https://abc.supabase.co/auth/v1/.well-known/jwks.json"
    );
    let minted = custom.issuer.mint(&MintRequest::default()).unwrap();
    assert_eq!(minted.claims["iss"], "https://abc.supabase.co/auth/v1");
}

#[tokio::test]
async fn bad_builder_settings_are_refused() {
    for builder in [
        Issuer::builder().jwt_secret("short"),
        Issuer::builder().access_token_ttl(0),
        Issuer::builder().public_url("ftp://x"),
    ] {
        let err = builder.port(0).spawn().await.unwrap_err();
        assert!(matches!(err, xauth_issuer::IssuerError::Config(_)), "{err}");
    }
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let run = start_seeded().await;
    let url = run.jwks_url();
    assert_eq!(run.http.get(&url).send().await.unwrap().status(), 200);
    run.issuer.shutdown().await;
    let fresh = reqwest::Client::new();
    assert!(fresh.get(&url).send().await.is_err());
}

#[tokio::test]
async fn state_dir_keeps_keys_secret_and_states_across_restarts() {
    let dir = temp_dir("restart");
    let secret = "a-custom-secret-that-is-long-enough-0123456789";
    let first = start_seeded_with(|b| b.state_dir(&dir).jwt_secret(secret)).await;
    first.issuer.rotate(None).await.unwrap();
    let added = first
        .issuer
        .add_key(KeyAlg::Es256, KeyState::Standby)
        .await
        .unwrap();
    let jwks_before = first.jwks_text().await;
    let keys_before = first.issuer.keys().await;
    let token = first.password_grant().await;
    let info_before = first.issuer.info();
    assert_eq!(info_before.jwt_secret, secret);
    first.issuer.shutdown().await;

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("keys.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Restart without repeating the secret: everything comes back.
    let second = start_seeded_with(|b| b.state_dir(&dir)).await;
    assert_eq!(second.jwks_text().await, jwks_before);
    assert_eq!(second.issuer.keys().await, keys_before);
    assert_eq!(second.issuer.info().jwt_secret, secret);
    assert_eq!(second.issuer.info().anon_key, info_before.anon_key);
    let jwks = second.jwks().await;
    // (The port differs between the two runs, so the token carries the first run's issuer.)
    verify_with_jwks(&token, &jwks, Algorithm::RS256, &info_before.issuer).unwrap();
    assert!(second.jwks_kids().await.contains(&added.kid));
    second.issuer.shutdown().await;

    // A corrupt key file is a clear start-up error, not a silent fresh key set.
    std::fs::write(dir.join("keys.json"), b"{not json").unwrap();
    let err = Issuer::builder()
        .port(0)
        .state_dir(&dir)
        .spawn()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("keys.json"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn without_state_dir_keys_are_fresh_each_start() {
    let a = start_seeded().await;
    let b = start_seeded().await;
    let a_kids = a.jwks_kids().await;
    let b_kids = b.jwks_kids().await;
    assert!(a_kids.iter().all(|k| !b_kids.contains(k)));
}
