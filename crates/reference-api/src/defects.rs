//! Seeded defects: real-world auth bugs the service can be started with (`--defect NAME`), so
//! the conformance suite's mutation gate can prove it catches each one.
//!
//! Verifier-side defects live in `xauth-verifier` (feature `seeded-defects`) and are only passed
//! through. Service-side defects are the branches in this file, each marked
//! `// SEEDED DEFECT <name>`. All are off by default; the only way to switch one on is the
//! command-line flag (or [`crate::Config::defects`] in-process), and the server logs a loud
//! warning at start when any is on.

use std::collections::BTreeSet;
use std::str::FromStr;
use std::time::Duration;

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use xauth_verifier::axum::bearer_token;
use xauth_verifier::{Defect, Rejection};

use crate::error::ApiError;

/// Declares one family of seeded defects: the enum, its stable names, one-line descriptions,
/// catalogue rows, `FromStr`, `Display` and [`Named`]. Used by the service, PAT and MCP
/// families, so each family is a list, not code.
macro_rules! seeded_defects {
    ($(#[$edoc:meta])* $vis:vis enum $enum:ident {
        $($(#[$doc:meta])* $variant:ident => $name:literal, rows [$($row:literal),+ $(,)?], $desc:literal;)*
    }) => {
        $(#[$edoc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $enum {
            $($(#[$doc])* $variant,)*
        }

        impl $enum {
            /// Every defect of the family, in a stable order.
            pub const ALL: &'static [$enum] = &[$($enum::$variant,)*];

            /// The stable kebab-case name.
            pub fn name(self) -> &'static str {
                match self { $($enum::$variant => $name,)* }
            }

            /// One line saying what goes wrong.
            pub fn description(self) -> &'static str {
                match self { $($enum::$variant => $desc,)* }
            }

            /// The attack-catalogue rows whose scenarios must catch it (see
            /// [`DefectInfo::rows`](crate::defects::DefectInfo::rows)).
            pub fn rows(self) -> &'static [&'static str] {
                match self { $($enum::$variant => &[$($row),+],)* }
            }
        }

        impl std::str::FromStr for $enum {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                match s { $($name => Ok($enum::$variant),)* _ => Err(()) }
            }
        }

        impl std::fmt::Display for $enum {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl $crate::defects::Named for $enum {
            fn name(self) -> &'static str {
                $enum::name(self)
            }
        }
    };
}
pub(crate) use seeded_defects;

/// A seeded defect with a stable name (every family declared with `seeded_defects!`).
pub trait Named: Copy + Ord + FromStr {
    /// The stable kebab-case name.
    fn name(self) -> &'static str;
}

/// The defects of one family switched on for one server. Empty by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefectSet<D: Ord>(BTreeSet<D>);

impl<D: Ord> Default for DefectSet<D> {
    fn default() -> Self {
        Self(BTreeSet::new())
    }
}

impl<D: Named> DefectSet<D> {
    /// No defects.
    pub fn none() -> Self {
        Self::default()
    }

    /// Picks this family's names out of a `--defect` list, ignoring every other name (each
    /// family parses its own).
    ///
    /// ```
    /// use xauth_reference::pat::{PatDefect, PatDefects};
    /// let d = PatDefects::from_names(["alg-none", "pat-ignore-expiry"]);
    /// assert!(d.has(PatDefect::IgnoreExpiry));
    /// assert_eq!(d.names(), vec!["pat-ignore-expiry"]);
    /// ```
    pub fn from_names<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self(
            names
                .into_iter()
                .filter_map(|n| n.as_ref().parse().ok())
                .collect(),
        )
    }

    /// Switches one defect on.
    pub fn insert(&mut self, d: D) {
        self.0.insert(d);
    }

    /// Whether a defect is on.
    pub fn has(&self, d: D) -> bool {
        self.0.contains(&d)
    }

    /// Whether none is on.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Names of the defects switched on.
    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|d| d.name()).collect()
    }
}

