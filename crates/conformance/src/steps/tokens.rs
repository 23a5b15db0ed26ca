//! `Given` steps that obtain a token: minted by the issuer with its real keys (valid, expired,
//! or with exact claims/header text), or forged with attacker keys.

use cucumber::gherkin::Step;
use cucumber::given;
use serde_json::{Map, Value};

use super::values::eval;
use crate::forge::{b64, jws::Jws, sign};
use crate::scenario::params::Family;
use crate::scenario::world::{XauthWorld, object_text};

/// Exp of "an expired token": ten minutes beyond the declared leeway, so it is expired for any
/// implementation whose real leeway is within the 300 s cap, declared or not. The boundary
/// scenarios place times at the declared leeway explicitly.
fn expired_exp(w: &XauthWorld) -> i64 {
    crate::scenario::world::now_unix() - w.ctx.profile.leeway_seconds as i64 - 600
}

fn permission_claims(w: &XauthWorld, which: &str) -> Map<String, Value> {
    let p = &w.ctx.profile.routes.permission;
    if which == "grant" {
        p.grant_claims.clone()
    } else {
        p.lack_claims.clone()
    }
}

#[given(expr = "a valid {family} access token for a fresh user")]
async fn valid_token(w: &mut XauthWorld, family: Family) {
    w.mint_user_token(
        family,
        None,
        Map::new(),
        format!("valid {family} token minted by the issuer"),
    )
    .await;
}

#[given(
    regex = r"^a valid (ES256|RS256|HS256) access token for a fresh user with the claims that (grant|lack) permission$"
)]
async fn valid_token_permission(w: &mut XauthWorld, family: Family, which: String) {
    let claims = permission_claims(w, &which);
    let how = format!(
        "valid {family} token minted with the claims that {which} permission {}",
        Value::Object(claims.clone())
    );
    w.mint_user_token(family, None, claims, how).await;
}

#[given(expr = "an expired {family} access token for a fresh user")]
async fn expired_token(w: &mut XauthWorld, family: Family) {
    let mut claims = Map::new();
    claims.insert("exp".into(), Value::from(expired_exp(w)));
    w.mint_user_token(
        family,
        None,
        claims,
        format!("{family} token minted with exp = now - leeway - 600 s"),
    )
    .await;
}

#[given(
    regex = r"^an expired (ES256|RS256|HS256) access token for a fresh user with the claims that (grant|lack) permission$"
)]
async fn expired_token_permission(w: &mut XauthWorld, family: Family, which: String) {
    let mut claims = permission_claims(w, &which);
    claims.insert("exp".into(), Value::from(expired_exp(w)));
    let how = format!(
        "{family} token minted with exp = now - leeway - 600 s and the claims that {which} permission"
    );
    w.mint_user_token(family, None, claims, how).await;
}

#[given(
    regex = r"^an? (ES256|RS256|HS256) access token for a fresh user signed as (\w+) by the issuer(, expired)?$"
)]
async fn token_signed_as(w: &mut XauthWorld, family: Family, alg: String, expired: String) {
    let mut claims = Map::new();
    if !expired.is_empty() {
        claims.insert("exp".into(), Value::from(expired_exp(w)));
    }
    let how = format!("token minted by the issuer with its {family} key, signed as {alg}{expired}");
    w.mint_user_token(family, Some(&alg), claims, how).await;
}

