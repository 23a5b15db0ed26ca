//! The profile's `[pat]` section: how the implementation's personal access tokens are managed
//! and what it declares about them (`features/personal_access_tokens.feature`).
//!
//! The management calls are described, not assumed: a method, a path (with `{id}` for the
//! token's id), a JSON body template and RFC 6901 pointers to what the answer carries. A body
//! template may use these placeholders, each replaced by a bare value (quote it in the template
//! when the API wants a string):
//!
//! | placeholder | replaced by |
//! |---|---|
//! | `{name}` | a token name the suite chooses (`xauth-` and letters, digits, `-`) |
//! | `{scopes}` | a JSON array of scope names, e.g. `["content:read"]` |
//! | `{scope_string}` | the scope names separated by spaces |
//! | `{ttl_seconds}` | the lifetime asked for, in seconds |
//! | `{ttl_days}` | the lifetime in whole days, rounded up |
//! | `{expires_at}` | now + lifetime, RFC 3339 UTC (`2026-12-06T10:00:00Z`) |
//!
//! ```
//! use xauth_conformance::profile::Profile;
//!
//! let p = Profile::from_toml_str("[pat]\nenabled = true\n", "p.toml").unwrap();
//! let body = p.pat.create.render_body("xauth-a", &["content:read"], 60, 1_800_000_000).unwrap();
//! assert_eq!(body.unwrap()["expires_in_seconds"], 60);
//! assert!(p.pat.short_ttl().is_some());
//! ```

use std::fmt;
use std::num::NonZeroU64;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::JsonPointer;

/// Longest lifetime a profile may declare for the shortest PAT the expiry scenarios create:
/// above it they are skipped (a run must not wait minutes for one token to expire).
pub const MAX_SHORT_TTL_SECONDS: u64 = 30;

/// The shortest lifetime the expiry scenarios ask for, whatever the profile allows: the token
/// must still be alive when the first request after its creation arrives.
pub const MIN_SHORT_TTL_SECONDS: u64 = 5;

/// Personal access tokens as the implementation declares them. Off by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Pat {
    /// Whether the implementation has PATs; false skips the PAT family. Default false.
    pub enabled: bool,
    /// The fixed prefix every PAT starts with (how a PAT is told from a JWT). Default `xpat_`.
    pub prefix: String,
    /// Creating a token with a user's session JWT.
    pub create: Call,
    /// Listing the caller's tokens.
    pub list: List,
    /// Revoking one token (`{id}` in the path).
    pub revoke: Call,
    /// Rotating one token: a new token, the old one revoked (`{id}` in the path; path `""`
    /// declares that there is no rotation, and its scenario is skipped).
    pub rotate: Call,
    /// The scope that grants `routes.protected`. Default `content:read`.
    pub protected_scope: String,
    /// The scope that grants `routes.permission.path`. Default `admin:read`.
    pub permission_scope: String,
    /// Fields merged into the issuer admin API's create-user body for an owner who may use the
    /// permission route (the user record's counterpart of `routes.permission.grant_claims`).
    /// Default `{role = "service_role"}`.
    pub privileged_owner: Map<String, Value>,
    /// The longest lifetime a token may be created with, in seconds. Default 365 days.
    pub max_ttl_seconds: NonZeroU64,
    /// The shortest lifetime a token may be created with, in seconds. Default 1. The expiry
    /// scenarios create a token this short (at least 5 s, so that a slow creation cannot eat its whole lifetime) and wait it out; they are skipped
    /// when it is above 30 s or the create body has no `{ttl_seconds}` or `{expires_at}`.
    pub min_ttl_seconds: NonZeroU64,
    /// How long after a revocation (or rotation) the old token may still work, on any replica,
    /// in seconds. Default 0: the next request is refused.
    pub revocation_propagation_seconds: u64,
    /// How long after its owner is deleted a token may still work, in seconds (an owner lookup
    /// cache). Default 30.
    pub owner_check_seconds: u64,
    /// The error code of an expired PAT's 401 (the contract's `TOKEN_EXPIRED` says "refresh
    /// it", which a PAT cannot do). Default `PAT_EXPIRED`.
    pub expired_code: String,
    /// What PAT requests are rate-limited on: `owner` (one budget per user across all their
    /// tokens and sessions) or `token`. Default `owner`.
    pub rate_limit_keying: PatRateKeying,
}