seeded_defects! {
    /// One seeded service-side defect.
    pub enum ServiceDefect {
        /// `TOKEN_EXPIRED` is answered as `UNAUTHENTICATED`.
        ExpiredAsUnauthenticated => "expired-as-unauthenticated", rows ["A25"],
            "an expired token is answered 401 UNAUTHENTICATED instead of 401 TOKEN_EXPIRED";
        /// A policy failure is answered 401 instead of 403.
        ForbiddenAs401 => "forbidden-as-401", rows ["A34"],
            "a valid token without the required role is answered 401 instead of 403 FORBIDDEN";
        /// No rate limiting at all.
        NoRateLimit => "no-rate-limit", rows ["A53"],
            "no rate limiting: floods are never answered 429";
        /// 429 without `Retry-After`.
        NoRetryAfter => "no-retry-after", rows ["A53"],
            "429 RATE_LIMITED is sent without a Retry-After header";
        /// The rate limit is keyed on the unverified token's `sub`.
        RateLimitUnverifiedSub => "rate-limit-unverified-sub", rows ["A53"],
            "rate limiting keys on the sub of the unverified token, so forged tokens throttle their victim";
        /// A token that is not base64url/JSON answers 500.
        Garbage500 => "garbage-500", rows ["A02", "A35", "A36", "A37", "A46", "A47", "A49", "A50"],
            "a bearer token that is not base64url JSON crashes the handler (500 instead of 401)";
        /// The refresh-token grant is proxied without its body.
        ProxyDropsBody => "proxy-drops-body", rows ["A25"],
            "the token proxy forwards grant_type=refresh_token requests without their body";
        /// The token proxy has no upstream timeout.
        ProxyNoTimeout => "proxy-no-timeout", rows ["A25"],
            "the token proxy waits for a hanging auth server indefinitely (no upstream timeout)";
        /// An unreachable auth server escapes as an internal error.
        ProxyDown500 => "proxy-down-500", rows ["A25"],
            "the token proxy answers 500 instead of 502/504 when the auth server cannot be reached";
        /// Only the exact scheme `Bearer` is recognised.
        SchemeCaseSensitive => "scheme-case-sensitive", rows ["A62"],
            "the Authorization scheme is matched case-sensitively: bearer/BEARER with a valid token get 401";
    }
}

/// One entry of the defect registry printed by `--list-defects`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefectInfo {
    /// The stable name.
    pub name: &'static str,
    /// `"verifier"`, `"service"`, `"pat"` (personal access tokens; needs `--pats`) or `"mcp"`
    /// (the MCP endpoint; needs `--mcp`).
    pub side: &'static str,
    /// What goes wrong.
    pub description: &'static str,
    /// The attack-catalogue rows (`docs/catalogue.md`, `A07` …) whose scenarios must catch it;
    /// `properties` names the suite's properties phase. The mutation gate counts a failing
    /// scenario as a catch only when it is tagged with one of them.
    pub rows: &'static [&'static str],
}

/// Every seeded defect, verifier-side first, in a stable order.
///
/// ```
/// let all = xauth_reference::defects::registry();
/// assert!(all.iter().any(|d| d.name == "alg-none" && d.side == "verifier"));
/// assert!(all.iter().any(|d| d.name == "garbage-500" && d.side == "service"));
/// ```
pub fn registry() -> Vec<DefectInfo> {
    let verifier = Defect::ALL.iter().map(|d| DefectInfo {
        name: d.name(),
        side: "verifier",
        description: d.description(),
        rows: d.rows(),
    });
    let service = ServiceDefect::ALL.iter().map(|d| DefectInfo {
        name: d.name(),
        side: "service",
        description: d.description(),
        rows: d.rows(),
    });
    let pat = crate::pat::PatDefect::ALL.iter().map(|d| DefectInfo {
        name: d.name(),
        side: "pat",
        description: d.description(),
        rows: d.rows(),
    });
    let mcp = crate::mcp::McpDefect::ALL.iter().map(|d| DefectInfo {
        name: d.name(),
        side: "mcp",
        description: d.description(),
        rows: d.rows(),
    });
    verifier.chain(service).chain(pat).chain(mcp).collect()
}

/// A defect name that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown defect {name:?}; valid names: {}", valid_names().join(", "))]
pub struct UnknownDefect {
    /// The offending name (truncated to 64 characters).
    pub name: String,
}

/// All valid defect names.
pub fn valid_names() -> Vec<&'static str> {
    registry().into_iter().map(|d| d.name).collect()
}

/// The defects switched on for one server. Empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Defects {
    verifier: Vec<Defect>,
    service: BTreeSet<ServiceDefect>,
    pat: crate::pat::PatDefects,
    mcp: crate::mcp::McpDefects,
}

impl Defects {
    /// No defects.
    pub fn none() -> Self {
        Self::default()
    }

