//! `xauth-verifier`: the reference verifier for Supabase-issued JWTs.
//!
//! The strictest correct reading of the Xentropy auth contract: strict compact-JWS parsing before
//! any crypto, each key pinned to one algorithm (EC P-256 → ES256, RSA → RS256, legacy secret →
//! HS256), exact claim rules, and a bounded single-flight JWKS cache with cooldown and
//! stale-if-error. Authentication ([`Rejection`] → 401 `UNAUTHENTICATED`/`TOKEN_EXPIRED`) is
//! separate from authorization ([`Policy`] → 403 `FORBIDDEN`). See [`axum`] for the tower layer
//! and the extractor.
//!
//! # Strict choices (policy, documented)
//!
//! * Compact JWS only: exactly three segments, canonical unpadded base64url, header and payload
//!   JSON objects without duplicate member names (at any depth) and nested at most 16 deep;
//!   tokens longer than 8 KiB (configurable) are refused before parsing.
//! * `alg` is exactly `ES256` or `RS256`, or `HS256` when a legacy secret is configured.
//! * Keys are pinned: an EC P-256 JWK verifies ES256 only, an RSA JWK (2048-8192 bits, e = 65537)
//!   RS256 only, the legacy secret HS256 only. JWKS keys are never HMAC secrets.
//! * ES256/RS256 tokens must carry a `kid` that names exactly one usable JWKS key (no "try every
//!   key" fallback; a kid shared by two usable keys is ambiguous and refused). HS256 tokens use
//!   the legacy secret whatever their `kid`.
//! * Tokens carrying `jku`, `x5u`, `jwk` or `x5c` are refused, not merely ignored: Supabase never
//!   sets them, so they only appear on forged or foreign tokens, and refusing them keeps any
//!   later code from starting to trust them. `crit` (and `b64`) are refused: no extension is
//!   understood. `typ` may be absent, `JWT` or `application/jwt` (any case); `cty` is refused.
//! * Claims: `exp` and `sub` required; `iss` exact; `aud` a string or non-empty array of strings
//!   containing the audience; NumericDates are JSON numbers in `[0, 253402300799]` (floats
//!   allowed); `nbf` and `iat` honoured with the leeway (≤ 300 s); `role` and `session_id` must be
//!   strings and `is_anonymous` a boolean when present. Expired iff `now >= exp + leeway`, and
//!   reported as `TOKEN_EXPIRED` only when everything else passed.
//! * Logs carry the stable [`Rejection::reason`], never token content.
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
#[doc(hidden)]
pub use verifier::verify_with_jwk;
