//! The verifier.

use std::sync::Arc;

use crate::claims::Claims;
use crate::config::{ConfigError, VerifierConfig};
use crate::jwks::JwksError;
use crate::rejection::Rejection;

/// Verifies bearer tokens. Cheap to clone (an `Arc` inside), `Send + Sync`.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    _config: VerifierConfig,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier").finish_non_exhaustive()
    }
}

impl Verifier {
    /// Builds a verifier; fails on a weak legacy secret or an inconsistent policy.
    pub fn new(config: VerifierConfig) -> Result<Self, ConfigError> {
        if config
            .legacy_secret
            .as_ref()
            .is_some_and(|s| s.len() < crate::config::MIN_SECRET_BYTES)
        {
            return Err(ConfigError::WeakSecret);
        }
        config.jwks.validate()?;
        Ok(Verifier {
            inner: Arc::new(Inner { _config: config }),
        })
    }

    /// Verifies one compact JWS.
    pub async fn verify(&self, _token: &str) -> Result<Claims, Rejection> {
        let _ = &self.inner;
        Err(Rejection::KeysUnavailable)
    }

    /// Fetches the JWKS now (warm-up or explicit refresh), bypassing the cooldown.
    pub async fn refresh_jwks(&self) -> Result<(), JwksError> {
        Err(JwksError::Transport("not implemented yet".into()))
    }

    /// How many JWKS fetches were attempted so far.
    pub fn jwks_fetch_count(&self) -> u64 {
        0
    }
}
