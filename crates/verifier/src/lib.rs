//! `xauth-verifier`: the reference verifier for Supabase-issued JWTs.
//!
//! The strictest correct reading of the Xentropy auth contract: strict compact-JWS parsing before
//! any crypto, each key pinned to one algorithm (EC P-256 → ES256, RSA → RS256, legacy secret →
//! HS256), exact claim rules, and a bounded single-flight JWKS cache with cooldown and
//! stale-if-error. Authentication ([`Rejection`] → 401 `UNAUTHENTICATED`/`TOKEN_EXPIRED`) is
//! separate from authorization ([`Policy`] → 403 `FORBIDDEN`). See [`axum`] for the tower layer
//! and the extractor.
//!
//! ```no_run
//! use xauth_verifier::{Verifier, VerifierConfig};
//! # async fn f(token: &str) -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = Verifier::new(VerifierConfig::supabase("http://127.0.0.1:54321")?)?;
//! match verifier.verify(token).await {
//!     Ok(claims) => println!("subject {}", claims.sub),
//!     Err(rejection) => println!("401 {} ({})", rejection.outcome().code(), rejection.reason()),
//! }
//! # Ok(()) }
//! ```

pub mod axum;
mod b64;
mod claims;
mod clock;
mod config;
#[cfg(feature = "seeded-defects")]
mod defect;
mod header;
mod json;
pub mod jwks;
#[cfg(test)]
mod kat;
mod keys;
mod policy;
mod rejection;
mod rules;
mod verifier;

pub use claims::Claims;
pub use clock::{Clock, SystemClock};
pub use config::{
    ConfigError, DEFAULT_MAX_TOKEN_BYTES, JwksPolicy, MAX_LEEWAY, MIN_SECRET_BYTES, VerifierConfig,
};
#[cfg(feature = "seeded-defects")]
pub use defect::{Defect, UnknownDefect};
pub use jwks::JwksError;
pub use policy::{Forbidden, Policy};
pub use rejection::{ClaimName, Outcome, Rejection};
pub use verifier::Verifier;
