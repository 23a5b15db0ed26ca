//! Personal access tokens altered, reshaped or wrapped (`personal_access_tokens.feature`): the
//! strings an API must refuse although they start with, or carry, a live PAT.
//!
//! Only the declared prefix is known about the format; every change is made so that the
//! result can never be the token that was issued.
//!
//! ```
//! use xauth_conformance::forge::pat::PatVariant;
//! let t = PatVariant::LastCharChanged.apply("xpat_abc1", "xpat_");
//! assert_eq!(t, "xpat_abc2");
//! assert_eq!(PatVariant::PrefixAlone.apply("xpat_abc1", "xpat_"), "xpat_");
//! assert_eq!(PatVariant::UpperPrefix.apply("xpat_abc1", "xpat_"), "XPAT_abc1");
//! ```

use rand::Rng;
use rand::distributions::Alphanumeric;

use super::b64;

/// How a live PAT is altered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, cucumber::Parameter)]
#[param(
    name = "pat_variant",
    regex = "its last character changed|its last character cut off|one character added|its prefix in upper case|a random secret of the same length|its secret cut in half|its prefix alone|4000 more random characters|a NUL byte percent-encoded after it|non-ASCII characters after it|a dot and a base64url segment"
)]
pub enum PatVariant {
    /// The last character replaced by another of the same class.
    LastCharChanged,
    /// One character shorter.
    LastCharCutOff,
    /// One character longer.
    CharAdded,
    /// The prefix upper-cased (a case-insensitive prefix match is a second reading).
    UpperPrefix,
    /// The prefix followed by random alphanumerics, as long as the PAT.
    RandomSecret,
    /// The prefix and half of the rest.
    HalfSecret,
    /// The prefix only.
    PrefixAlone,
    /// 4000 random alphanumerics appended (a bounded header, still a large token).
    Long,
    /// `%00` appended.
    NulEncoded,
    /// Non-ASCII text appended (sent as raw UTF-8 header bytes).
    NonAscii,
    /// `.` and a base64url segment appended (a JWT's shape grafted on).
    DotSegment,
}

impl PatVariant {
    /// The variant of `token` (whose prefix is `prefix`).
    pub fn apply(self, token: &str, prefix: &str) -> String {
        let rest = token.strip_prefix(prefix).unwrap_or(token);
        match self {
            PatVariant::LastCharChanged => {
                let mut chars: Vec<char> = token.chars().collect();
                if let Some(last) = chars.last_mut() {
                    *last = other_char(*last);
                }
                chars.into_iter().collect()
            }
            PatVariant::LastCharCutOff => {
                let mut t = token.to_owned();
                t.pop();
                t
            }
            PatVariant::CharAdded => format!("{token}{}", other_char(last(token))),
            PatVariant::UpperPrefix => format!("{}{rest}", prefix.to_ascii_uppercase()),
            PatVariant::RandomSecret => format!("{prefix}{}", random(rest.chars().count())),
            PatVariant::HalfSecret => {
                let half: String = rest.chars().take(rest.chars().count() / 2).collect();
                format!("{prefix}{half}")
            }
            PatVariant::PrefixAlone => prefix.to_owned(),
            PatVariant::Long => format!("{token}{}", random(4000)),
            PatVariant::NulEncoded => format!("{token}%00"),
            PatVariant::NonAscii => format!("{token}\u{e9}\u{2603}"),
            PatVariant::DotSegment => format!("{token}.{}", b64::encode(br#"{"alg":"none"}"#)),
        }
    }

    /// The feature's words.
    pub fn phrase(self) -> &'static str {
        match self {
            PatVariant::LastCharChanged => "its last character changed",
            PatVariant::LastCharCutOff => "its last character cut off",
            PatVariant::CharAdded => "one character added",
            PatVariant::UpperPrefix => "its prefix in upper case",
            PatVariant::RandomSecret => "a random secret of the same length",
            PatVariant::HalfSecret => "its secret cut in half",
            PatVariant::PrefixAlone => "its prefix alone",
            PatVariant::Long => "4000 more random characters",
            PatVariant::NulEncoded => "a NUL byte percent-encoded after it",
            PatVariant::NonAscii => "non-ASCII characters after it",
            PatVariant::DotSegment => "a dot and a base64url segment",
        }
    }
}

impl std::str::FromStr for PatVariant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [
            PatVariant::LastCharChanged,
            PatVariant::LastCharCutOff,
            PatVariant::CharAdded,
            PatVariant::UpperPrefix,
            PatVariant::RandomSecret,
            PatVariant::HalfSecret,
            PatVariant::PrefixAlone,
            PatVariant::Long,
            PatVariant::NulEncoded,
            PatVariant::NonAscii,
            PatVariant::DotSegment,
        ]
        .into_iter()
        .find(|v| v.phrase() == s)
        .ok_or_else(|| format!("unknown PAT variant {s:?}"))
    }
}

