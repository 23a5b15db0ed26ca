//! The claim rules (RFC 7519 §4.1 plus the Supabase contract), applied after the signature.

use serde_json::{Map, Value};

use crate::claims::Claims;
use crate::rejection::Rejection;

/// The largest NumericDate accepted: 9999-12-31T23:59:59Z.
pub(crate) const MAX_NUMERIC_DATE: f64 = 253_402_300_799.0;

/// What the claims are checked against.
#[derive(Debug, Clone)]
pub(crate) struct Rules {
    pub(crate) issuer: String,
    pub(crate) audience: String,
    /// Leeway in whole seconds (already capped).
    pub(crate) leeway: i64,
    pub(crate) check_exp: bool,
    pub(crate) check_nbf: bool,
    pub(crate) check_iss: bool,
    pub(crate) check_aud: bool,
    /// Off only under the `accept-missing-sub` seeded defect.
    pub(crate) check_sub: bool,
}

/// A NumericDate: a JSON number (integer or not), finite, in `[0, MAX_NUMERIC_DATE]`.
pub(crate) fn numeric_date(v: &Value) -> Option<f64> {
    let n = v.as_number()?.as_f64()?;
    (n.is_finite() && (0.0..=MAX_NUMERIC_DATE).contains(&n)).then_some(n)
}

fn optional_date(
    payload: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<f64>, Rejection> {
    payload
        .get(name)
        .map(|v| numeric_date(v).ok_or(Rejection::InvalidClaim(name)))
        .transpose()
}

fn optional_string(
    payload: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<String>, Rejection> {
    match payload.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Rejection::InvalidClaim(name)),
    }
}

/// Is the token expired at `now`? (`now >= exp + leeway`)
pub(crate) fn is_expired(exp: f64, now: i64, leeway: i64) -> bool {
    now as f64 >= exp + leeway as f64
}

/// Applies every rule. Every failure other than expiry wins over expiry, so
/// [`Rejection::Expired`] means "authentic and otherwise fully acceptable".
pub(crate) fn check(
    payload: Map<String, Value>,
    rules: &Rules,
    now: i64,
) -> Result<Claims, Rejection> {
    let exp = match payload.get("exp") {
        None => return Err(Rejection::MissingClaim("exp")),
        Some(v) => numeric_date(v).ok_or(Rejection::InvalidClaim("exp"))?,
    };
    let nbf = optional_date(&payload, "nbf")?;
    let iat = optional_date(&payload, "iat")?;

    let sub = match payload.get("sub") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        // SEEDED DEFECT accept-missing-sub: a missing, empty or non-string `sub` passes (as
        // "" or its JSON text), like verifiers that only check the signature and the times.
        None | Some(Value::String(_)) if !rules.check_sub => String::new(),
        Some(other) if !rules.check_sub => other.to_string(),
        None => return Err(Rejection::MissingClaim("sub")),
        Some(_) => return Err(Rejection::InvalidClaim("sub")),
    };
    let iss = match payload.get("iss") {
        Some(Value::String(s)) => s.clone(),
        None if !rules.check_iss => String::new(),
        None => return Err(Rejection::MissingClaim("iss")),
        Some(_) if !rules.check_iss => String::new(),
        Some(_) => return Err(Rejection::InvalidClaim("iss")),
    };
    if rules.check_iss && iss != rules.issuer {
        return Err(Rejection::Issuer);
    }
    let aud = match payload.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) if !items.is_empty() => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(s) => out.push(s.clone()),
                    _ if !rules.check_aud => {}
                    _ => return Err(Rejection::InvalidClaim("aud")),
                }
            }
            out
        }
        None if !rules.check_aud => Vec::new(),
        None => return Err(Rejection::MissingClaim("aud")),
        Some(_) if !rules.check_aud => Vec::new(),
        Some(_) => return Err(Rejection::InvalidClaim("aud")),
    };
    if rules.check_aud && !aud.contains(&rules.audience) {
        return Err(Rejection::Audience);
    }
    let role = optional_string(&payload, "role")?;
    let session_id = optional_string(&payload, "session_id")?;
    let is_anonymous = match payload.get("is_anonymous") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(Rejection::InvalidClaim("is_anonymous")),
    };

    let horizon = now as f64 + rules.leeway as f64;
    if rules.check_nbf && nbf.is_some_and(|nbf| nbf > horizon) {
        return Err(Rejection::NotYetValid);
    }
    if iat.is_some_and(|iat| iat > horizon) {
        return Err(Rejection::IssuedInFuture);
    }
    if rules.check_exp && is_expired(exp, now, rules.leeway) {
        return Err(Rejection::Expired);
    }
    Ok(Claims {
        sub,
        iss,
        aud,
        exp,
        iat,
        nbf,
        role,
        session_id,
        is_anonymous,
        raw: payload,
    })
}
