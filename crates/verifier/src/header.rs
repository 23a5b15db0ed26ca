//! The JOSE header rules (RFC 7515 §4), applied before any crypto.

use serde_json::{Map, Value};

use crate::json::{self, JsonError};
use crate::keys::MAX_KID_BYTES;
use crate::rejection::Rejection;

/// An allow-listed signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Alg {
    Es256,
    Rs256,
    Hs256,
    /// Only reachable through the `alg-none` seeded defect.
    #[cfg(feature = "seeded-defects")]
    None,
}

/// Header members that carry key material or a key URL. Keys are never taken from a token, and a
/// token carrying one is refused outright rather than having the member ignored: Supabase never
/// sets them, so their presence marks a forged or foreign token, and refusing keeps any future
/// code path from starting to trust them (RFC 8725 §3.10).
pub(crate) const KEY_REFERENCE_MEMBERS: &[&str] = &["jku", "x5u", "jwk", "x5c"];

/// What the header rules let through.
#[derive(Debug)]
pub(crate) struct Header {
    pub(crate) alg: Alg,
    pub(crate) kid: Option<String>,
    #[cfg_attr(not(feature = "seeded-defects"), allow(dead_code))]
    pub(crate) raw: Map<String, Value>,
}

/// Relaxations for seeded defects (all off in production; empty without the feature).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Relax {
    #[cfg(feature = "seeded-defects")]
    pub(crate) alg_none: bool,
    #[cfg(feature = "seeded-defects")]
    pub(crate) hs256_any: bool,
    #[cfg(feature = "seeded-defects")]
    pub(crate) crit: bool,
    #[cfg(feature = "seeded-defects")]
    pub(crate) jwk: bool,
    #[cfg(feature = "seeded-defects")]
    pub(crate) jku: bool,
}

/// Parses and checks a decoded header.
pub(crate) fn parse(bytes: &[u8], hs256: bool, relax: Relax) -> Result<Header, Rejection> {
    let _ = relax;
    let raw = json::parse_object(bytes).map_err(|e| match e {
        JsonError::Duplicate => Rejection::DuplicateMember,
        JsonError::Invalid => Rejection::HeaderJson,
    })?;
    let alg = match raw.get("alg") {
        Some(Value::String(a)) => match a.as_str() {
            "ES256" => Alg::Es256,
            "RS256" => Alg::Rs256,
            "HS256" if hs256 => Alg::Hs256,
            // SEEDED DEFECT hs256-public-key: HS256 is parsed even without a legacy secret.
            #[cfg(feature = "seeded-defects")]
            "HS256" if relax.hs256_any => Alg::Hs256,
            // SEEDED DEFECT alg-none: `none` in any letter case is accepted.
            #[cfg(feature = "seeded-defects")]
            a if relax.alg_none && a.eq_ignore_ascii_case("none") => Alg::None,
            _ => return Err(Rejection::AlgNotAllowed),
        },
        _ => return Err(Rejection::AlgNotAllowed),
    };
    #[allow(unused_mut)]
    let mut check_crit = true;
    // SEEDED DEFECT ignore-crit: `crit` (and `b64`) are not looked at.
    #[cfg(feature = "seeded-defects")]
    if relax.crit {
        check_crit = false;
    }
    // No extension is understood, so any `crit` fails (RFC 7515 §4.1.11), and so does `b64`
    // (RFC 7797), which is meaningless without `crit`.
    if check_crit && (raw.contains_key("crit") || raw.contains_key("b64")) {
        return Err(Rejection::CritUnsupported);
    }
    for member in KEY_REFERENCE_MEMBERS {
        // SEEDED DEFECT trust-embedded-jwk / follow-jku: the member is let through (and used).
        #[cfg(feature = "seeded-defects")]
        if (*member == "jwk" && relax.jwk) || (*member == "jku" && relax.jku) {
            continue;
        }
        if raw.contains_key(*member) {
            return Err(Rejection::EmbeddedKeyReference);
        }
    }
    match raw.get("typ") {
        None => {}
        Some(Value::String(t)) if is_jwt_media_type(t) => {}
        Some(_) => return Err(Rejection::Typ),
    }
    if raw.contains_key("cty") {
        return Err(Rejection::Cty);
    }
    let kid = match raw.get("kid") {
        None => None,
        Some(Value::String(k)) if valid_kid(k) => Some(k.clone()),
        Some(_) => return Err(Rejection::Kid),
    };
    Ok(Header { alg, kid, raw })
}

/// `JWT` or `application/jwt`, case-insensitive (RFC 7515 §4.1.9, RFC 2045 media types).
fn is_jwt_media_type(t: &str) -> bool {
    let t = match (t.get(..12), t.get(12..)) {
        (Some(prefix), Some(rest)) if prefix.eq_ignore_ascii_case("application/") => rest,
        _ => t,
    };
    t.eq_ignore_ascii_case("JWT")
}

/// A kid is a non-empty string of at most 256 bytes without control characters.
fn valid_kid(k: &str) -> bool {
    !k.is_empty() && k.len() <= MAX_KID_BYTES && !k.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(json: &str) -> Result<Header, Rejection> {
        parse(json.as_bytes(), true, Relax::default())
    }

    #[test]
    fn typ_forms() {
        for ok in ["JWT", "jwt", "Jwt", "application/jwt", "APPLICATION/JWT"] {
            assert!(
                p(&format!(r#"{{"alg":"ES256","typ":"{ok}"}}"#)).is_ok(),
                "{ok}"
            );
        }
        for bad in ["at+jwt", "dpop+jwt", "JWE", "", "application/", "JWT "] {
            assert_eq!(
                p(&format!(r#"{{"alg":"ES256","typ":"{bad}"}}"#)).unwrap_err(),
                Rejection::Typ,
                "{bad}"
            );
        }
        assert_eq!(p(r#"{"alg":"ES256","typ":1}"#).unwrap_err(), Rejection::Typ);
    }

    #[test]
    fn hs256_needs_secret() {
        assert_eq!(
            parse(br#"{"alg":"HS256"}"#, false, Relax::default()).unwrap_err(),
            Rejection::AlgNotAllowed
        );
        assert_eq!(p(r#"{"alg":"HS256"}"#).unwrap().alg, Alg::Hs256);
    }
}