/// Mints a valid token, then re-mints it with `overrides` applied to the claims text.
async fn with_claim_overrides(w: &mut XauthWorld, family: Family, rows: &[(String, String)]) {
    w.mint_user_token(
        family,
        None,
        Map::new(),
        format!("valid {family} token minted by the issuer"),
    )
    .await;
    let origin = w.origin();
    let mut overrides = Vec::new();
    for (name, expr) in rows {
        let current = origin.claims.get(name).cloned();
        overrides.push((name.clone(), eval(w, expr, current.as_ref()).await));
    }
    let header = object_text(&origin.header, &[]);
    let claims = object_text(&origin.claims, &overrides);
    let how = format!(
        "re-minted by the issuer with claims {}",
        rows.iter()
            .map(|(n, e)| format!("{n} = {e}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    w.remint_raw(header, claims, how).await;
}

async fn with_header_overrides(w: &mut XauthWorld, family: Family, rows: &[(String, String)]) {
    w.mint_user_token(
        family,
        None,
        Map::new(),
        format!("valid {family} token minted by the issuer"),
    )
    .await;
    let origin = w.origin();
    let mut overrides = Vec::new();
    for (name, expr) in rows {
        let current = origin.header.get(name).cloned();
        overrides.push((name.clone(), eval(w, expr, current.as_ref()).await));
    }
    let header = object_text(&origin.header, &overrides);
    let claims = object_text(&origin.claims, &[]);
    let how = format!(
        "re-minted by the issuer with header members {}",
        rows.iter()
            .map(|(n, e)| format!("{n} = {e}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    w.remint_raw(header, claims, how).await;
}

fn table_rows(w: &XauthWorld, step: &Step) -> Vec<(String, String)> {
    let Some(table) = &step.table else {
        w.harness_error("this step needs a table of | name | value | rows")
    };
    table
        .rows
        .iter()
        .map(|r| match r.as_slice() {
            [n, v] => (n.clone(), v.clone()),
            _ => w.harness_error("table rows must have exactly two cells: | name | value |"),
        })
        .collect()
}

#[given(
    regex = r#"^an? (ES256|RS256|HS256) access token for a fresh user with "([^"]+)" set to (.+)$"#
)]
async fn token_with_claim(w: &mut XauthWorld, family: Family, name: String, expr: String) {
    with_claim_overrides(w, family, &[(name, expr)]).await;
}

#[given(regex = r"^an? (ES256|RS256|HS256) access token for a fresh user with claims:$")]
async fn token_with_claims(w: &mut XauthWorld, family: Family, step: &Step) {
    let rows = table_rows(w, step);
    with_claim_overrides(w, family, &rows).await;
}

#[given(
    regex = r#"^an? (ES256|RS256|HS256) access token for a fresh user with header member "([^"]+)" set to (.+)$"#
)]
async fn token_with_header_member(w: &mut XauthWorld, family: Family, name: String, expr: String) {
    with_header_overrides(w, family, &[(name, expr)]).await;
}

#[given(regex = r"^an? (ES256|RS256|HS256) access token for a fresh user with header members:$")]
async fn token_with_header_members(w: &mut XauthWorld, family: Family, step: &Step) {
    let rows = table_rows(w, step);
    with_header_overrides(w, family, &rows).await;
}

/// Parses a JSON string literal written in a feature file.
fn json_string(w: &XauthWorld, literal: &str) -> String {
    serde_json::from_str::<String>(literal)
        .unwrap_or_else(|e| w.harness_error(format!("{literal} is not a JSON string literal: {e}")))
}

#[given(
    regex = r#"^an? (ES256|RS256|HS256) access token for a fresh user with the raw (header|payload) (".*")$"#
)]
async fn token_with_raw(w: &mut XauthWorld, family: Family, part: String, literal: String) {
    let text = json_string(w, &literal);
    w.mint_user_token(
        family,
        None,
        Map::new(),
        format!("valid {family} token minted by the issuer"),
    )
    .await;
    let origin = w.origin();
    let (header, claims) = if part == "header" {
        (text.clone(), object_text(&origin.claims, &[]))
    } else {
        (object_text(&origin.header, &[]), text.clone())
    };
    w.remint_raw(
        header,
        claims,
        format!("re-minted by the issuer with the raw {part} {literal}"),
    )
    .await;
}

/// UTF-16LE encoding of ASCII/BMP text, as a string of code units (NUL bytes included).
fn utf16le(text: &str) -> String {
    text.encode_utf16()
        .flat_map(|u| [char::from((u & 0xff) as u8), char::from((u >> 8) as u8)])
        .collect()
}

#[given(
    regex = r#"^an? (ES256|RS256|HS256) access token for a fresh user whose (header|payload) JSON is (followed by ".*"|preceded by a byte order mark|encoded as UTF-16)$"#
)]
async fn token_with_wrapped_json(w: &mut XauthWorld, family: Family, part: String, change: String) {
    w.mint_user_token(
        family,
        None,
        Map::new(),
        format!("valid {family} token minted by the issuer"),
    )
    .await;
    let origin = w.origin();
    let mut header = object_text(&origin.header, &[]);
    let mut claims = object_text(&origin.claims, &[]);
    let target = if part == "header" {
        &mut header
    } else {
        &mut claims
    };
    if let Some(lit) = change.strip_prefix("followed by ") {
        let suffix = json_string(w, lit);
        target.push_str(&suffix);
    } else if change.starts_with("preceded") {
        target.insert(0, '\u{feff}');
    } else {
        *target = utf16le(target);
    }
    w.remint_raw(
        header,
        claims,
        format!("re-minted by the issuer with its {part} JSON {change}"),
    )
    .await;
}

/// Header + payload of a fresh valid ES256 token, signed by the attacker with `alg` under `kid`,
/// with extra header members.
async fn attacker_token(
    w: &mut XauthWorld,
    alg: &str,
    kid: Option<&str>,
    extra_header: Vec<(String, Value)>,
    how: String,
) {
    w.mint_user_token(
        Family::Es256,
        None,
        Map::new(),
        "valid ES256 token minted by the issuer (for its payload)".into(),
    )
    .await;
    let jws = Jws::parse(&w.current().compact.clone()).unwrap_or_else(|e| w.harness_error(e));
    let mut header = Map::new();
    header.insert("alg".into(), Value::from(alg));
    if let Some(kid) = kid {
        header.insert("kid".into(), Value::from(kid));
    }
    header.insert("typ".into(), Value::from("JWT"));
    for (k, v) in extra_header {
        header.insert(k, v);
    }
    let forged = Jws {
        header: b64::encode(Value::Object(header).to_string()),
        payload: jws.payload,
        signature: String::new(),
    };
    let sig = sign::attacker_sign(alg, forged.signing_input().as_bytes())
        .unwrap_or_else(|e| w.harness_error(e));
    w.set_token_text(forged.with_signature_bytes(&sig).compact(), how, false);
}

