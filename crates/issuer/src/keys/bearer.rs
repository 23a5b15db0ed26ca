//! GoTrue's own bearer-token check ([`KeyStore::verify_bearer`]), used by `GET`/`PUT /user`,
//! logout and the admin API.
//!
//! It is deliberately GoTrue's reading, not the strict one of `xauth-verifier`: kid lookup among
//! the published keys with the algorithm pinned to the key, the legacy HS256 secret when the kid
//! is absent or unknown (supabase/auth#2072), then `exp` and `nbf`; `aud` and `iss` unchecked.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use super::{KeyState, KeyStore};

/// Longest bearer token [`KeyStore::verify_bearer`] looks at.
pub const MAX_BEARER_BYTES: usize = 16 * 1024;

/// Why a bearer token was refused by the issuer's own (GoTrue-like) validation.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BearerError {
    /// Not three base64url parts with JSON-object header and payload, no string `alg`, a
    /// non-numeric `exp`/`nbf`, or longer than [`MAX_BEARER_BYTES`].
    #[error("token is malformed")]
    Malformed,
    /// Neither the published key named by `kid` (with its own alg) nor, when no such key
    /// exists, the legacy HS256 secret verifies the signature.
    #[error("signature is invalid")]
    BadSignature,
    /// `exp` has passed (also used when `nbf` is still in the future).
    #[error("token is expired")]
    Expired,
}

