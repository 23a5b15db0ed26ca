//! `POST /_control/v1/mint`: a token with any header and claims, signed by any issuer key.
//!
//! See the `POST /mint` contract in ARCHITECTURE.md. The signature always covers exactly the
//! header and payload text that end up in the token; raw texts are used byte for byte.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::gotrue::claims::{self, AccessTokenClaims, object_text};
use crate::gotrue::models::AmrEntry;
use crate::keys::{KeyError, SignAlg};
use crate::state::AppState;

/// Largest `header_raw` / `claims_raw` text, and largest merged header / claim set.
pub const MAX_PART_BYTES: usize = 64 * 1024;
/// Largest `|ttl|` (100 years).
pub const MAX_TTL_SECONDS: i64 = 100 * 365 * 24 * 3600;
/// Longest key reference.
pub const MAX_KEY_REF_BYTES: usize = 256;

/// Which claim set `claims` is merged over.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Template {
    /// A fresh user's full GoTrue access-token claims.
    #[default]
    Gotrue,
    /// No claims.
    Empty,
}

/// The body of `POST /_control/v1/mint` (every field optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintRequest {
    /// `"current"` (default), a kid (any state, even revoked), or `"legacy"` (the HS256 secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Signing algorithm; default: the key's own (ES256, RS256, HS256). RSA keys also sign
    /// RS384/RS512/PS256/PS384/PS512; the legacy secret HS384/HS512.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Members merged over the default header `{"alg","kid","typ":"JWT"}`; null removes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<Map<String, Value>>,
    /// Exact header text (replaces the header entirely).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_raw: Option<String>,
    /// Members merged over the template's claims; null removes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Map<String, Value>>,
    /// Exact payload text (replaces the claims entirely).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims_raw: Option<String>,
    /// The claim template; default `gotrue`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<Template>,
    /// Seconds until `exp` for the template (may be negative); default: the access-token TTL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
}

/// A minted token with the header and claims it carries (parsed from the exact text when that
/// is JSON, else the text itself as a string).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Minted {
    /// The compact JWS `header.payload.signature`.
    pub token: String,
    /// The header as signed: its JSON value, or the raw text as a string if it is not JSON.
    pub header: Value,
    /// The payload as signed: its JSON value, or the raw text as a string if it is not JSON.
    pub claims: Value,
}

/// Why a mint request was refused.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    /// The request breaks a rule (conflicting or oversized fields, an unsupported or unfitting
    /// `alg`, a TTL out of range); the message says which.
    #[error("{0}")]
    Invalid(String),
    /// `key` is a kid that matches none of the issuer's keys (in any state, revoked included).
    #[error("no key with kid {0:?}")]
    UnknownKey(String),
    /// The chosen key failed to produce a signature.
    #[error("signing failed: {0}")]
    Signing(#[from] KeyError),
}

enum Signer {
    Key(std::sync::Arc<crate::keys::SigningKey>),
    Legacy,
}

