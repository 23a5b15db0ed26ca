//! The typed payload a failing step panics with, so that the report receives the observed
//! answer as data instead of parsing it back out of the message text.
//!
//! A step fails by raising a [`StepFailure`] with [`StepFailure::raise`]
//! (`std::panic::panic_any`): [`crate::scenario::world::XauthWorld::fail`] raises a
//! [`FailureKind::Verdict`] carrying the expectation and the [`Observed`] answer of the exchange
//! it shows; [`crate::scenario::world::XauthWorld::harness_error`] raises a [`FailureKind::SuiteError`]
//! (the suite could not judge: not a verdict on the target). Cucumber hands the payload to the
//! report's collector (`event::Step::Failed` → `StepError::Panic`), which downcasts it with
//! [`StepFailure::of_payload`]; plain `&str`/`String` panics (assertions, undefined steps) are
//! still reported, by their text.
//!
//! [`Observed`] is what the report groups failures by (`report::group`): the HTTP status, the
//! error code at the profile's `error_code_pointer`, and the body's *shape* ([`shape`]): the
//! body with everything that varies from one request to the next (quoted values, numbers, hex,
//! ids, tokens) blanked, so that one bug answering the same way to many attacks is recognised
//! as one answer.

use std::any::Any;

use serde::Serialize;
use serde_json::Value;

use crate::net::evidence::Exchange;
use crate::profile::JsonPointer;

/// Whether a failure is a verdict on the target or the suite's own trouble.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The target answered against the contract.
    Verdict,
    /// The suite could not judge (the issuer refused a mint, no token was built…): not a
    /// verdict on the target, but it fails the run, since nothing was proven.
    SuiteError,
}

/// What the target answered, as data.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Observed {
    /// The HTTP status; `None` when no response came (timeout, connection closed or refused).
    pub status: Option<u16>,
    /// The error code at the profile's `error_code_pointer` (a JSON body only; a non-string
    /// value as its JSON text).
    pub code: Option<String>,
    /// The body's shape ([`shape`]); without a response, the shape of why none came.
    pub body_shape: String,
}

/// The panic payload of a failing step.
#[derive(Debug, Clone)]
pub struct StepFailure {
    /// Verdict or suite error.
    pub kind: FailureKind,
    /// The full text the report shows: expectation, token recipe, exchanges, curl line.
    pub message: String,
    /// What the step expected (the contract claim), when it compared an answer with one.
    pub expectation: Option<String>,
    /// The answer that contradicts it, when a request was made.
    pub observed: Option<Observed>,
}

impl StepFailure {
    /// A verdict: the target answered `observed` where `expectation` holds.
    pub fn verdict(
        expectation: impl Into<String>,
        message: impl Into<String>,
        observed: Option<Observed>,
    ) -> Self {
        Self {
            kind: FailureKind::Verdict,
            message: message.into(),
            expectation: Some(expectation.into()),
            observed,
        }
    }

    /// A suite error with this message.
    pub fn suite_error(message: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::SuiteError,
            message: message.into(),
            expectation: None,
            observed: None,
        }
    }

    /// Fails the current step with this payload.
    pub fn raise(self) -> ! {
        std::panic::panic_any(self)
    }

    /// The payload of a caught panic, if it is a [`StepFailure`].
    pub fn of_payload(payload: &(dyn Any + Send)) -> Option<&StepFailure> {
        payload.downcast_ref::<StepFailure>()
    }
}

