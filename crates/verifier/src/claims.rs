//! The verified claim set.

use serde_json::{Map, Value};

/// The claims of a verified token. Only produced by [`crate::Verifier::verify`], so every field
/// has passed the claim rules; `raw` holds the complete payload object.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    /// Subject (non-empty string).
    pub sub: String,
    /// Issuer (equal to the configured issuer).
    pub iss: String,
    /// Audiences (contains the configured audience).
    pub aud: Vec<String>,
    /// Expiry (NumericDate).
    pub exp: f64,
    /// Issued-at, when present.
    pub iat: Option<f64>,
    /// Not-before, when present.
    pub nbf: Option<f64>,
    /// Supabase `role` (`authenticated`, `anon`, `service_role`, ...), when present.
    pub role: Option<String>,
    /// Supabase `session_id`, when present.
    pub session_id: Option<String>,
    /// Supabase `is_anonymous`, when present.
    pub is_anonymous: Option<bool>,
    /// The whole payload object.
    pub raw: Map<String, Value>,
}

impl Claims {
    /// A claim by name from the raw payload.
    ///
    /// ```
    /// # use xauth_verifier::Claims;
    /// # fn f(c: &Claims) -> Option<&str> {
    /// c.get("email").and_then(|v| v.as_str())
    /// # }
    /// ```
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.raw.get(name)
    }
}