impl Default for Pat {
    fn default() -> Self {
        let mut owner = Map::new();
        owner.insert("role".into(), Value::String("service_role".into()));
        Self {
            enabled: false,
            prefix: "xpat_".to_owned(),
            create: Call {
                method: Method::Post,
                path: "/api/account/tokens".to_owned(),
                body: r#"{"name":"{name}","scopes":{scopes},"expires_in_seconds":{ttl_seconds}}"#
                    .to_owned(),
                token_pointer: pointer("/data/token"),
                id_pointer: pointer("/data/id"),
            },
            list: List::default(),
            revoke: Call {
                method: Method::Delete,
                path: "/api/account/tokens/{id}".to_owned(),
                body: String::new(),
                token_pointer: pointer(""),
                id_pointer: pointer(""),
            },
            rotate: Call {
                method: Method::Post,
                path: "/api/account/tokens/{id}/rotate".to_owned(),
                body: String::new(),
                token_pointer: pointer("/data/token"),
                id_pointer: pointer("/data/id"),
            },
            protected_scope: "content:read".to_owned(),
            permission_scope: "admin:read".to_owned(),
            privileged_owner: owner,
            max_ttl_seconds: NonZeroU64::new(365 * 86_400).unwrap_or(NonZeroU64::MIN),
            min_ttl_seconds: NonZeroU64::MIN,
            revocation_propagation_seconds: 0,
            owner_check_seconds: 30,
            expired_code: "PAT_EXPIRED".to_owned(),
            rate_limit_keying: PatRateKeying::Owner,
        }
    }
}

fn pointer(s: &str) -> JsonPointer {
    JsonPointer(s.to_owned())
}

impl Pat {
    /// The lifetime the expiry scenarios create a token with, when the profile makes one
    /// short enough possible (see [`Pat::min_ttl_seconds`]).
    pub fn short_ttl(&self) -> Option<u64> {
        let ttl = self.min_ttl_seconds.get().max(MIN_SHORT_TTL_SECONDS);
        let body = &self.create.body;
        let expressible = body.contains("{ttl_seconds}") || body.contains("{expires_at}");
        (expressible && ttl <= MAX_SHORT_TTL_SECONDS).then_some(ttl)
    }

    /// Whether the profile declares a rotation call.
    pub fn has_rotation(&self) -> bool {
        !self.rotate.path.is_empty()
    }

    /// Checks an enabled section; `Err((field, message))` names the field.
    pub(super) fn validate(&self) -> Result<(), (&'static str, String)> {
        if !self.enabled {
            return Ok(());
        }
        if self.prefix.is_empty()
            || self.prefix.len() > 32
            || !self.prefix.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err((
                "pat.prefix",
                "must be 1 to 32 visible ASCII characters".into(),
            ));
        }
        if self.prefix.starts_with("eyJ") {
            return Err((
                "pat.prefix",
                "must not start like a JWT (eyJ): PATs are told from JWTs by the prefix".into(),
            ));
        }
        for (field, call, needs_id) in [
            ("pat.create", &self.create, false),
            ("pat.revoke", &self.revoke, true),
            ("pat.rotate", &self.rotate, true),
        ] {
            if field == "pat.rotate" && !self.has_rotation() {
                continue;
            }
            call.validate(needs_id).map_err(|m| (field, m))?;
        }
        if self.create.token_pointer.as_str().is_empty() {
            return Err((
                "pat.create.token_pointer",
                "must point at the new token in the answer".into(),
            ));
        }
        let body = &self.create.body;
        if !["{ttl_seconds}", "{ttl_days}", "{expires_at}"]
            .iter()
            .any(|p| body.contains(p))
        {
            return Err((
                "pat.create.body",
                "must carry the lifetime: {ttl_seconds}, {ttl_days} or {expires_at}".into(),
            ));
        }
        check_path(&self.list.path).map_err(|m| ("pat.list.path", m))?;
        for (field, scope) in [
            ("pat.protected_scope", &self.protected_scope),
            ("pat.permission_scope", &self.permission_scope),
        ] {
            if scope.is_empty() || scope.len() > 128 || scope.chars().any(char::is_control) {
                return Err((field, "must be 1 to 128 characters".into()));
            }
        }
        if self.min_ttl_seconds > self.max_ttl_seconds {
            return Err((
                "pat.min_ttl_seconds",
                "is larger than pat.max_ttl_seconds".into(),
            ));
        }
        if self.expired_code.is_empty() {
            return Err(("pat.expired_code", "must not be empty".into()));
        }
        Ok(())
    }
}