/// How a live PAT is wrapped in a JWT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, cucumber::Parameter)]
#[param(
    name = "pat_wrapping",
    regex = "the payload of an unsigned JWT|the signature of a JWT with the user's claims"
)]
pub enum PatWrapping {
    /// `{"alg":"none"}` . base64url(PAT) . (empty).
    UnsignedPayload,
    /// A header and the user's claims, with base64url(PAT) as the signature.
    Signature,
}

impl PatWrapping {
    /// The wrapped token; `claims` is the JSON text of the user's claims.
    pub fn apply(self, token: &str, claims: &str) -> String {
        match self {
            PatWrapping::UnsignedPayload => format!(
                "{}.{}.",
                b64::encode(br#"{"alg":"none","typ":"JWT"}"#),
                b64::encode(token)
            ),
            PatWrapping::Signature => format!(
                "{}.{}.{}",
                b64::encode(br#"{"alg":"HS256","typ":"JWT"}"#),
                b64::encode(claims),
                b64::encode(token)
            ),
        }
    }
}

impl std::str::FromStr for PatWrapping {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "the payload of an unsigned JWT" => Ok(PatWrapping::UnsignedPayload),
            "the signature of a JWT with the user's claims" => Ok(PatWrapping::Signature),
            _ => Err(format!("unknown PAT wrapping {s:?}")),
        }
    }
}

fn last(token: &str) -> char {
    token.chars().last().unwrap_or('a')
}

/// Another character of the same class (digit, lower, upper, other → letter).
fn other_char(c: char) -> char {
    match c {
        '0'..='8' | 'a'..='y' | 'A'..='Y' => char::from_u32(c as u32 + 1).unwrap_or('a'),
        '9' => '0',
        'z' => 'a',
        'Z' => 'A',
        _ => 'a',
    }
}

fn random(n: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAT: &str = "xpat_0123456789abcdefghijABCDEFGHIJ0123456789z9Zq1";

    #[test]
    fn no_variant_is_the_token() {
        for phrase in variant_phrases() {
            let v: PatVariant = phrase.parse().unwrap();
            let t = v.apply(PAT, "xpat_");
            assert_ne!(t, PAT, "{phrase}");
            assert_eq!(v.phrase(), phrase);
        }
        assert_eq!(
            PatVariant::LastCharChanged.apply("xpat_9", "xpat_"),
            "xpat_0"
        );
        assert_eq!(
            PatVariant::LastCharCutOff.apply(PAT, "xpat_").len(),
            PAT.len() - 1
        );
        assert_eq!(
            PatVariant::CharAdded.apply(PAT, "xpat_").len(),
            PAT.len() + 1
        );
        let r = PatVariant::RandomSecret.apply(PAT, "xpat_");
        assert_eq!(r.len(), PAT.len());
        assert!(r.starts_with("xpat_"));
    }

    fn variant_phrases() -> Vec<&'static str> {
        // the parameter's regex is the vocabulary
        "its last character changed|its last character cut off|one character added|its prefix in upper case|a random secret of the same length|its secret cut in half|its prefix alone|4000 more random characters|a NUL byte percent-encoded after it|non-ASCII characters after it|a dot and a base64url segment".split('|').collect()
    }

    #[test]
    fn wrappings_have_a_jwts_shape_and_carry_the_token() {
        let w = PatWrapping::UnsignedPayload.apply(PAT, "{}");
        assert_eq!(w.matches('.').count(), 2);
        assert!(w.starts_with("eyJ"));
        let s = PatWrapping::Signature.apply(PAT, r#"{"sub":"u"}"#);
        assert_eq!(
            b64::decode(s.rsplit('.').next().unwrap()).unwrap(),
            PAT.as_bytes()
        );
    }
}
