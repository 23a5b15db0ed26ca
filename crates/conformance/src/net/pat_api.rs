//! The implementation's PAT management API, as the profile's `[pat]` section describes it:
//! create, list, revoke and rotate, each one bounded request recorded as an [`Exchange`].
//!
//! Nothing here judges the answers: the steps do (a management call that does not answer as
//! declared is a verdict on the target, not a suite error).

use serde_json::Value;

use crate::net::evidence::Exchange;
use crate::net::target::TargetClient;
use crate::profile::pat::{Call, Method, Pat, TemplateError};

/// A token the implementation issued: its id and its secret (the whole bearer string).
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedPat {
    /// The id the management calls name it by.
    pub id: String,
    /// The bearer string, shown once at creation.
    pub secret: String,
}

impl std::fmt::Debug for IssuedPat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedPat")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// What a create or rotate call asks for.
#[derive(Debug, Clone)]
pub struct TokenRequest<'a> {
    /// The token's name.
    pub name: &'a str,
    /// Its scopes.
    pub scopes: &'a [&'a str],
    /// Its lifetime, in seconds.
    pub ttl_seconds: u64,
}

/// A client for the management calls of one base URL.
pub struct PatApi<'a> {
    /// The HTTP client.
    pub client: &'a TargetClient,
    /// The base URL of the implementation (target or replica).
    pub base: &'a url::Url,
    /// The profile's `[pat]` section.
    pub pat: &'a Pat,
}

impl PatApi<'_> {
    async fn send(
        &self,
        method: Method,
        path: String,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> Exchange {
        let url = crate::net::urls::join(self.base, &path);
        let mut headers = Vec::new();
        if let Some(b) = bearer {
            headers.push((
                "authorization".to_owned(),
                format!("Bearer {b}").into_bytes(),
            ));
        }
        let body = body.map(|b| {
            headers.push(("content-type".to_owned(), b"application/json".to_vec()));
            b.to_string().into_bytes()
        });
        self.client
            .send_with_body(
                method.as_reqwest(),
                url,
                headers,
                body,
                bearer.map(str::to_owned),
            )
            .await
    }

    /// `create` with `bearer` (a session JWT, a PAT, or none).
    pub async fn create(
        &self,
        bearer: Option<&str>,
        req: &TokenRequest<'_>,
    ) -> Result<Exchange, TemplateError> {
        let call = &self.pat.create;
        let body = call.render_body(req.name, req.scopes, req.ttl_seconds, now_unix())?;
        Ok(self
            .send(call.method, call.path.clone(), bearer, body)
            .await)
    }

    /// `list` with `bearer` (always a `GET`).
    pub async fn list(&self, bearer: Option<&str>) -> Exchange {
        self.send(Method::Get, self.pat.list.path.clone(), bearer, None)
            .await
    }

    /// `revoke` token `id` with `bearer`.
    pub async fn revoke(&self, bearer: Option<&str>, id: &str) -> Result<Exchange, TemplateError> {
        let call = &self.pat.revoke;
        let body = call.render_body("xauth-revoke", &[], 60, now_unix())?;
        Ok(self
            .send(call.method, call.render_path(id), bearer, body)
            .await)
    }

    /// `rotate` token `id` with `bearer`.
    pub async fn rotate(
        &self,
        bearer: Option<&str>,
        id: &str,
        req: &TokenRequest<'_>,
    ) -> Result<Exchange, TemplateError> {
        let call = &self.pat.rotate;
        let body = call.render_body(req.name, req.scopes, req.ttl_seconds, now_unix())?;
        Ok(self
            .send(call.method, call.render_path(id), bearer, body)
            .await)
    }
}

/// The token a create or rotate answer issued: a 2xx whose body carries a string at the call's
/// token pointer and a string or number at its id pointer.
pub fn issued(ex: &Exchange, call: &Call) -> Option<IssuedPat> {
    let r = ex.outcome.as_ref().ok()?;
    if !(200..300).contains(&r.status) {
        return None;
    }
    let body = r.json()?;
    let secret = call.token_pointer.lookup(&body)?.as_str()?.to_owned();
    let id = match call.id_pointer.lookup(&body)? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!secret.is_empty() && !id.is_empty()).then_some(IssuedPat { id, secret })
}

/// The token objects of a list answer (2xx, an array at the items pointer).
pub fn listed<'v>(body: &'v Value, pat: &Pat) -> Option<&'v Vec<Value>> {
    pat.list.items_pointer.lookup(body)?.as_array()
}

/// The object of token `id` in a list answer.
pub fn listed_item<'v>(body: &'v Value, pat: &Pat, id: &str) -> Option<&'v Value> {
    listed(body, pat)?
        .iter()
        .find(|item| match pat.list.id_pointer.lookup(item) {
            Some(Value::String(s)) => s == id,
            Some(Value::Number(n)) => n.to_string() == id,
            _ => false,
        })
}

/// When a listed token was last used, in Unix seconds: `Ok(None)` for `null` or absent (never
/// used), `Err` for a value that is neither RFC 3339 text nor a number.
pub fn last_used(item: &Value, pat: &Pat) -> Result<Option<i64>, String> {
    match pat.list.last_used_pointer.lookup(item) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .map(|f| Some(f as i64))
            .ok_or_else(|| format!("{n} is not a time")),
        Some(Value::String(s)) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.timestamp()))
            .map_err(|e| format!("{s:?} is not RFC 3339: {e}")),
        Some(other) => Err(format!("{other} is not a time")),
    }
}

fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}
