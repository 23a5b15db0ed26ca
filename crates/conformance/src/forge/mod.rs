//! Token forging: byte-level construction of the attack tokens that signing libraries refuse to
//! make (unsigned tokens, key confusion, malformed ECDSA signatures, non-canonical base64url, ...).
//!
//! Valid tokens never come from here: they are minted by the issuer (`POST /_control/v1/mint`)
//! with its real keys. `forge` only takes such a token apart, changes it, or signs it with keys
//! the target must NOT trust (attacker keys, public keys used as HMAC secrets, blank secrets).

pub mod b64;
pub mod ecdsa;
pub mod jws;
pub mod keys;
pub mod local;
pub mod pat;
pub mod sign;
pub mod unusable;

/// Why forging failed: always a harness-side problem (bad input to a step), never a verdict.
#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    /// The token did not split into exactly three `.`-separated segments.
    #[error("not a compact JWS with three segments: {0}")]
    NotCompact(String),
    /// A segment did not decode as unpadded base64url.
    #[error("segment is not base64url: {0}")]
    Base64(String),
    /// A decoded header or payload was not valid JSON.
    #[error("not JSON: {0}")]
    Json(String),
    /// Key material (a JWK or raw key) could not be parsed or used.
    #[error("bad key: {0}")]
    Key(String),
    /// A signature had the wrong length or a malformed encoding for its algorithm.
    #[error("bad signature: {0}")]
    Signature(String),
}
