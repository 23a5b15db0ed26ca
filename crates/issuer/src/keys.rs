//! Signing keys (ES256, RS256, legacy HS256), their lifecycle, and token signing.

use serde_json::{Map, Value};

/// Why a bearer token was refused by the issuer's own (GoTrue-like) validation.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BearerError {
    #[error("token is malformed")]
    Malformed,
    #[error("signature is invalid")]
    BadSignature,
    #[error("token is expired")]
    Expired,
}

/// The issuer's key set. Skeleton: filled in by the key side.
#[derive(Debug, Default)]
pub struct KeyStore {}

impl KeyStore {
    /// Signs `claims` with the current key; header `{"alg","kid","typ":"JWT"}`.
    pub fn sign_access_token(&self, _claims: &Value) -> String {
        String::new()
    }

    /// GoTrue's bearer validation: kid lookup among published keys (alg pinned to the key),
    /// HS256 with the legacy secret when the kid is absent or unknown, then `exp`.
    pub fn verify_bearer(
        &self,
        _token: &str,
        _now: i64,
    ) -> Result<Map<String, Value>, BearerError> {
        Err(BearerError::Malformed)
    }
}
