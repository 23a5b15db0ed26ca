//! The legacy HS256 JWT secret ([`LegacySecret`]) and the anon and service_role API keys
//! derived from it.
//!
//! Supabase projects still carry this shared secret; the API keys derived from the CLI's default
//! secret must be byte-identical to the Supabase CLI's, because real clients ship them.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{KeyError, SignAlg};

/// The Supabase CLI's well-known local JWT secret.
pub const DEFAULT_JWT_SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";

/// `exp` of the Supabase CLI's well-known anon and service_role keys.
pub(super) const API_KEY_EXP: i64 = 1_983_812_996;

/// The legacy HS256 secret and the API keys derived from it.
#[derive(Clone)]
pub struct LegacySecret {
    secret: String,
    hs256: hmac::Key,
    anon_key: String,
    service_role_key: String,
}

impl std::fmt::Debug for LegacySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LegacySecret").finish_non_exhaustive()
    }
}

impl LegacySecret {
    /// Derives the anon and service_role API keys like the Supabase CLI does
    /// (`{"iss":"supabase-demo","role":…,"exp":1983812996}`, HS256).
    pub fn new(secret: impl Into<String>) -> Self {
        let secret = secret.into();
        let hs256 = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        let api_key = |role: &str| {
            let input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
                URL_SAFE_NO_PAD.encode(format!(
                    r#"{{"iss":"supabase-demo","role":"{role}","exp":{API_KEY_EXP}}}"#
                ))
            );
            let tag = hmac::sign(&hs256, input.as_bytes());
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
        };
        Self {
            anon_key: api_key("anon"),
            service_role_key: api_key("service_role"),
            secret,
            hs256,
        }
    }

    /// The secret text.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// The anon API key.
    pub fn anon_key(&self) -> &str {
        &self.anon_key
    }

    /// The service_role API key.
    pub fn service_role_key(&self) -> &str {
        &self.service_role_key
    }

    /// HMAC of `input` with HS256/384/512.
    pub fn sign(&self, alg: SignAlg, input: &[u8]) -> Result<Vec<u8>, KeyError> {
        let algorithm = alg.hmac_algorithm().ok_or(KeyError::Conflict(
            "the legacy secret signs HS256, HS384 or HS512 only",
        ))?;
        let key = if alg == SignAlg::Hs256 {
            self.hs256.clone()
        } else {
            hmac::Key::new(algorithm, self.secret.as_bytes())
        };
        Ok(hmac::sign(&key, input).as_ref().to_vec())
    }

    /// Whether `tag` is the HS256 HMAC of `input` (constant time).
    pub(super) fn verify_hs256(&self, input: &[u8], tag: &[u8]) -> bool {
        hmac::verify(&self.hs256, input, tag).is_ok()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::keys) const CLI_ANON_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";
    const CLI_SERVICE_ROLE_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU";

    #[test]
    fn default_secret_gives_the_cli_api_keys_byte_for_byte() {
        let legacy = LegacySecret::new(DEFAULT_JWT_SECRET);
        assert_eq!(legacy.anon_key(), CLI_ANON_KEY);
        assert_eq!(legacy.service_role_key(), CLI_SERVICE_ROLE_KEY);
    }
}
