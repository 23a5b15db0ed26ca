//! Algorithm names: the kinds of issuer key ([`KeyAlg`]) and every JOSE `alg` a token can be
//! signed with ([`SignAlg`]).
//!
//! Kept apart from the keys themselves because the control API, `mint` and the key store all
//! parse and print these names, and the mapping to aws-lc's algorithms belongs in one place.

use aws_lc_rs::hmac;
use aws_lc_rs::signature;
use serde::{Deserialize, Serialize};

/// The kind of an asymmetric signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyAlg {
    /// ECDSA P-256 with SHA-256.
    #[serde(rename = "ES256")]
    Es256,
    /// RSA-2048 PKCS#1 v1.5 with SHA-256.
    #[serde(rename = "RS256")]
    Rs256,
}

impl KeyAlg {
    /// `"ES256"` or `"RS256"`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlg::Es256 => "ES256",
            KeyAlg::Rs256 => "RS256",
        }
    }
}

impl std::fmt::Display for KeyAlg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for KeyAlg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ES256" => Ok(KeyAlg::Es256),
            "RS256" => Ok(KeyAlg::Rs256),
            other => Err(format!("unsupported key alg {other:?} (ES256 or RS256)")),
        }
    }
}

/// Every algorithm a token can be signed with (by `mint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignAlg {
    /// ECDSA P-256 with SHA-256, raw `r‖s` signature (an ES256 key only).
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (an RSA key).
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384 (an RSA key).
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512 (an RSA key).
    Rs512,
    /// RSASSA-PSS with SHA-256 and MGF1-SHA-256 (an RSA key).
    Ps256,
    /// RSASSA-PSS with SHA-384 and MGF1-SHA-384 (an RSA key).
    Ps384,
    /// RSASSA-PSS with SHA-512 and MGF1-SHA-512 (an RSA key).
    Ps512,
    /// HMAC-SHA-256 with the legacy secret.
    Hs256,
    /// HMAC-SHA-384 with the legacy secret.
    Hs384,
    /// HMAC-SHA-512 with the legacy secret.
    Hs512,
}

impl SignAlg {
    /// Parses a JOSE `alg` name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "ES256" => SignAlg::Es256,
            "RS256" => SignAlg::Rs256,
            "RS384" => SignAlg::Rs384,
            "RS512" => SignAlg::Rs512,
            "PS256" => SignAlg::Ps256,
            "PS384" => SignAlg::Ps384,
            "PS512" => SignAlg::Ps512,
            "HS256" => SignAlg::Hs256,
            "HS384" => SignAlg::Hs384,
            "HS512" => SignAlg::Hs512,
            _ => return None,
        })
    }

    /// The JOSE `alg` name.
    pub fn as_str(self) -> &'static str {
        match self {
            SignAlg::Es256 => "ES256",
            SignAlg::Rs256 => "RS256",
            SignAlg::Rs384 => "RS384",
            SignAlg::Rs512 => "RS512",
            SignAlg::Ps256 => "PS256",
            SignAlg::Ps384 => "PS384",
            SignAlg::Ps512 => "PS512",
            SignAlg::Hs256 => "HS256",
            SignAlg::Hs384 => "HS384",
            SignAlg::Hs512 => "HS512",
        }
    }

    /// The default signing algorithm of a key kind.
    pub fn from_key(alg: KeyAlg) -> Self {
        match alg {
            KeyAlg::Es256 => SignAlg::Es256,
            KeyAlg::Rs256 => SignAlg::Rs256,
        }
    }

    /// The RSA padding and hash of an RS*/PS* algorithm.
    pub(super) fn rsa_encoding(self) -> Option<&'static dyn signature::RsaEncoding> {
        Some(match self {
            SignAlg::Rs256 => &signature::RSA_PKCS1_SHA256,
            SignAlg::Rs384 => &signature::RSA_PKCS1_SHA384,
            SignAlg::Rs512 => &signature::RSA_PKCS1_SHA512,
            SignAlg::Ps256 => &signature::RSA_PSS_SHA256,
            SignAlg::Ps384 => &signature::RSA_PSS_SHA384,
            SignAlg::Ps512 => &signature::RSA_PSS_SHA512,
            _ => return None,
        })
    }

    /// The HMAC of an HS* algorithm.
    pub(super) fn hmac_algorithm(self) -> Option<hmac::Algorithm> {
        Some(match self {
            SignAlg::Hs256 => hmac::HMAC_SHA256,
            SignAlg::Hs384 => hmac::HMAC_SHA384,
            SignAlg::Hs512 => hmac::HMAC_SHA512,
            _ => return None,
        })
    }
}
