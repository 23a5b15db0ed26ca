//! Seeded MCP defects: real-world bugs of MCP servers acting as OAuth resource servers, so the
//! mutation gate can prove the suite catches each. Every branch is marked
//! `// SEEDED DEFECT <name>`; all are off unless named, and all need `--mcp`.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

macro_rules! mcp_defects {
    ($($(#[$doc:meta])* $variant:ident => $name:literal, rows [$($row:literal),+ $(,)?], $desc:literal;)*) => {
        /// One seeded MCP defect.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum McpDefect {
            $($(#[$doc])* $variant,)*
        }

        impl McpDefect {
            /// Every MCP defect, in a stable order.
            pub const ALL: &'static [McpDefect] = &[$(McpDefect::$variant,)*];

            /// The stable kebab-case name.
            pub fn name(self) -> &'static str {
                match self { $(McpDefect::$variant => $name,)* }
            }

            /// One line saying what goes wrong.
            pub fn description(self) -> &'static str {
                match self { $(McpDefect::$variant => $desc,)* }
            }

            /// The attack-catalogue rows whose scenarios must catch it.
            pub fn rows(self) -> &'static [&'static str] {
                match self { $(McpDefect::$variant => &[$($row),+],)* }
            }
        }

        impl FromStr for McpDefect {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                match s { $($name => Ok(McpDefect::$variant),)* _ => Err(()) }
            }
        }
    };
}

mcp_defects! {
    /// The 401 challenge does not point at the protected resource metadata.
    NoResourceMetadata => "mcp-no-resource-metadata", rows ["A74"],
        "the MCP 401 challenge lacks resource_metadata, so clients cannot discover the authorization server";
    /// The metadata names another resource than the server's.
    MetadataResourceMismatch => "mcp-metadata-resource-mismatch", rows ["A74"],
        "the protected resource metadata's resource is the base URL, not the MCP endpoint's resource id";
    /// The audience is not checked on /mcp.
    AnyAudience => "mcp-any-audience", rows ["A75"],
        "the MCP endpoint accepts a token for any audience";
    /// The client_id allow-list is not checked.
    ClientIdIgnored => "mcp-client-id-ignored", rows ["A75"],
        "the MCP endpoint does not check the token's client_id against the allow-list";
    /// An OpenID Connect ID token (aud = the client id) is accepted as an access token.
    IdTokenAccepted => "mcp-id-token-accepted", rows ["A76"],
        "the MCP endpoint accepts a token whose aud is an allowed client id (an ID token)";
    /// The client's token is passed through to the upstream.
    TokenPassthrough => "mcp-token-passthrough", rows ["A77"],
        "the upstream_status tool forwards the client's Authorization header to the upstream";
    /// `?access_token=` is accepted on /mcp.
    QueryToken => "mcp-query-token", rows ["A78"],
        "the MCP endpoint accepts a token in the access_token query parameter";
    /// The Origin header is not checked.
    OriginIgnored => "mcp-origin-ignored", rows ["A79"],
        "the MCP endpoint does not check the Origin header (DNS rebinding, cross-site requests)";
}

impl fmt::Display for McpDefect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The MCP defects switched on for one server. Empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct McpDefects(BTreeSet<McpDefect>);

impl McpDefects {
    /// No defects.
    pub fn none() -> Self {
        Self::default()
    }

    /// Picks the MCP defect names out of a `--defect` list, ignoring every other name.
    ///
    /// ```
    /// use xauth_reference::mcp::{McpDefect, McpDefects};
    /// let d = McpDefects::from_names(["alg-none", "mcp-query-token"]);
    /// assert!(d.has(McpDefect::QueryToken));
    /// assert_eq!(d.names(), vec!["mcp-query-token"]);
    /// ```
    pub fn from_names<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        McpDefects(
            names
                .into_iter()
                .filter_map(|n| n.as_ref().parse().ok())
                .collect(),
        )
    }

    /// Switches one defect on.
    pub fn insert(&mut self, d: McpDefect) {
        self.0.insert(d);
    }

    /// Whether a defect is on.
    pub fn has(&self, d: McpDefect) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_listed_once() {
        let mut seen = BTreeSet::new();
        for d in McpDefect::ALL {
            assert_eq!(d.name().parse::<McpDefect>(), Ok(*d));
            assert!(d.name().starts_with("mcp-"));
            assert!(seen.insert(d.name()));
        }
        assert_eq!(McpDefect::ALL.len(), 8);
        let all = crate::defects::registry();
        for d in McpDefect::ALL {
            let listed: Vec<_> = all.iter().filter(|i| i.name == d.name()).collect();
            assert_eq!(listed.len(), 1, "{d}");
            assert_eq!(listed[0].side, "mcp");
            assert_eq!(listed[0].rows, d.rows());
        }
        for info in all.iter().filter(|i| i.side != "mcp") {
            assert!(info.name.parse::<McpDefect>().is_err(), "{}", info.name);
        }
    }
}