/// Mints a token per `request` with the issuer's keys and clock.
pub fn mint(state: &AppState, request: &MintRequest) -> Result<Minted, MintError> {
    let invalid = |m: String| Err(MintError::Invalid(m));
    if request.header.is_some() && request.header_raw.is_some() {
        return invalid("give either header or header_raw, not both".into());
    }
    if request.claims.is_some() && request.claims_raw.is_some() {
        return invalid("give either claims or claims_raw, not both".into());
    }
    for (name, raw) in [
        ("header_raw", &request.header_raw),
        ("claims_raw", &request.claims_raw),
    ] {
        if raw.as_ref().is_some_and(|r| r.len() > MAX_PART_BYTES) {
            return invalid(format!("{name} is longer than {MAX_PART_BYTES} bytes"));
        }
    }
    let ttl = request.ttl.unwrap_or(state.config.access_token_ttl);
    if ttl.abs() > MAX_TTL_SECONDS {
        return invalid(format!("ttl must be within ±{MAX_TTL_SECONDS} seconds"));
    }

    let key_ref = request.key.as_deref().unwrap_or("current");
    if key_ref.len() > MAX_KEY_REF_BYTES {
        return invalid(format!("key is longer than {MAX_KEY_REF_BYTES} bytes"));
    }
    let signer = match key_ref {
        "current" => Signer::Key(state.keys.current()),
        "legacy" => Signer::Legacy,
        kid => Signer::Key(
            state
                .keys
                .find(kid)
                .map(|(key, _)| key)
                .ok_or_else(|| MintError::UnknownKey(kid.to_string()))?,
        ),
    };
    let alg = match (&request.alg, &signer) {
        (None, Signer::Key(key)) => SignAlg::from_key(key.alg()),
        (None, Signer::Legacy) => SignAlg::Hs256,
        (Some(name), signer) => {
            let Some(alg) = SignAlg::parse(name) else {
                return invalid(format!("unsupported alg {name:?}"));
            };
            let fits = match signer {
                Signer::Key(key) => key.supports(alg),
                Signer::Legacy => matches!(alg, SignAlg::Hs256 | SignAlg::Hs384 | SignAlg::Hs512),
            };
            if !fits {
                let what = match signer {
                    Signer::Key(key) => format!("a {} key", key.alg()),
                    Signer::Legacy => "the legacy secret".to_string(),
                };
                return invalid(format!("{what} cannot sign {name}"));
            }
            alg
        }
    };

    let header_text = match &request.header_raw {
        Some(raw) => raw.clone(),
        None => {
            let mut members: Vec<(String, Value)> = vec![("alg".into(), json!(alg.as_str()))];
            if let Signer::Key(key) = &signer {
                members.push(("kid".into(), json!(key.kid())));
            }
            members.push(("typ".into(), json!("JWT")));
            merge(&mut members, request.header.as_ref());
            object_text(members)
        }
    };
    let claims_text = match &request.claims_raw {
        Some(raw) => raw.clone(),
        None => {
            let mut members = match request.template.unwrap_or_default() {
                Template::Gotrue => gotrue_template(state, ttl),
                Template::Empty => Vec::new(),
            };
            merge(&mut members, request.claims.as_ref());
            object_text(members)
        }
    };
    for (name, text) in [("header", &header_text), ("claims", &claims_text)] {
        if text.len() > MAX_PART_BYTES {
            return invalid(format!("the {name} is longer than {MAX_PART_BYTES} bytes"));
        }
    }

    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(&header_text),
        URL_SAFE_NO_PAD.encode(&claims_text)
    );
    let signature = match &signer {
        Signer::Key(key) => key.sign(alg, input.as_bytes())?,
        Signer::Legacy => state.keys.legacy().sign(alg, input.as_bytes())?,
    };
    Ok(Minted {
        token: format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)),
        header: parsed_or_text(&header_text),
        claims: parsed_or_text(&claims_text),
    })
}

fn parsed_or_text(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// The default GoTrue claim set of a fresh user, in GoTrue's member order: the grants' own
/// claim builder ([`AccessTokenClaims`]) with a fresh user id, email and session.
fn gotrue_template(state: &AppState, ttl: i64) -> Vec<(String, Value)> {
    let now = state.clock.now_unix();
    let sub = uuid::Uuid::new_v4();
    let email = format!("user-{}@example.com", &sub.simple().to_string()[..12]);
    let issuer = state.config.issuer();
    let mut app_metadata = Map::new();
    app_metadata.insert("provider".into(), json!("email"));
    app_metadata.insert("providers".into(), json!(["email"]));
    let amr = [AmrEntry {
        method: "password".into(),
        timestamp: now,
    }];
    let claims = AccessTokenClaims {
        issuer: &issuer,
        sub,
        aud: "authenticated",
        issued_at: now,
        ttl,
        email: &email,
        phone: "",
        app_metadata: &app_metadata,
        user_metadata: &Map::new(),
        role: "authenticated",
        aal: "aal1",
        amr: &amr,
        session_id: uuid::Uuid::new_v4(),
        is_anonymous: false,
    }
    .to_map();
    claims::ordered_members(&claims)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// Merges `over` into `members`: replaces in place, appends new members, removes on null.
fn merge(members: &mut Vec<(String, Value)>, over: Option<&Map<String, Value>>) {
    let Some(over) = over else { return };
    for (k, v) in over {
        let existing = members.iter().position(|(name, _)| name == k);
        match (existing, v) {
            (Some(i), Value::Null) => {
                members.remove(i);
            }
            (None, Value::Null) => {}
            (Some(i), v) => members[i].1 = v.clone(),
            (None, v) => members.push((k.clone(), v.clone())),
        }
    }
}