impl Observed {
    /// The answer of `exchange`, its error code read at `pointer`.
    pub fn of_exchange(exchange: &Exchange, pointer: &JsonPointer) -> Self {
        match &exchange.outcome {
            Ok(r) => {
                let json: Option<Value> = serde_json::from_slice(&r.body).ok();
                let code = json
                    .as_ref()
                    .and_then(|v| pointer.lookup(v))
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    });
                let body_shape = match &json {
                    Some(v) => json_shape(v),
                    None => shape(&String::from_utf8_lossy(&r.body), TEXT_SHAPE_MAX),
                };
                Self {
                    status: Some(r.status),
                    code,
                    body_shape,
                }
            }
            Err(why) => Self {
                status: None,
                code: None,
                body_shape: shape(&why.to_string(), TEXT_SHAPE_MAX),
            },
        }
    }

    /// Whether the target accepted the request (a 2xx answer).
    pub fn accepted(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// One line: `HTTP 500, error code "INTERNAL"`, `HTTP 200 (ACCEPTED)`, `no response (…)`.
    pub fn describe(&self) -> String {
        match self.status {
            None => format!("no response ({})", self.body_shape),
            Some(s) => {
                let mut out = format!("HTTP {s}");
                if self.accepted() {
                    out.push_str(" (ACCEPTED)");
                }
                match &self.code {
                    Some(c) => out.push_str(&format!(", error code {c:?}")),
                    None if s >= 400 => out.push_str(", no error code"),
                    None => {}
                }
                out
            }
        }
    }
}

/// Longest shape of a text body or a string value inside a JSON body.
const TEXT_SHAPE_MAX: usize = 160;
const JSON_STRING_SHAPE_MAX: usize = 60;
/// Longest shape of a JSON body.
const JSON_SHAPE_MAX: usize = 240;

/// The shape of a JSON body: its structure with keys kept, string values [`shape`]d, numbers
/// as `#`, at most three elements of an array.
pub fn json_shape(v: &Value) -> String {
    let mut out = String::new();
    write_json_shape(v, &mut out);
    cap(out, JSON_SHAPE_MAX)
}

fn write_json_shape(v: &Value, out: &mut String) {
    match v {
        Value::Null | Value::Bool(_) => out.push_str(&v.to_string()),
        Value::Number(_) => out.push('#'),
        Value::String(s) => {
            out.push_str(&Value::String(shape(s, JSON_STRING_SHAPE_MAX)).to_string());
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().take(3).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_shape(item, out);
            }
            if items.len() > 3 {
                out.push_str(",…");
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(shape(k, JSON_STRING_SHAPE_MAX)).to_string());
                out.push(':');
                write_json_shape(item, out);
            }
            out.push('}');
        }
    }
}