#[given(
    regex = r"^a token signed by an attacker (ES256|RS256|PS256|ES384|ES512|EdDSA) key with the kid of the issuer's (ES256|RS256) key$"
)]
async fn attacker_signed(w: &mut XauthWorld, alg: String, key: String) {
    let kid = w.issuer_key(&key).await.kid;
    let how = format!("signed by an attacker {alg} key with kid {kid} (the issuer's {key} key)");
    attacker_token(w, &alg, Some(&kid), vec![], how).await;
}

/// The kid an attacker token carries: `the kid of the issuer's ES256|RS256 key`, `no kid`, or
/// `a kid the issuer never published`.
async fn attacker_kid(w: &mut XauthWorld, which: &str) -> Option<String> {
    match which {
        "no kid" => None,
        "a kid the issuer never published" => Some(w.attacker_kid.clone()),
        _ => match which.strip_prefix("the kid of the issuer's ") {
            Some("ES256 key") => Some(w.issuer_key("ES256").await.kid),
            Some("RS256 key") => Some(w.issuer_key("RS256").await.kid),
            _ => w.harness_error(format!("unknown kid choice {which:?}")),
        },
    }
}

#[given(
    regex = r#"^a token signed by an attacker (ES256|RS256) key that embeds its public key as "jwk" under (the kid of the issuer's ES256 key|the kid of the issuer's RS256 key|no kid|a kid the issuer never published)$"#
)]
async fn attacker_embedded_jwk(w: &mut XauthWorld, alg: String, which: String) {
    let kid = attacker_kid(w, &which).await;
    let mut jwk = sign::attacker_public_jwk(&alg, kid.as_deref().unwrap_or_default())
        .unwrap_or_else(|e| w.harness_error(e));
    if kid.is_none()
        && let Some(members) = jwk.as_object_mut()
    {
        members.remove("kid");
    }
    let how = format!(
        "signed by an attacker {alg} key, its public key embedded as \"jwk\", {}",
        kid.as_deref()
            .map_or_else(|| "no kid".to_owned(), |k| format!("kid {k}"))
    );
    attacker_token(w, &alg, kid.as_deref(), vec![("jwk".into(), jwk)], how).await;
}

#[given(
    regex = r#"^a token signed by an attacker ES256 key that embeds its self-signed certificate as "x5c" under (the kid of the issuer's ES256 key|the kid of the issuer's RS256 key|no kid|a kid the issuer never published)$"#
)]
async fn attacker_x5c(w: &mut XauthWorld, which: String) {
    use base64::Engine as _;
    let kid = attacker_kid(w, &which).await;
    let cert = sign::attacker_self_signed_cert().unwrap_or_else(|e| w.harness_error(e));
    let x5c = Value::Array(vec![Value::String(
        base64::engine::general_purpose::STANDARD.encode(cert),
    )]);
    let how = format!(
        "signed by an attacker ES256 key, its self-signed certificate as \"x5c\", {}",
        kid.as_deref()
            .map_or_else(|| "no kid".to_owned(), |k| format!("kid {k}"))
    );
    attacker_token(w, "ES256", kid.as_deref(), vec![("x5c".into(), x5c)], how).await;
}

#[given(regex = r"^the attacker listener serves the attacker's JWKS$")]
async fn attacker_listener(w: &mut XauthWorld) {
    w.attacker().await;
}

#[given(
    regex = r#"^a token signed by an attacker ES256 key whose header member "(jku|x5u)" points at the attacker listener$"#
)]
async fn attacker_jku(w: &mut XauthWorld, member: String) {
    let url = w.attacker().await.url("/.well-known/jwks.json");
    let kid = w.attacker_kid.clone();
    let how = format!("signed by the attacker's ES256 key (kid {kid}), \"{member}\" = {url}");
    attacker_token(
        w,
        "ES256",
        Some(&kid),
        vec![(member, Value::from(url))],
        how,
    )
    .await;
}

#[given(regex = r#"^a token made of (\d+) "(.)" characters$"#)]
async fn token_of_chars(w: &mut XauthWorld, count: usize, c: String) {
    let text = c.repeat(count.min(16 * 1024 * 1024));
    w.set_token_text(text, format!("{count} {c:?} characters"), false);
}

/// Used by the `Then a valid … token is still accepted` liveness check.
pub async fn fresh_valid_token(w: &mut XauthWorld) -> String {
    let key = w.key_selector(Family::Es256).await;
    let mut claims = Map::new();
    claims.insert(
        "sub".into(),
        Value::String(uuid::Uuid::new_v4().to_string()),
    );
    let req = crate::net::control::MintRequest {
        key: Some(key),
        claims: Some(claims),
        ..Default::default()
    };
    w.mint(&req).await.token
}

#[cfg(test)]
mod tests {
    #[test]
    fn utf16() {
        assert_eq!(super::utf16le("{}"), "{\0}\0");
        assert_eq!(
            super::super::values::repeat_expr(
                "a token made of 3 \"a\" characters",
                "a token made of "
            ),
            Some((3, "a"))
        );
    }
}