/// What PAT requests are rate-limited on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatRateKeying {
    /// One budget per owner, across all their tokens (and their session JWTs).
    Owner,
    /// One budget per token (minting tokens buys budget; the shared-budget scenario is skipped).
    Token,
}

/// An HTTP method of a management call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
}

impl Method {
    /// The reqwest method.
    pub fn as_reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_reqwest().as_str())
    }
}

/// One management call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Call {
    /// The method.
    pub method: Method,
    /// The path (`{id}`: the token's id), joined to the target base URL.
    pub path: String,
    /// The JSON body template (see the module docs); `""`: no body.
    #[serde(default)]
    pub body: String,
    /// Pointer to the token's secret in the answer (create, rotate).
    #[serde(default = "empty_pointer")]
    pub token_pointer: JsonPointer,
    /// Pointer to the token's id in the answer (create, rotate).
    #[serde(default = "empty_pointer")]
    pub id_pointer: JsonPointer,
}

fn empty_pointer() -> JsonPointer {
    pointer("")
}

/// Why a template could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the body template does not give JSON once its placeholders are replaced: {0}")]
pub struct TemplateError(String);

impl Call {
    /// The path with `{id}` replaced (the id percent-encoded as one path segment).
    pub fn render_path(&self, id: &str) -> String {
        let id: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
        self.path.replace("{id}", &id)
    }

    /// The body for a token named `name` with `scopes` living `ttl_seconds` from `now_unix`;
    /// `None` when the call has no body.
    pub fn render_body(
        &self,
        name: &str,
        scopes: &[&str],
        ttl_seconds: u64,
        now_unix: i64,
    ) -> Result<Option<Value>, TemplateError> {
        if self.body.trim().is_empty() {
            return Ok(None);
        }
        let expires = now_unix.saturating_add(i64::try_from(ttl_seconds).unwrap_or(i64::MAX));
        let expires_at = chrono::DateTime::from_timestamp(expires, 0)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default();
        let text = self
            .body
            .replace("{name}", name)
            .replace("{scopes}", &Value::from(scopes.to_vec()).to_string())
            .replace("{scope_string}", &scopes.join(" "))
            .replace("{ttl_seconds}", &ttl_seconds.to_string())
            .replace("{ttl_days}", &ttl_seconds.div_ceil(86_400).to_string())
            .replace("{expires_at}", &expires_at);
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| TemplateError(format!("{e}: {text}")))
    }

    fn validate(&self, needs_id: bool) -> Result<(), String> {
        check_path(&self.path)?;
        if needs_id && !self.path.contains("{id}") {
            return Err(format!(
                "path {:?} must name the token with {{id}}",
                self.path
            ));
        }
        self.render_body("xauth-check", &["a:b"], 60, 0)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// Listing the caller's tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct List {
    /// The `GET` path. Default `/api/account/tokens`.
    pub path: String,
    /// Pointer to the array of token objects in the answer. Default `/data`.
    pub items_pointer: JsonPointer,
    /// Pointer, inside one token object, to its id. Default `/id`.
    pub id_pointer: JsonPointer,
    /// Pointer, inside one token object, to when it was last used (RFC 3339 text, Unix
    /// seconds, or `null` before its first use); `""`: not shown (the scenario is skipped).
    /// Default `/last_used_at`.
    pub last_used_pointer: JsonPointer,
}

