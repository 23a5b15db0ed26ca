//! Seeded defects (feature `seeded-defects`): real-world verifier bugs the reference API can
//! switch on, so the conformance suite can prove it catches each one. Never enable in production.

use std::fmt;
use std::str::FromStr;

macro_rules! defects {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// One seeded verifier defect. Names (kebab-case) are stable: `xauth-reference --defect NAME`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Defect {
            $($(#[$doc])* $variant,)*
        }

        impl Defect {
            /// Every defect, in a stable order.
            pub const ALL: &'static [Defect] = &[$(Defect::$variant,)*];

            /// The stable kebab-case name.
            pub fn name(self) -> &'static str {
                match self {
                    $(Defect::$variant => $name,)*
                }
            }

            pub(crate) fn bit(self) -> u32 {
                1u32 << (self as u32)
            }
        }

        impl FromStr for Defect {
            type Err = UnknownDefect;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok(Defect::$variant),)*
                    _ => Err(UnknownDefect(s.chars().take(64).collect())),
                }
            }
        }
    };
}

defects! {
    /// Accept unsigned tokens with `alg: none` (any case).
    AlgNone => "alg-none",
    /// HS256 token whose kid names a JWKS key is verified with that key's SPKI PEM as the HMAC secret.
    Hs256PublicKey => "hs256-public-key",
    /// `exp` is not checked.
    IgnoreExp => "ignore-exp",
    /// A 15-minute leeway, whatever the configuration says.
    Leeway15m => "leeway-15m",
    /// `nbf` is not checked.
    IgnoreNbf => "ignore-nbf",
    /// `iss` is not checked.
    IgnoreIss => "ignore-iss",
    /// `aud` is not checked.
    IgnoreAud => "ignore-aud",
    /// `exp` is checked (→ TOKEN_EXPIRED) before the signature.
    ExpiredBeforeSignature => "expired-before-signature",
    /// The first JWKS key of the alg's family is used, whatever the kid.
    KidIgnored => "kid-ignored",
    /// A `jwk` header member is trusted as the verification key.
    TrustEmbeddedJwk => "trust-embedded-jwk",
    /// A `jku` header URL is fetched (bounded) and its keys trusted.
    FollowJku => "follow-jku",
    /// ES256 signatures with r = s = 0 are accepted (CVE-2022-21449).
    PsychicEcdsa => "psychic-ecdsa",
    /// DER-encoded ES256 signatures are accepted.
    DerEcdsa => "der-ecdsa",
    /// `crit` is ignored.
    IgnoreCrit => "ignore-crit",
    /// The JWKS is fetched once and never again.
    JwksFetchOnce => "jwks-fetch-once",
    /// Every unknown kid refetches the JWKS (no cooldown).
    JwksNoCooldown => "jwks-no-cooldown",
    /// The JWKS is fetched for every asymmetric token.
    JwksNoCache => "jwks-no-cache",
    /// A token without `sub`, or whose `sub` is not a non-empty string, is accepted.
    AcceptMissingSub => "accept-missing-sub",
    /// Legacy HS256 tokens (the shared secret) skip the `iss` check; ES256/RS256 keep it.
    Hs256SkipsIss => "hs256-skips-iss",
    /// The unknown-kid refetch cooldown is tracked per kid, so N distinct unknown kids cause
    /// about N JWKS fetches.
    JwksCooldownPerKid => "jwks-cooldown-per-kid",
}

impl fmt::Display for Defect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A defect name that is not in [`Defect::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown verifier defect {0:?}")]
pub struct UnknownDefect(pub String);

/// A set of switched-on defects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DefectSet(u32);

impl DefectSet {
    pub(crate) fn insert(&mut self, d: Defect) {
        self.0 |= d.bit();
    }
    pub(crate) fn has(self, d: Defect) -> bool {
        self.0 & d.bit() != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(Defect::ALL.len(), 20);
        assert!(Defect::ALL.len() <= 32, "DefectSet is a u32 bit set");
        for d in Defect::ALL {
            assert_eq!(d.to_string().parse::<Defect>(), Ok(*d));
        }
        assert!("nope".parse::<Defect>().is_err());
    }
}
