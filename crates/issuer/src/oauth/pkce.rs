//! PKCE (RFC 7636) as the issuer enforces it: S256 only, and GoTrue's challenge-length bounds.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Shortest accepted `code_challenge` (GoTrue's `validatePKCEParams`).
pub const MIN_CHALLENGE_LEN: usize = 43;
/// Longest accepted `code_challenge`.
pub const MAX_CHALLENGE_LEN: usize = 128;

/// GoTrue's message when the verifier does not hash to the stored challenge.
pub const MISMATCH: &str = "code challenge does not match previously saved code verifier";

/// Checks the `/authorize` PKCE parameters. GoTrue also accepts `plain`; this issuer does not
/// (OAuth 2.1 and MCP require S256, and the metadata advertises S256 only).
pub fn check_challenge(challenge: &str, method: &str) -> Result<(), &'static str> {
    if challenge.is_empty() || method.is_empty() {
        return Err("PKCE flow requires both code_challenge and code_challenge_method");
    }
    if !method.eq_ignore_ascii_case("s256") {
        return Err("code_challenge_method must be 'S256'");
    }
    if !(MIN_CHALLENGE_LEN..=MAX_CHALLENGE_LEN).contains(&challenge.len()) {
        return Err("code_challenge must be between 43 and 128 characters");
    }
    Ok(())
}

/// The S256 challenge of `verifier`: `BASE64URL(SHA256(verifier))`.
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Whether `verifier` hashes to `challenge` (compared in constant time).
pub fn verify(challenge: &str, verifier: &str) -> Result<(), &'static str> {
    if verifier.is_empty() {
        return Err("code_verifier is required when PKCE challenge is present");
    }
    if bool::from(s256(verifier).as_bytes().ct_eq(challenge.as_bytes())) {
        Ok(())
    } else {
        Err(MISMATCH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert_eq!(s256(verifier), challenge);
        assert!(verify(challenge, verifier).is_ok());
        assert_eq!(verify(challenge, "x"), Err(MISMATCH));
        assert!(verify(challenge, "").is_err());
    }

    #[test]
    fn only_s256_with_a_sane_length() {
        let c = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(check_challenge(c, "S256").is_ok());
        assert!(check_challenge(c, "s256").is_ok());
        assert!(check_challenge(c, "plain").is_err());
        assert!(check_challenge(c, "").is_err());
        assert!(check_challenge("", "S256").is_err());
        assert!(check_challenge("short", "S256").is_err());
        assert!(check_challenge(&"a".repeat(129), "S256").is_err());
    }
}