impl Default for List {
    fn default() -> Self {
        Self {
            path: "/api/account/tokens".to_owned(),
            items_pointer: pointer("/data"),
            id_pointer: pointer("/id"),
            last_used_pointer: pointer("/last_used_at"),
        }
    }
}

fn check_path(path: &str) -> Result<(), String> {
    super::RoutePath::new(path).map(|_| ())
}

impl<'de> Deserialize<'de> for Method {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.to_ascii_uppercase().as_str() {
            "GET" => Ok(Method::Get),
            "POST" => Ok(Method::Post),
            "PUT" => Ok(Method::Put),
            "PATCH" => Ok(Method::Patch),
            "DELETE" => Ok(Method::Delete),
            _ => Err(serde::de::Error::custom(format!(
                "unknown method {s:?} (GET, POST, PUT, PATCH or DELETE)"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profile;

    #[test]
    fn templates_render_every_placeholder() {
        let call = Call {
            body: r#"{"n":"{name}","s":{scopes},"t":"{scope_string}","sec":{ttl_seconds},"d":{ttl_days},"at":"{expires_at}"}"#.into(),
            ..Pat::default().create
        };
        let body = call
            .render_body("xauth-x", &["a:b", "c:d"], 86_401, 0)
            .unwrap()
            .unwrap();
        assert_eq!(body["n"], "xauth-x");
        assert_eq!(body["s"], serde_json::json!(["a:b", "c:d"]));
        assert_eq!(body["t"], "a:b c:d");
        assert_eq!(body["sec"], 86_401);
        assert_eq!(body["d"], 2);
        assert_eq!(body["at"], "1970-01-02T00:00:01Z");
        assert_eq!(
            Pat::default().revoke.render_path("a/b"),
            "/api/account/tokens/a%2Fb"
        );
    }

    #[test]
    fn an_enabled_section_is_checked_and_errors_name_the_field() {
        let err = |text: &str| {
            Profile::from_toml_str(text, "p.toml")
                .unwrap_err()
                .to_string()
        };
        let e = err("[pat]\nenabled = true\nprefix = \"eyJ\"\n");
        assert!(e.starts_with("p.toml:3: pat.prefix: "), "{e}");
        let e = err(
            "[pat]\nenabled = true\n[pat.create]\nmethod = \"POST\"\npath = \"/t\"\nbody = '{\"name\":\"{name}\"}'\ntoken_pointer = \"/t\"\n",
        );
        assert!(
            e.contains("pat.create.body: must carry the lifetime"),
            "{e}"
        );
        let e = err("[pat]\nenabled = true\n[pat.revoke]\nmethod = \"DELETE\"\npath = \"/t\"\n");
        assert!(
            e.contains("pat.revoke: path \"/t\" must name the token"),
            "{e}"
        );
        let e = err("[pat]\n[pat.create]\nmethod = \"FETCH\"\npath = \"/t\"\n");
        assert!(e.contains("unknown method"), "{e}");
        // Off: not checked beyond its types.
        assert!(Profile::from_toml_str("[pat]\nprefix = \"eyJ\"\n", "p.toml").is_ok());
    }

    #[test]
    fn short_ttl_needs_seconds_in_the_template() {
        let mut pat = Pat::default();
        assert_eq!(pat.short_ttl(), Some(MIN_SHORT_TTL_SECONDS));
        pat.create.body = r#"{"name":"{name}","scopes":{scopes},"days":{ttl_days}}"#.into();
        assert_eq!(pat.short_ttl(), None);
        pat = Pat {
            min_ttl_seconds: NonZeroU64::new(31).unwrap(),
            ..Pat::default()
        };
        assert_eq!(pat.short_ttl(), None);
    }
}
