//! Seeded MCP defects: real-world bugs of MCP servers acting as OAuth resource servers, so the
//! mutation gate can prove the suite catches each. Every branch is marked
//! `// SEEDED DEFECT <name>`; all are off unless named, and all need `--mcp`.

crate::defects::seeded_defects! {
    /// One seeded MCP defect.
    pub enum McpDefect {
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
}

/// The MCP defects switched on for one server. Empty by default.
pub type McpDefects = crate::defects::DefectSet<McpDefect>;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

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
