//! Seeded PAT defects: real-world personal-access-token bugs the service can be started with, so
//! the mutation gate can prove the suite catches each. Every branch is marked
//! `// SEEDED DEFECT <name>`; all are off unless named.

crate::defects::seeded_defects! {
    /// One seeded PAT defect.
    pub enum PatDefect {
        /// The CRC32 checksum is not verified and not part of the stored digest: every well-shaped
        /// string costs a database lookup, and a live token with a mistyped checksum is accepted.
        NoChecksum => "pat-no-checksum", rows ["A66"],
            "the PAT checksum is neither verified nor hashed: a live token with another checksum is accepted";
        /// Validated PATs are cached in-process, so a revocation is not seen until the entry ages out.
        RevocationCached => "pat-revocation-cached", rows ["A64"],
            "validated PATs are cached in-process for 5 minutes: a revoked PAT keeps working";
        /// `expires_at` is not checked.
        IgnoreExpiry => "pat-ignore-expiry", rows ["A67"],
            "expired PATs are accepted";
        /// The token's scopes are not checked against the route.
        ScopeNotEnforced => "pat-scope-not-enforced", rows ["A68"],
            "PAT scopes are not enforced: any PAT reaches every route its owner could";
        /// The PAT's scopes grant the role the route needs, whatever the owner may do.
        OutranksOwner => "pat-outranks-owner", rows ["A68"],
            "a PAT's scopes grant access beyond its owner's role (admin:read works for a plain user)";
        /// A PAT is accepted by the management endpoints.
        MintsPats => "pat-mints-pats", rows ["A69"],
            "a PAT can create, list, rotate and revoke PATs";
        /// The owner is not checked at use.
        OwnerDeletionIgnored => "pat-owner-deletion-ignored", rows ["A68"],
            "PATs keep working after their owner is deleted";
        /// The list endpoint returns the secret.
        ListLeaksSecret => "pat-list-leaks-secret", rows ["A65"],
            "the list endpoint returns each token's secret";
        /// `?access_token=` is accepted for PATs.
        QueryString => "pat-query-string", rows ["A71"],
            "a PAT in the access_token query parameter is accepted";
        /// A PAT-prefixed JWT is verified as a JWT (dispatch on shape, not prefix).
        JwtConfusion => "pat-jwt-confusion", rows ["A70"],
            "a token with the PAT prefix followed by a JWT is accepted as that JWT";
        /// The rate limit is keyed per token, so minting tokens buys budget.
        PerTokenRateLimit => "pat-per-token-rate-limit", rows ["A72"],
            "PAT requests are rate limited per token instead of per owner";
    }
}

/// The PAT defects switched on for one server. Empty by default.
pub type PatDefects = crate::defects::DefectSet<PatDefect>;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = BTreeSet::new();
        for d in PatDefect::ALL {
            assert_eq!(d.name().parse::<PatDefect>(), Ok(*d));
            assert!(d.name().starts_with("pat-"));
            assert!(seen.insert(d.name()));
        }
        assert_eq!(PatDefect::ALL.len(), 11);
        // Listed once each, and no clash with the service or verifier names.
        let all = crate::defects::registry();
        for d in PatDefect::ALL {
            let listed: Vec<_> = all.iter().filter(|i| i.name == d.name()).collect();
            assert_eq!(listed.len(), 1, "{d}");
            assert_eq!(listed[0].side, "pat");
            assert_eq!(listed[0].rows, d.rows());
        }
        for info in all.iter().filter(|i| i.side != "pat") {
            assert!(info.name.parse::<PatDefect>().is_err(), "{}", info.name);
        }
    }
}