/// `text` with what varies between requests blanked: quoted values become `"…"`/`'…'`, digit
/// runs `#`, hex runs (8+ characters with a digit) `<hex>`, JWT-like words (`eyJ…`) `<token>`,
/// long words with digits (ids, UUIDs, base64) `<id>`; whitespace collapsed, cut at `max`
/// characters.
pub fn shape(text: &str, max: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' {
            // a quoted value: up to the closing quote on the same line (at most 200 chars)
            let close = chars[i + 1..]
                .iter()
                .take(200)
                .position(|&d| d == c || d == '\n');
            if let Some(n) = close
                && chars[i + 1 + n] == c
            {
                out.push(c);
                out.push('…');
                out.push(c);
                i += n + 2;
                continue;
            }
            out.push(c);
            i += 1;
        } else if is_word(c) {
            let start = i;
            while i < chars.len() && is_word(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            out.push_str(&word_shape(&word));
        } else if c.is_whitespace() {
            if !out.ends_with(' ') && !out.is_empty() {
                out.push(' ');
            }
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    cap(out.trim_end().to_owned(), max)
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

fn word_shape(word: &str) -> String {
    let has_digit = word.chars().any(|c| c.is_ascii_digit());
    if word.chars().all(|c| c.is_ascii_digit()) {
        "#".to_owned()
    } else if word.starts_with("eyJ") && word.len() >= 10 {
        "<token>".to_owned()
    } else if has_digit && word.len() >= 8 && word.chars().all(|c| c.is_ascii_hexdigit()) {
        "<hex>".to_owned()
    } else if has_digit && word.len() >= 16 {
        "<id>".to_owned()
    } else {
        let mut out = String::new();
        for c in word.chars() {
            if c.is_ascii_digit() {
                if !out.ends_with('#') {
                    out.push('#');
                }
            } else {
                out.push(c);
            }
        }
        out
    }
}

fn cap(s: String, max: usize) -> String {
    if s.chars().count() <= max {
        return s;
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::evidence::Response;
    use std::time::Duration;

    fn exchange(outcome: Result<(u16, &str), &str>) -> Exchange {
        Exchange {
            method: "GET".into(),
            url: "http://127.0.0.1:1/api/content".into(),
            request_headers: Vec::new(),
            token: None,
            outcome: outcome
                .map(|(status, body)| Response {
                    status,
                    headers: Vec::new(),
                    body: body.as_bytes().to_vec(),
                    body_truncated: false,
                })
                .map_err(|e| crate::net::target::TransportError::Timeout(e.to_owned())),
            elapsed: Duration::from_millis(1),
        }
    }

    fn pointer() -> JsonPointer {
        crate::profile::Profile::default().error_code_pointer
    }

    #[test]
    fn the_same_bug_on_different_attacks_has_one_shape() {
        let a = Observed::of_exchange(
            &exchange(Ok((
                500,
                r#"{"error":{"code":"INTERNAL","message":"kid \"../../etc/passwd\" not found (req 1234)"}}"#,
            ))),
            &pointer(),
        );
        let b = Observed::of_exchange(
            &exchange(Ok((
                500,
                r#"{"error":{"code":"INTERNAL","message":"kid \"' OR 1=1 --\" not found (req 98)"}}"#,
            ))),
            &pointer(),
        );
        assert_eq!(a, b);
        assert_eq!(a.status, Some(500));
        assert_eq!(a.code.as_deref(), Some("INTERNAL"));
        assert_eq!(
            a.body_shape,
            r#"{"error":{"code":"INTERNAL","message":"kid \"…\" not found (req #)"}}"#
        );
        assert_eq!(a.describe(), r#"HTTP 500, error code "INTERNAL""#);
    }

    #[test]
    fn different_answers_have_different_observations() {
        let ok = Observed::of_exchange(&exchange(Ok((200, r#"{"ok":true}"#))), &pointer());
        let wrong_code = Observed::of_exchange(
            &exchange(Ok((401, r#"{"error":{"code":"TOKEN_EXPIRED"}}"#))),
            &pointer(),
        );
        assert!(ok.accepted() && !wrong_code.accepted());
        assert_ne!(ok, wrong_code);
        assert_eq!(ok.describe(), "HTTP 200 (ACCEPTED)");
        assert_eq!(wrong_code.code.as_deref(), Some("TOKEN_EXPIRED"));
    }

    #[test]
    fn no_response_is_observed_too() {
        let o = Observed::of_exchange(&exchange(Err("after 10000 ms")), &pointer());
        assert_eq!(o.status, None);
        assert_eq!(o.describe(), "no response (timeout error: after # ms)");
        assert!(!o.accepted());
    }

    #[test]
    fn shapes_blank_what_varies() {
        assert_eq!(
            shape(
                "token eyJhbGciOiJIUzI1NiJ9 kid 550e8400-e29b-41d4-a716-446655440000 sha deadbeef01 at   12:30",
                200
            ),
            "token <token> kid <id> sha <hex> at #:#"
        );
        assert_eq!(shape("unterminated \"quote", 200), "unterminated \"quote");
        assert_eq!(shape("x".repeat(10).as_str(), 4), "xxxx…");
        assert_eq!(shape("ES256 and RS256", 200), "ES# and RS#");
    }

    #[test]
    fn the_payload_survives_a_panic() {
        let caught = std::panic::catch_unwind(|| {
            StepFailure::verdict("401", "expected: 401", None).raise();
        });
        let payload = caught.expect_err("raise panics");
        let f = StepFailure::of_payload(payload.as_ref()).expect("a StepFailure");
        assert_eq!(f.kind, FailureKind::Verdict);
        assert_eq!(f.expectation.as_deref(), Some("401"));
        assert!(StepFailure::of_payload(&"text").is_none());
    }
}
