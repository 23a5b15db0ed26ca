//! Typed step parameters: the words a feature may use in a parameter position, each an enum
//! whose regex is the whole vocabulary, so that a typo in a step or an Examples row leaves the
//! step undefined and fails the step self-test (`every_step_is_defined_exactly_once`) instead of
//! a scenario at run time. Usable as `{family}`, `{jwks_entry}`, `{jwks_fault}` in cucumber
//! expressions, and as typed arguments of regex steps (through `FromStr`).

use std::str::FromStr;

/// The issuer key a valid token is minted with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, cucumber::Parameter)]
#[param(name = "family", regex = "ES256|RS256|HS256")]
pub enum Family {
    /// The issuer's ES256 (P-256) key.
    Es256,
    /// The issuer's RS256 key.
    Rs256,
    /// The legacy HS256 secret.
    Hs256,
}

impl Family {
    /// The signing algorithm of the family's tokens (its name).
    pub fn alg(self) -> &'static str {
        self.as_str()
    }

    /// `ES256`, `RS256` or `HS256`.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Es256 => "ES256",
            Family::Rs256 => "RS256",
            Family::Hs256 => "HS256",
        }
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Family {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ES256" => Ok(Family::Es256),
            "RS256" => Ok(Family::Rs256),
            "HS256" => Ok(Family::Hs256),
            other => Err(format!("unknown key family {other:?}")),
        }
    }
}

/// What `jwks_entries.feature` publishes next to the usable control key (defined beside the
/// forging it selects, so `forge` never depends on the scenario layer).
pub use crate::forge::unusable::JwksEntry;

/// How the issuer's JWKS fails (`jwks_resilience.feature`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, cucumber::Parameter)]
#[param(
    name = "jwks_fault",
    regex = r"answer 200 with malformed JSON|answer \d+|drop the connection|answer after \d+ seconds|redirect to the attacker listener"
)]
pub enum JwksFault {
    /// `answer N`: an HTTP status.
    Status(u16),
    /// `answer 200 with malformed JSON`.
    Malformed,
    /// `drop the connection`.
    Drop,
    /// `answer after N seconds`.
    DelaySeconds(u64),
    /// `redirect to the attacker listener`.
    RedirectToAttacker,
}

impl FromStr for JwksFault {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let number = |t: &str| t.parse::<u64>().map_err(|e| format!("{s:?}: {e}"));
        match s {
            "answer 200 with malformed JSON" => Ok(JwksFault::Malformed),
            "drop the connection" => Ok(JwksFault::Drop),
            "redirect to the attacker listener" => Ok(JwksFault::RedirectToAttacker),
            _ => {
                if let Some(secs) = s
                    .strip_prefix("answer after ")
                    .and_then(|r| r.strip_suffix(" seconds"))
                {
                    Ok(JwksFault::DelaySeconds(number(secs)?))
                } else if let Some(status) = s.strip_prefix("answer ") {
                    let status = number(status)?;
                    u16::try_from(status)
                        .map(JwksFault::Status)
                        .map_err(|e| format!("{s:?}: {e}"))
                } else {
                    Err(format!("unknown JWKS fault {s:?}"))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_jwks_entry_phrase_parses_back() {
        for e in JwksEntry::ALL {
            assert_eq!(e.phrase().parse::<JwksEntry>(), Ok(e));
        }
        assert!("an RSA key of 512 bits".parse::<JwksEntry>().is_err());
    }

    #[test]
    fn faults_parse() {
        assert_eq!("answer 500".parse(), Ok(JwksFault::Status(500)));
        assert_eq!(
            "answer 200 with malformed JSON".parse(),
            Ok(JwksFault::Malformed)
        );
        assert_eq!(
            "answer after 20 seconds".parse(),
            Ok(JwksFault::DelaySeconds(20))
        );
        assert_eq!("drop the connection".parse(), Ok(JwksFault::Drop));
        assert!("answer lots".parse::<JwksFault>().is_err());
    }
}

/// A route of the profile (`routes.protected`, `routes.permission.path`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, cucumber::Parameter)]
#[param(name = "route", regex = "protected|permission")]
pub enum Route {
    /// `routes.protected`.
    Protected,
    /// `routes.permission.path`.
    Permission,
}

impl FromStr for Route {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "protected" => Ok(Route::Protected),
            "permission" => Ok(Route::Permission),
            other => Err(format!("unknown route {other:?}")),
        }
    }
}

/// A PAT management call made with something other than a session (`personal_access_tokens`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, cucumber::Parameter)]
#[param(
    name = "management_call",
    regex = "create a PAT|list the PATs|rotate the PAT|revoke the PAT"
)]
pub enum ManagementCall {
    /// `pat.create`.
    Create,
    /// `pat.list`.
    List,
    /// `pat.rotate`.
    Rotate,
    /// `pat.revoke`.
    Revoke,
}

impl FromStr for ManagementCall {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "create a PAT" => Ok(ManagementCall::Create),
            "list the PATs" => Ok(ManagementCall::List),
            "rotate the PAT" => Ok(ManagementCall::Rotate),
            "revoke the PAT" => Ok(ManagementCall::Revoke),
            other => Err(format!("unknown management call {other:?}")),
        }
    }
}

/// How a live PAT is altered or wrapped (defined beside the forging).
pub use crate::forge::pat::{PatVariant, PatWrapping};

/// Which claims an MCP access token gets wrong (`mcp.feature`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, cucumber::Parameter)]
#[param(
    name = "mcp_token",
    regex = "for another resource|without an audience|with the audience \"authenticated\"|with the audience of the resource|from a client that is not allowed|without a client_id"
)]
pub enum McpToken {
    /// `aud` names another MCP server.
    OtherResource,
    /// No `aud` member.
    NoAudience,
    /// `aud: "authenticated"` (Supabase's), whatever the mode.
    Authenticated,
    /// `aud` is this server's resource identifier.
    Resource,
    /// `client_id` of a client the server does not allow.
    ForeignClient,
    /// No `client_id` member (a plain session token).
    NoClientId,
}

impl FromStr for McpToken {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "for another resource" => McpToken::OtherResource,
            "without an audience" => McpToken::NoAudience,
            "with the audience \"authenticated\"" => McpToken::Authenticated,
            "with the audience of the resource" => McpToken::Resource,
            "from a client that is not allowed" => McpToken::ForeignClient,
            "without a client_id" => McpToken::NoClientId,
            other => return Err(format!("unknown MCP token {other:?}")),
        })
    }
}
