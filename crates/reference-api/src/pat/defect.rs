//! Seeded PAT defects: real-world personal-access-token bugs the service can be started with, so
//! the mutation gate can prove the suite catches each. Every branch is marked
//! `// SEEDED DEFECT <name>`; all are off unless named.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

macro_rules! pat_defects {
    ($($(#[$doc:meta])* $variant:ident => $name:literal, rows [$($row:literal),+ $(,)?], $desc:literal;)*) => {
        /// One seeded PAT defect.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum PatDefect {
            $($(#[$doc])* $variant,)*
        }

        impl PatDefect {
            /// Every PAT defect, in a stable order.
            pub const ALL: &'static [PatDefect] = &[$(PatDefect::$variant,)*];

            /// The stable kebab-case name.
            pub fn name(self) -> &'static str {
                match self { $(PatDefect::$variant => $name,)* }
            }

            /// One line saying what goes wrong.
            pub fn description(self) -> &'static str {
                match self { $(PatDefect::$variant => $desc,)* }
            }

            /// The attack-catalogue rows whose scenarios must catch it.
            pub fn rows(self) -> &'static [&'static str] {
                match self { $(PatDefect::$variant => &[$($row),+],)* }
            }
        }

        impl FromStr for PatDefect {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                match s { $($name => Ok(PatDefect::$variant),)* _ => Err(()) }
            }
        }
    };
}

pat_defects! {
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

impl fmt::Display for PatDefect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The PAT defects switched on for one server. Empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatDefects(BTreeSet<PatDefect>);

impl PatDefects {
    /// No defects.
    pub fn none() -> Self {
        Self::default()
    }

    /// Picks the PAT defect names out of a `--defect` list, ignoring every other name (the
    /// service and verifier defects are parsed by [`crate::defects::Defects`]).
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
        PatDefects(
            names
                .into_iter()
                .filter_map(|n| n.as_ref().parse().ok())
                .collect(),
        )
    }

    /// Switches one defect on.
    pub fn insert(&mut self, d: PatDefect) {
        self.0.insert(d);
    }

    /// Whether a defect is on.
    pub fn has(&self, d: PatDefect) -> bool {
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
