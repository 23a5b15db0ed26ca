//! Evidence: every request a scenario sends and what came back, and the failure report a failed
//! expectation panics with (request with secrets redacted, token decoded, response, expectation,
//! and a `curl` command that reproduces it).

use std::fmt::Write as _;
use std::time::Duration;

use crate::forge::jws;

/// Longest header value or body shown in a report (the rest is elided).
const SHOW_MAX: usize = 2000;

/// One request and its outcome.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The HTTP method sent (`GET`, `POST`, ...).
    pub method: String,
    /// The full request URL.
    pub url: String,
    /// Request headers as sent (not redacted; redaction happens when reporting).
    pub request_headers: Vec<(String, String)>,
    /// The bearer token carried, if any (for decoding in the report).
    pub token: Option<String>,
    /// The response, or why none was received.
    pub outcome: Result<Response, TransportError>,
    /// Wall-clock time from sending to the full response (or the transport error).
    pub elapsed: Duration,
}

/// A received response (body capped by `http::MAX_BODY_BYTES`).
#[derive(Debug, Clone)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// Response headers in the order received.
    pub headers: Vec<(String, String)>,
    /// The response body, possibly cut at the cap.
    pub body: Vec<u8>,
    /// Whether `body` was cut at the cap.
    pub body_truncated: bool,
}

impl Response {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// Secret values that must never appear in a report, with the name shown instead.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    entries: Vec<(String, &'static str)>,
}

impl Secrets {
    /// Adds a secret (ignored when shorter than 8 bytes: too short to redact meaningfully).
    pub fn add(&mut self, value: &str, name: &'static str) {
        if value.len() >= 8 && !self.entries.iter().any(|(v, _)| v == value) {
            self.entries.push((value.to_owned(), name));
            // longest first, so a secret containing another is replaced whole
            self.entries.sort_by_key(|e| std::cmp::Reverse(e.0.len()));
        }
    }

    /// `text` with every secret replaced by `<redacted NAME>`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (value, name) in &self.entries {
            out = out.replace(value, &format!("<redacted {name}>"));
        }
        out
    }

    /// `text` with every secret replaced by a shell variable `$NAME` (for curl lines).
    pub fn to_shell_vars(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (value, name) in &self.entries {
            out = out.replace(value, &format!("${{{name}}}"));
        }
        out
    }

    /// The names of the secrets occurring in `text`.
    pub fn names_in(&self, text: &str) -> Vec<&'static str> {
        self.entries
            .iter()
            .filter(|(v, _)| text.contains(v.as_str()))
            .map(|(_, n)| *n)
            .collect()
    }
}

fn elide(text: &str) -> String {
    if text.len() <= SHOW_MAX {
        return text.to_owned();
    }
    let mut cut = SHOW_MAX;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…(+{} bytes)", &text[..cut], text.len() - cut)
}