    /// Parses defect names (verifier or service side).
    ///
    /// ```
    /// use xauth_reference::defects::{Defects, ServiceDefect};
    /// let d = Defects::parse(["no-rate-limit", "alg-none"]).unwrap();
    /// assert!(d.has(ServiceDefect::NoRateLimit));
    /// assert!(Defects::parse(["nope"]).is_err());
    /// ```
    pub fn parse<I, S>(names: I) -> Result<Self, UnknownDefect>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut out = Defects::default();
        for name in names {
            out.insert(name.as_ref())?;
        }
        Ok(out)
    }

    /// Switches on one defect by name.
    pub fn insert(&mut self, name: &str) -> Result<(), UnknownDefect> {
        if let Ok(s) = name.parse::<ServiceDefect>() {
            self.service.insert(s);
        } else if let Ok(p) = name.parse::<crate::pat::PatDefect>() {
            self.pat.insert(p);
        } else if let Ok(m) = name.parse::<crate::mcp::McpDefect>() {
            self.mcp.insert(m);
        } else if let Ok(v) = name.parse::<Defect>() {
            if !self.verifier.contains(&v) {
                self.verifier.push(v);
            }
        } else {
            return Err(UnknownDefect {
                name: name.chars().take(64).collect(),
            });
        }
        Ok(())
    }

    /// Whether a service defect is on.
    pub fn has(&self, d: ServiceDefect) -> bool {
        self.service.contains(&d)
    }

    /// The verifier defects to pass to `VerifierConfig::defect`.
    pub fn verifier(&self) -> &[Defect] {
        &self.verifier
    }

    /// The PAT defects (they take effect with `--pats`).
    pub fn pat(&self) -> &crate::pat::PatDefects {
        &self.pat
    }

    /// The MCP defects (they take effect with `--mcp`, through [`crate::mcp::McpConfig`]).
    pub fn mcp(&self) -> &crate::mcp::McpDefects {
        &self.mcp
    }

    /// Whether no defect at all is on.
    pub fn is_empty(&self) -> bool {
        self.verifier.is_empty()
            && self.service.is_empty()
            && self.pat.is_empty()
            && self.mcp.is_empty()
    }

    /// Names of every defect switched on.
    pub fn names(&self) -> Vec<&'static str> {
        self.verifier
            .iter()
            .map(|d| d.name())
            .chain(self.service.iter().map(|d| d.name()))
            .chain(self.pat.names())
            .chain(self.mcp.names())
            .collect()
    }

    // ---- the service-side defect branches ------------------------------------------------

    /// The request's bearer token: scheme `Bearer` in any case (RFC 7235 §2.1), or only the
    /// exact `Bearer` under the defect.
    pub(crate) fn bearer_token<'h>(&self, headers: &'h HeaderMap) -> Result<&'h str, Rejection> {
        let token = bearer_token(headers)?;
        if self.has(ServiceDefect::SchemeCaseSensitive)
            && !headers
                .get(AUTHORIZATION)
                .is_some_and(|v| v.as_bytes().starts_with(b"Bearer "))
        {
            // SEEDED DEFECT scheme-case-sensitive: `bearer`/`BEARER` are not recognised.
            return Err(Rejection::BadAuthorizationHeader);
        }
        Ok(token)
    }

    /// Maps a `TOKEN_EXPIRED` answer.
    pub(crate) fn expired_error(&self) -> ApiError {
        if self.has(ServiceDefect::ExpiredAsUnauthenticated) {
            // SEEDED DEFECT expired-as-unauthenticated
            return ApiError::Unauthenticated {
                token_presented: true,
            };
        }
        ApiError::TokenExpired
    }

    /// Maps a policy failure.
    pub(crate) fn forbidden_error(&self) -> ApiError {
        if self.has(ServiceDefect::ForbiddenAs401) {
            // SEEDED DEFECT forbidden-as-401
            return ApiError::Unauthenticated {
                token_presented: true,
            };
        }
        ApiError::Forbidden
    }

    /// Whether requests are rate limited at all.
    pub(crate) fn rate_limiting(&self) -> bool {
        // SEEDED DEFECT no-rate-limit (when on)
        !self.has(ServiceDefect::NoRateLimit)
    }

    /// Whether 429 answers carry `Retry-After`.
    pub(crate) fn send_retry_after(&self) -> bool {
        // SEEDED DEFECT no-retry-after (when on)
        !self.has(ServiceDefect::NoRetryAfter)
    }

    /// The subject to rate-limit on *before* verification: `Some` only under the defect.
    pub(crate) fn unverified_sub(&self, token: &str) -> Option<String> {
        if !self.has(ServiceDefect::RateLimitUnverifiedSub) {
            return None;
        }
        // SEEDED DEFECT rate-limit-unverified-sub: trusts the payload before the signature.
        let payload = token.split('.').nth(1)?;
        let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        let sub = value.get("sub")?.as_str()?;
        (!sub.is_empty() && sub.len() <= 256).then(|| sub.to_owned())
    }

    /// `Some(500)` for a token that is not three base64url JSON segments, under the defect.
    pub(crate) fn garbage_error(&self, token: &str) -> Option<ApiError> {
        if !self.has(ServiceDefect::Garbage500) {
            return None;
        }
        // SEEDED DEFECT garbage-500: a decoding failure escapes as an internal error.
        let mut parts = token.split('.');
        let ok = (|| {
            let header = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
            let payload = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
            parts.next()?;
            serde_json::from_slice::<serde_json::Value>(&header).ok()?;
            serde_json::from_slice::<serde_json::Value>(&payload).ok()?;
            Some(())
        })();
        ok.is_none().then_some(ApiError::Internal)
    }

    /// The body forwarded to the auth server's token endpoint.
    pub(crate) fn proxied_body(&self, grant_type: Option<&str>, body: Bytes) -> Bytes {
        if self.has(ServiceDefect::ProxyDropsBody) && grant_type == Some("refresh_token") {
            // SEEDED DEFECT proxy-drops-body
            return Bytes::new();
        }
        body
    }

    /// The token proxy's upstream timeout.
    pub(crate) fn upstream_timeout(&self, configured: Duration) -> Duration {
        if self.has(ServiceDefect::ProxyNoTimeout) {
            // SEEDED DEFECT proxy-no-timeout: as good as none (a client gives up long before).
            return Duration::from_secs(24 * 3600);
        }
        configured
    }

    /// What the client gets when forwarding to the auth server failed.
    pub(crate) fn upstream_failure(&self, error: ApiError) -> ApiError {
        if self.has(ServiceDefect::ProxyDown500) && matches!(error, ApiError::UpstreamUnavailable) {
            // SEEDED DEFECT proxy-down-500: the fetch error is not handled.
            return ApiError::Internal;
        }
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_has_every_contract_name_once() {
        let names = valid_names();
        for n in [
            "alg-none",
            "hs256-public-key",
            "ignore-exp",
            "leeway-15m",
            "ignore-nbf",
            "ignore-iss",
            "ignore-aud",
            "expired-before-signature",
            "kid-ignored",
            "trust-embedded-jwk",
            "follow-jku",
            "psychic-ecdsa",
            "der-ecdsa",
            "ignore-crit",
            "jwks-fetch-once",
            "jwks-no-cooldown",
            "jwks-no-cache",
            "expired-as-unauthenticated",
            "forbidden-as-401",
            "no-rate-limit",
            "no-retry-after",
            "rate-limit-unverified-sub",
            "garbage-500",
            "proxy-drops-body",
            "proxy-no-timeout",
            "proxy-down-500",
            "accept-missing-sub",
            "hs256-skips-iss",
            "jwks-cooldown-per-kid",
            "scheme-case-sensitive",
        ] {
            assert_eq!(names.iter().filter(|x| **x == n).count(), 1, "{n}");
        }
        assert!(
            registry()
                .iter()
                .all(|d| d.description != "a seeded verifier defect")
        );
    }

    #[test]
    fn unknown_name_lists_valid_ones() {
        let err = Defects::parse(["bogus"]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("bogus") && msg.contains("garbage-500") && msg.contains("alg-none"));
    }

    #[test]
    fn branches_are_inert_by_default() {
        let d = Defects::none();
        assert_eq!(d.expired_error(), ApiError::TokenExpired);
        assert_eq!(d.forbidden_error(), ApiError::Forbidden);
        assert!(d.rate_limiting() && d.send_retry_after());
        assert_eq!(d.unverified_sub("a.eyJzdWIiOiJ4In0.c"), None);
        assert_eq!(d.garbage_error("null"), None);
        assert_eq!(
            d.proxied_body(Some("refresh_token"), Bytes::from_static(b"{}")),
            Bytes::from_static(b"{}")
        );
        for scheme in ["Bearer", "bearer", "BEARER"] {
            assert_eq!(
                d.bearer_token(&auth(&format!("{scheme} a.b.c"))),
                Ok("a.b.c")
            );
        }
    }

    fn auth(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, value.parse().unwrap());
        h
    }

    #[test]
    fn branches_fire_when_on() {
        let d = Defects::parse(ServiceDefect::ALL.iter().map(|d| d.name())).unwrap();
        assert_eq!(
            d.unverified_sub("a.eyJzdWIiOiJ4In0.c").as_deref(),
            Some("x")
        );
        assert_eq!(d.garbage_error("null"), Some(ApiError::Internal));
        assert_eq!(d.garbage_error("e30.e30.x"), None);
        assert!(
            d.proxied_body(Some("refresh_token"), Bytes::from_static(b"{}"))
                .is_empty()
        );
        assert!(
            !d.proxied_body(Some("password"), Bytes::from_static(b"{}"))
                .is_empty()
        );
        assert_eq!(d.bearer_token(&auth("Bearer a.b.c")), Ok("a.b.c"));
        for scheme in ["bearer", "BEARER", "bEaReR"] {
            assert_eq!(
                d.bearer_token(&auth(&format!("{scheme} a.b.c"))),
                Err(Rejection::BadAuthorizationHeader)
            );
        }
        assert_eq!(
            d.bearer_token(&HeaderMap::new()),
            Err(Rejection::MissingToken)
        );
    }
}
