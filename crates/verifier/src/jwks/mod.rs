//! JWKS fetching and caching.

/// Why a JWKS fetch failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwksError {
    /// Transport failure, timeout, or connection refused.
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
    /// Timed out.
    #[error("JWKS fetch timed out")]
    Timeout,
}
