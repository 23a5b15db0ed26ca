//! Seeded defects (feature `seeded-defects`): real-world verifier bugs the reference API can
//! switch on, so the conformance suite can prove it catches each one. Never enable in production.

use std::fmt;
use std::str::FromStr;

macro_rules! defects {
    ($($(#[$doc:meta])* $variant:ident => $name:literal, rows [$($row:literal),+ $(,)?], $desc:literal;)*) => {
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

            /// One line saying what goes wrong (`xauth-reference --list-defects`).
            pub fn description(self) -> &'static str {
                match self {
                    $(Defect::$variant => $desc,)*
                }
            }

            /// The attack-catalogue rows (`docs/catalogue.md`) whose scenarios must catch this
            /// defect; `properties` names the conformance suite's properties phase. The mutation
            /// gate counts a failure as a catch only in these rows.
            pub fn rows(self) -> &'static [&'static str] {
                match self {
                    $(Defect::$variant => &[$($row),+],)*
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
    AlgNone => "alg-none", rows ["A07", "A08"],
        "unsigned tokens with alg \"none\" are accepted";
    /// HS256 token whose kid names a JWKS key is verified with that key's SPKI PEM as the HMAC secret.
    Hs256PublicKey => "hs256-public-key", rows ["A10", "A45"],
        "HS256 tokens verified with the JWKS public key as the HMAC secret (alg confusion)";
    /// `exp` is not checked.
    IgnoreExp => "ignore-exp", rows ["A25", "A28", "A54", "A55"],
        "exp is not checked: expired tokens are accepted";
    /// A 15-minute leeway, whatever the configuration says.
    Leeway15m => "leeway-15m", rows ["A25", "A30", "A54", "A56"],
        "a 15-minute clock leeway, whatever is configured";
    /// `nbf` is not checked.
    IgnoreNbf => "ignore-nbf", rows ["A30", "A54", "properties"],
        "nbf is not checked: not-yet-valid tokens are accepted";
    /// `iss` is not checked.
    IgnoreIss => "ignore-iss", rows ["A32"],
        "iss is not checked: tokens of any issuer are accepted";
    /// `aud` is not checked.
    IgnoreAud => "ignore-aud", rows ["A31"],
        "aud is not checked: tokens for any audience are accepted";
    /// `exp` is checked (→ TOKEN_EXPIRED) before the signature.
    ExpiredBeforeSignature => "expired-before-signature", rows ["A26", "A27", "A52"],
        "exp is checked before the signature, so forged expired tokens get TOKEN_EXPIRED";
    /// The first JWKS key of the alg's family is used, whatever the kid.
    KidIgnored => "kid-ignored", rows ["A23", "A39", "A40", "A42", "A43", "A44"],
        "kid is ignored: the first key of the algorithm's family is used";
    /// A `jwk` header member is trusted as the verification key.
    TrustEmbeddedJwk => "trust-embedded-jwk", rows ["A14"],
        "a jwk header member is trusted as the verification key";
    /// A `jku` header URL is fetched (bounded) and its keys trusted.
    FollowJku => "follow-jku", rows ["A15", "A16"],
        "a jku header URL is fetched and its keys trusted";
    /// ES256 signatures with r = s = 0 are accepted (CVE-2022-21449).
    PsychicEcdsa => "psychic-ecdsa", rows ["A18", "A19"],
        "ES256 signatures with r = s = 0 are accepted (CVE-2022-21449)";
    /// DER-encoded ES256 signatures are accepted.
    DerEcdsa => "der-ecdsa", rows ["A20", "A21"],
        "DER-encoded ES256 signatures are accepted";
    /// `crit` is ignored.
    IgnoreCrit => "ignore-crit", rows ["A38"],
        "the crit header is ignored";
    /// The JWKS is fetched once and never again.
    JwksFetchOnce => "jwks-fetch-once", rows ["A39", "A40", "A41"],
        "the JWKS is fetched once and never refreshed";
    /// Every unknown kid refetches the JWKS (no cooldown).
    JwksNoCooldown => "jwks-no-cooldown", rows ["A39"],
        "every unknown kid refetches the JWKS (no cooldown)";
    /// The JWKS is fetched for every asymmetric token.
    JwksNoCache => "jwks-no-cache", rows ["A39", "A41"],
        "the JWKS is fetched for every token (no cache)";
    /// A token without `sub`, or whose `sub` is not a non-empty string, is accepted.
    AcceptMissingSub => "accept-missing-sub", rows ["A57"],
        "a token without sub, or whose sub is not a non-empty string, is accepted";
    /// Legacy HS256 tokens (the shared secret) skip the `iss` check; ES256/RS256 keep it.
    Hs256SkipsIss => "hs256-skips-iss", rows ["A11", "A32"],
        "legacy HS256 tokens skip the iss check (ES256/RS256 keep it)";
    /// The unknown-kid refetch cooldown is tracked per kid, so N distinct unknown kids cause
    /// about N JWKS fetches.
    JwksCooldownPerKid => "jwks-cooldown-per-kid", rows ["A39"],
        "the JWKS refetch cooldown is per unknown kid: N distinct unknown kids cause N fetches";
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
            assert!(!d.description().is_empty(), "{d}");
            for row in d.rows() {
                let catalogue = row.len() == 3
                    && row.starts_with('A')
                    && row[1..].bytes().all(|b| b.is_ascii_digit());
                assert!(catalogue || *row == "properties", "{d}: {row}");
            }
        }
        assert!("nope".parse::<Defect>().is_err());
    }
}