/// A header value with any token signature replaced (the signature of a test token is not a
/// secret, but it is noise; the curl line carries the full token).
fn redact_signatures(value: &str) -> String {
    value
        .split(' ')
        .map(|word| {
            let parts: Vec<&str> = word.split('.').collect();
            if parts.len() == 3 && !parts[2].is_empty() && parts[0].starts_with("eyJ") {
                format!(
                    "{}.{}.<signature {} chars>",
                    parts[0],
                    parts[1],
                    parts[2].len()
                )
            } else {
                word.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Single-quotes `s` for a POSIX shell; long runs of one repeated character become a
/// `$(head -c N /dev/zero | tr …)` expression so that huge headers stay reproducible.
fn shell_quote(s: &str) -> String {
    if s.len() > 4096 {
        // prefix + one repeated char
        let bytes = s.as_bytes();
        let last = bytes[bytes.len() - 1];
        let run = bytes.iter().rev().take_while(|&&b| b == last).count();
        if run > 1000 && last.is_ascii_graphic() && last != b'\'' {
            let prefix = &s[..s.len() - run];
            if prefix.len() <= 4096 {
                return format!(
                    "\"$(printf '%s' {})$(head -c {run} /dev/zero | tr '\\0' '{}')\"",
                    shell_quote(prefix),
                    last as char
                );
            }
        }
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl Exchange {
    /// A `curl` command that sends this request again (secrets as `$VARIABLES`).
    pub fn curl(&self, secrets: &Secrets) -> String {
        let mut cmd = format!("curl -sS -i -X {} {}", self.method, shell_quote(&self.url));
        for (name, value) in &self.request_headers {
            let line = format!("{name}: {value}");
            let quoted = shell_quote(&line);
            // secrets become "${VAR}" inside double quotes so the shell expands them
            let quoted = if secrets.names_in(&line).is_empty() {
                quoted
            } else {
                format!("\"{}\"", secrets.to_shell_vars(&line).replace('"', "\\\""))
            };
            write!(cmd, " -H {quoted}").ok();
        }
        cmd
    }

    /// The full human-readable record of this exchange.
    pub fn render(&self, secrets: &Secrets) -> String {
        let mut out = String::new();
        writeln!(out, "request:  {} {}", self.method, self.url).ok();
        for (name, value) in &self.request_headers {
            let shown = elide(&redact_signatures(&secrets.redact(value)));
            writeln!(out, "  {name}: {shown}").ok();
        }
        if let Some(token) = &self.token {
            match jws::describe(token) {
                Some((h, p)) => {
                    writeln!(out, "token header:  {}", elide(&secrets.redact(&h))).ok();
                    writeln!(out, "token payload: {}", elide(&secrets.redact(&p))).ok();
                }
                None => {
                    writeln!(out, "token (not a JWS): {}", elide(&secrets.redact(token))).ok();
                }
            }
        }
        match &self.outcome {
            Ok(r) => {
                writeln!(
                    out,
                    "response: {} (after {} ms)",
                    r.status,
                    self.elapsed.as_millis()
                )
                .ok();
                for (name, value) in &r.headers {
                    writeln!(out, "  {name}: {}", elide(value)).ok();
                }
                let body = String::from_utf8_lossy(&r.body);
                writeln!(
                    out,
                    "  body: {}{}",
                    elide(&secrets.redact(&body)),
                    if r.body_truncated {
                        " …(truncated by the suite)"
                    } else {
                        ""
                    }
                )
                .ok();
            }
            Err(e) => {
                writeln!(
                    out,
                    "response: none after {} ms: {e}",
                    self.elapsed.as_millis()
                )
                .ok();
            }
        }
        let curl = self.curl(secrets);
        let vars = secrets.names_in(
            &self
                .request_headers
                .iter()
                .map(|(_, v)| v.as_str())
                .collect::<String>(),
        );
        if vars.is_empty() {
            writeln!(out, "reproduce: {curl}").ok();
        } else {
            writeln!(out, "reproduce (set {}): {curl}", vars.join(", ")).ok();
        }
        out
    }
}

/// The panic message of a failed expectation: what was expected, how the token was built, and
/// the exchange(s) that contradict it.
pub fn failure_report(
    expectation: &str,
    token_recipe: &[String],
    exchanges: &[&Exchange],
    secrets: &Secrets,
) -> String {
    let mut out = format!("expected: {expectation}\n");
    if !token_recipe.is_empty() {
        writeln!(out, "token built by: {}", token_recipe.join(" → ")).ok();
    }
    for (i, ex) in exchanges.iter().enumerate() {
        if exchanges.len() > 1 {
            writeln!(out, "--- exchange {} of {}", i + 1, exchanges.len()).ok();
        }
        out.push_str(&ex.render(secrets));
    }
    out
}

/// Why no response came: the kind decides how a report groups it, the text says what happened.
/// `Display` is the text the evidence shows (`timeout error: …`, `connect error: …`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// No answer within the client's timeout.
    #[error("timeout error: {0}")]
    Timeout(String),
    /// The connection could not be opened (refused, unreachable).
    #[error("connect error: {0}")]
    Connect(String),
    /// The request failed once sent (the connection was closed without an answer, …).
    #[error("request error: {0}")]
    Request(String),
    /// Any other failure of the HTTP exchange.
    #[error("transport error: {0}")]
    Transport(String),
    /// A header name the suite was asked to send is not a valid HTTP header name.
    #[error("header name {name:?} cannot be sent: {detail}")]
    HeaderName {
        /// The name.
        name: String,
        /// Why it cannot be sent.
        detail: String,
    },
    /// A header value the suite was asked to send cannot go over HTTP.
    #[error("header value cannot be sent over HTTP: {0}")]
    HeaderValue(String),
    /// The suite itself could not send the request (not a verdict on the target).
    #[error("suite error: {0}")]
    Suite(String),
}

impl TransportError {
    /// Whether the suite, not the target, is the reason no response came.
    pub fn is_suite_error(&self) -> bool {
        matches!(self, TransportError::Suite(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(auth: &str) -> Exchange {
        Exchange {
            method: "GET".into(),
            url: "http://127.0.0.1:1/api/content".into(),
            request_headers: vec![("authorization".into(), auth.into())],
            token: auth.strip_prefix("Bearer ").map(str::to_owned),
            outcome: Ok(Response {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: br#"{"ok":true}"#.to_vec(),
                body_truncated: false,
            }),
            elapsed: Duration::from_millis(3),
        }
    }

    #[test]
    fn secrets_are_redacted_but_the_token_is_reproducible() {
        let mut secrets = Secrets::default();
        secrets.add("super-secret-service-role", "XAUTH_SERVICE_ROLE_KEY");
        let token = "eyJhbGciOiJub25lIn0.e30.c2lnbmF0dXJl";
        let report = failure_report(
            "401",
            &["a".into()],
            &[&exchange(&format!("Bearer {token}"))],
            &secrets,
        );
        assert!(report.contains("<signature 12 chars>"), "{report}");
        assert!(
            report.contains(&format!("'authorization: Bearer {token}'")),
            "{report}"
        );
        assert!(
            report.contains(r#"token header:  {"alg":"none"}"#),
            "{report}"
        );

        let ex = exchange("Bearer super-secret-service-role");
        let text = ex.render(&secrets);
        assert!(!text.contains("super-secret-service-role"), "{text}");
        assert!(text.contains("${XAUTH_SERVICE_ROLE_KEY}"), "{text}");
    }

    #[test]
    fn huge_headers_stay_reproducible() {
        let ex = exchange(&format!("Bearer {}", ".".repeat(100_000)));
        let curl = ex.curl(&Secrets::default());
        assert!(curl.len() < 300, "{curl}");
        assert!(curl.contains("head -c 100000"), "{curl}");
    }
}