impl KeyStore {
    /// GoTrue's bearer validation: kid lookup among published keys (alg pinned to the key),
    /// HS256 with the legacy secret when the kid is absent or unknown, then `exp` (and `nbf`).
    /// `aud` and `iss` are not checked (GoTrue does not).
    pub fn verify_bearer(&self, token: &str, now: i64) -> Result<Map<String, Value>, BearerError> {
        if token.len() > MAX_BEARER_BYTES {
            return Err(BearerError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(BearerError::Malformed);
        };
        let header: Map<String, Value> = decode_json_part(h)?;
        let claims: Map<String, Value> = decode_json_part(p)?;
        let sig = URL_SAFE_NO_PAD
            .decode(s.as_bytes())
            .map_err(|_| BearerError::Malformed)?;
        let alg = header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or(BearerError::Malformed)?;
        let input = &token.as_bytes()[..h.len() + 1 + p.len()];
        let published = header.get("kid").and_then(Value::as_str).and_then(|kid| {
            self.snap()
                .entries
                .iter()
                .find(|e| e.key.kid() == kid && e.state != KeyState::Revoked)
                .map(|e| e.key.clone())
        });
        let valid = match published {
            Some(key) => alg == key.alg().as_str() && key.verify(input, &sig),
            None if alg == "HS256" => self.legacy().verify_hs256(input, &sig),
            None => false,
        };
        if !valid {
            return Err(BearerError::BadSignature);
        }
        match claims.get("exp") {
            None => {}
            Some(Value::Number(n)) => {
                let exp = n.as_f64().ok_or(BearerError::Malformed)?;
                if now as f64 >= exp {
                    return Err(BearerError::Expired);
                }
            }
            Some(_) => return Err(BearerError::Malformed),
        }
        match claims.get("nbf") {
            None => {}
            Some(Value::Number(n)) => {
                let nbf = n.as_f64().ok_or(BearerError::Malformed)?;
                if (now as f64) < nbf {
                    return Err(BearerError::Expired);
                }
            }
            Some(_) => return Err(BearerError::Malformed),
        }
        Ok(claims)
    }
}

fn decode_json_part(part: &str) -> Result<Map<String, Value>, BearerError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part.as_bytes())
        .map_err(|_| BearerError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| BearerError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::legacy::API_KEY_EXP;
    use crate::keys::legacy::tests::CLI_ANON_KEY;
    use crate::keys::{DEFAULT_JWT_SECRET, SignAlg};

    #[test]
    fn access_tokens_verify_and_expire() {
        let store = KeyStore::generate_complete(DEFAULT_JWT_SECRET).unwrap();
        let token = store.sign_access_token(r#"{"iss":"i","sub":"u","exp":100}"#);
        assert!(token.contains(".eyJpc3MiOiJpIiwic3ViIjoidSIsImV4cCI6MTAwfQ."));
        assert_eq!(store.verify_bearer(&token, 99).unwrap()["sub"], "u");
        assert_eq!(store.verify_bearer(&token, 100), Err(BearerError::Expired));
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert!(store.verify_bearer(&tampered, 99).is_err());
        assert_eq!(store.verify_bearer("a.b", 0), Err(BearerError::Malformed));
    }

    fn forge(header: &str, claims: &str, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let sig = sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    #[tokio::test]
    async fn bearer_validation_pins_the_alg_to_the_key_and_drops_revoked_keys() {
        let store = KeyStore::generate_complete(DEFAULT_JWT_SECRET).unwrap();
        let keys = store.keys();
        let (es, rs) = (keys[0].kid.clone(), keys[1].kid.clone());
        let (es_key, _) = store.find(&es).unwrap();
        let (rs_key, _) = store.find(&rs).unwrap();
        let claims = r#"{"sub":"s","exp":1000}"#;
        let es_header = format!(r#"{{"alg":"ES256","kid":"{es}"}}"#);
        let good = forge(&es_header, claims, |m| {
            es_key.sign(SignAlg::Es256, m).unwrap()
        });
        assert!(store.verify_bearer(&good, 0).is_ok());
        // The standby RSA key verifies RS256 but not PS256 (alg pinned to the key).
        let rs_header = format!(r#"{{"alg":"RS256","kid":"{rs}"}}"#);
        let rs_token = forge(&rs_header, claims, |m| {
            rs_key.sign(SignAlg::Rs256, m).unwrap()
        });
        assert!(store.verify_bearer(&rs_token, 0).is_ok());
        let ps_header = format!(r#"{{"alg":"PS256","kid":"{rs}"}}"#);
        let ps_token = forge(&ps_header, claims, |m| {
            rs_key.sign(SignAlg::Ps256, m).unwrap()
        });
        assert_eq!(
            store.verify_bearer(&ps_token, 0),
            Err(BearerError::BadSignature)
        );
        // HS256 naming a published kid is not sent to the legacy secret.
        let hs_kid = format!(r#"{{"alg":"HS256","kid":"{es}"}}"#);
        let hs_token = forge(&hs_kid, claims, |m| {
            store.legacy().sign(SignAlg::Hs256, m).unwrap()
        });
        assert_eq!(
            store.verify_bearer(&hs_token, 0),
            Err(BearerError::BadSignature)
        );
        // HS256 with an unknown kid falls back to the legacy secret (supabase/auth#2072).
        let hs_unknown = r#"{"alg":"HS256","kid":"unknown"}"#;
        let token = forge(hs_unknown, claims, |m| {
            store.legacy().sign(SignAlg::Hs256, m).unwrap()
        });
        assert!(store.verify_bearer(&token, 0).is_ok());
        // ES256 with an unknown kid has nothing to verify against.
        let unknown = r#"{"alg":"ES256","kid":"unknown"}"#;
        let token = forge(unknown, claims, |m| es_key.sign(SignAlg::Es256, m).unwrap());
        assert_eq!(
            store.verify_bearer(&token, 0),
            Err(BearerError::BadSignature)
        );
        // A revoked key no longer verifies.
        store.rotate(Some(&rs)).await.unwrap();
        assert!(
            store.verify_bearer(&good, 0).is_ok(),
            "previous keys still verify"
        );
        store.revoke(&es).await.unwrap();
        assert_eq!(
            store.verify_bearer(&good, 0),
            Err(BearerError::BadSignature)
        );
        // nbf in the future, non-numeric exp, oversized tokens.
        let nbf = forge(&es_header, r#"{"nbf":50}"#, |m| {
            es_key.sign(SignAlg::Es256, m).unwrap()
        });
        store.standby(&es).await.unwrap();
        assert_eq!(store.verify_bearer(&nbf, 49), Err(BearerError::Expired));
        assert!(store.verify_bearer(&nbf, 50).is_ok());
        let bad_exp = forge(&es_header, r#"{"exp":"1"}"#, |m| {
            es_key.sign(SignAlg::Es256, m).unwrap()
        });
        assert_eq!(
            store.verify_bearer(&bad_exp, 0),
            Err(BearerError::Malformed)
        );
        let huge = "a".repeat(MAX_BEARER_BYTES + 1);
        assert_eq!(store.verify_bearer(&huge, 0), Err(BearerError::Malformed));
    }

    #[test]
    fn anon_key_verifies_through_the_hs256_fallback() {
        let store = KeyStore::generate(DEFAULT_JWT_SECRET).unwrap();
        let claims = store.verify_bearer(CLI_ANON_KEY, 0).unwrap();
        assert_eq!(claims["role"], "anon");
        assert_eq!(
            store.verify_bearer(CLI_ANON_KEY, API_KEY_EXP),
            Err(BearerError::Expired)
        );
    }
}
