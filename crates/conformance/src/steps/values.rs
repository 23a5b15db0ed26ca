//! Value expressions used in the feature files for claim and header values. Each evaluates to
//! raw JSON text (inserted verbatim into the token), or to "absent".
//!
//! | expression | value |
//! |---|---|
//! | `absent` | the member is removed |
//! | `now`, `now plus 60 seconds`, `now minus the leeway minus 5 seconds`, `now plus 3600.5 seconds` | a NumericDate from the suite's clock; "the leeway" is the profile's `leeway_seconds` |
//! | `its value plus N` | the member's current numeric value plus N |
//! | `the issuer`, `the issuer with a trailing slash`, `the issuer in upper case`, `the issuer with the other scheme`, `the issuer without its path`, `an array holding the issuer` | variants of the issuer's `iss` |
//! | `the kid of the issuer's ES256 key` / `RS256 key` | that kid as a string |
//! | `the attacker listener URL` | the URL of the attacker's JWKS (starts the listener) |
//! | `the marker` | this scenario's unique marker string |
//! | `a string of N "c" characters`, `an array nested N deep` | big values |
//! | anything else | JSON text, used exactly as written (validated as JSON) |

use serde_json::Value;

use crate::scenario::world::{XauthWorld, now_unix};

/// Evaluates `expr` to raw JSON text (`None`: absent). `current` is the member's current value.
pub async fn eval(w: &mut XauthWorld, expr: &str, current: Option<&Value>) -> Option<String> {
    let expr = expr.trim();
    if expr == "absent" {
        return None;
    }
    if let Some(t) = time_expr(expr, w.ctx.profile.leeway_seconds as i64) {
        return Some(t);
    }
    if let Some(n) = expr.strip_prefix("its value plus ") {
        let n: f64 = n
            .trim()
            .parse()
            .unwrap_or_else(|_| w.harness_error(format!("bad number in {expr:?}")));
        let cur = current.and_then(Value::as_f64).unwrap_or_else(|| {
            w.harness_error(format!("{expr:?}: the member has no numeric value"))
        });
        let sum = cur + n;
        return Some(if sum.fract() == 0.0 && sum.abs() < 9e15 {
            format!("{}", sum as i64)
        } else {
            format!("{sum}")
        });
    }
    let s = |text: String| Some(Value::String(text).to_string());
    match expr {
        "the issuer" => return s(w.issuer_iss().await),
        "the issuer with a trailing slash" => return s(format!("{}/", w.issuer_iss().await)),
        "the issuer in upper case" => return s(w.issuer_iss().await.to_uppercase()),
        "the issuer with the other scheme" => {
            let iss = w.issuer_iss().await;
            let other = if let Some(rest) = iss.strip_prefix("https://") {
                format!("http://{rest}")
            } else if let Some(rest) = iss.strip_prefix("http://") {
                format!("https://{rest}")
            } else {
                format!("https://{iss}")
            };
            return s(other);
        }
        "the issuer without its path" => {
            let iss = w.issuer_iss().await;
            let stripped = match url::Url::parse(&iss) {
                Ok(u) => u.origin().ascii_serialization(),
                Err(_) => iss.trim_end_matches("/auth/v1").to_owned(),
            };
            return s(stripped);
        }
        "an array holding the issuer" => {
            return Some(Value::Array(vec![Value::String(w.issuer_iss().await)]).to_string());
        }
        "the attacker listener URL" => {
            let url = w.attacker().await.url("/.well-known/jwks.json");
            return s(url);
        }
        "the marker" => return s(w.marker.clone()),
        _ => {}
    }
    if let Some(alg) = expr
        .strip_prefix("the kid of the issuer's ")
        .and_then(|r| r.strip_suffix(" key"))
    {
        return s(w.issuer_key(alg).await.kid);
    }
    if let Some((n, c)) = repeat_expr(expr, "a string of ") {
        return s(c.repeat(n));
    }
    if let Some(n) = expr
        .strip_prefix("an array nested ")
        .and_then(|r| r.strip_suffix(" deep"))
        .and_then(|n| n.parse::<usize>().ok())
    {
        return Some(format!("{}{}", "[".repeat(n), "]".repeat(n)));
    }
    match serde_json::from_str::<Value>(expr) {
        Ok(_) => Some(expr.to_owned()),
        Err(e) => w.harness_error(format!(
            "{expr:?} is neither a known value expression nor JSON: {e}"
        )),
    }
}

/// `PREFIX<N> "<c>" characters` → `(N, c)`.
pub fn repeat_expr<'a>(expr: &'a str, prefix: &str) -> Option<(usize, &'a str)> {
    let rest = expr.strip_prefix(prefix)?.strip_suffix(" characters")?;
    let (n, quoted) = rest.split_once(' ')?;
    let c = quoted.strip_prefix('"')?.strip_suffix('"')?;
    Some((n.parse().ok()?, c))
}

/// `now [plus|minus the leeway] [plus|minus N seconds]` → NumericDate text.
pub fn time_expr(expr: &str, leeway: i64) -> Option<String> {
    let mut rest = expr.strip_prefix("now")?;
    let mut base = now_unix() as f64;
    if let Some(r) = rest.strip_prefix(" plus the leeway") {
        base += leeway as f64;
        rest = r;
    } else if let Some(r) = rest.strip_prefix(" minus the leeway") {
        base -= leeway as f64;
        rest = r;
    }
    if !rest.is_empty() {
        let (sign, r) = if let Some(r) = rest.strip_prefix(" plus ") {
            (1.0, r)
        } else if let Some(r) = rest.strip_prefix(" minus ") {
            (-1.0, r)
        } else {
            return None;
        };
        let n = r
            .strip_suffix(" seconds")
            .or_else(|| r.strip_suffix(" second"))?;
        let n: f64 = n.parse().ok()?;
        base += sign * n;
    }
    Some(if base.fract() == 0.0 {
        format!("{}", base as i64)
    } else {
        format!("{base}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_expressions() {
        let now = now_unix();
        let v: i64 = time_expr("now minus the leeway minus 5 seconds", 30)
            .unwrap()
            .parse()
            .unwrap();
        assert!((now - 35 - v).abs() <= 1);
        let v: f64 = time_expr("now plus 3600.5 seconds", 0)
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(v.fract(), 0.5);
        assert!(time_expr("now-ish", 0).is_none());
        assert!(time_expr("nowhere", 0).is_none());
        let v: i64 = time_expr("now plus the leeway", 7)
            .unwrap()
            .parse()
            .unwrap();
        assert!((now + 7 - v).abs() <= 1);
    }

    #[test]
    fn repeat_expressions() {
        assert_eq!(
            repeat_expr(r#"a string of 3 "x" characters"#, "a string of "),
            Some((3, "x"))
        );
        assert_eq!(
            repeat_expr(r#"a token made of 10 "." characters"#, "a token made of "),
            Some((10, "."))
        );
        assert_eq!(repeat_expr("a string of x", "a string of "), None);
    }
}
