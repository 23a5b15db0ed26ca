//! JWKS fetching ([`fetch`](self)) and caching: bounded, single-flight, with cooldown and
//! stale-if-error. See [`crate::JwksPolicy`] for the knobs.

pub(crate) mod cache;
pub(crate) mod fetch;

/// Why a JWKS fetch failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwksError {
    /// Transport failure (connection refused, reset, ...).
    #[error("JWKS fetch failed: {0}")]
    Transport(String),
    /// A non-200 status (redirects are not followed and count as failures).
    #[error("JWKS endpoint answered HTTP {0}")]
    Status(u16),
    /// The body is larger than the configured cap.
    #[error("JWKS body exceeds {0} bytes")]
    TooLarge(usize),
    /// The body is not a JWK Set.
    #[error("JWKS body is not a JWK Set")]
    Malformed,
    /// The fetch took longer than the configured timeout.
    #[error("JWKS fetch timed out")]
    Timeout,
}
