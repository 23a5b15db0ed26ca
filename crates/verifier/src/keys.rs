//! Verification keys: JWK → a parsed aws-lc-rs key bound to exactly one algorithm.

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents,
};
use serde_json::{Map, Value};

use crate::b64;

/// Longest `kid` accepted, in bytes (token headers and JWKS entries alike).
pub(crate) const MAX_KID_BYTES: usize = 256;
/// Smallest RSA modulus accepted, in bits.
pub(crate) const MIN_RSA_BITS: usize = 2048;
/// Largest RSA modulus accepted, in bits (aws-lc's RS256 verifier limit).
pub(crate) const MAX_RSA_BITS: usize = 8192;

/// The algorithm family a key is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// EC P-256: ES256 only.
    Es256,
    /// RSA ≥ 2048 bits: RS256 only.
    Rs256,
}

/// One usable public key from a JWKS, parsed once.
pub(crate) struct VerifyKey {
    pub(crate) kid: Option<String>,
    pub(crate) family: Family,
    pub(crate) key: ParsedPublicKey,
    /// Exact signature length: 64 for ES256, the modulus length for RS256.
    pub(crate) sig_len: usize,
    /// SubjectPublicKeyInfo DER (what a confused HMAC verifier would use as a secret).
    #[cfg(feature = "seeded-defects")]
    pub(crate) spki_der: Vec<u8>,
    /// The raw public point (EC) for the DER-signature defect.
    #[cfg(feature = "seeded-defects")]
    pub(crate) ec_point: Vec<u8>,
}

impl std::fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyKey")
            .field("kid", &self.kid)
            .field("family", &self.family)
            .field("sig_len", &self.sig_len)
            .finish_non_exhaustive()
    }
}

impl VerifyKey {
    /// Verifies `sig` over `msg` (the caller has already checked `sig.len() == self.sig_len`).
    #[inline]
    pub(crate) fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        sig.len() == self.sig_len && self.key.verify_sig(msg, sig).is_ok()
    }
}

/// Why a JWKS entry was skipped (logged, never fatal for the other entries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unusable {
    NotAnObject,
    PrivateMembers,
    Use,
    KeyOps,
    Kid,
    Kty,
    Curve,
    AlgMismatch,
    Encoding,
    RsaSize,
    RsaExponent,
    Rejected,
}

const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Turns one JWK into a usable verification key, or says why it is unusable.
pub(crate) fn from_jwk(jwk: &Value) -> Result<VerifyKey, Unusable> {
    let obj = jwk.as_object().ok_or(Unusable::NotAnObject)?;
    if PRIVATE_MEMBERS.iter().any(|m| obj.contains_key(*m)) {
        return Err(Unusable::PrivateMembers);
    }
    match obj.get("use") {
        None => {}
        Some(Value::String(u)) if u == "sig" => {}
        Some(_) => return Err(Unusable::Use),
    }
    if let Some(ops) = obj.get("key_ops") {
        let ops = ops.as_array().ok_or(Unusable::KeyOps)?;
        if !ops.iter().all(Value::is_string) || !ops.iter().any(|o| o == "verify") {
            return Err(Unusable::KeyOps);
        }
    }
    let kid = match obj.get("kid") {
        None => None,
        Some(Value::String(k)) if !k.is_empty() && k.len() <= MAX_KID_BYTES => Some(k.clone()),
        Some(_) => return Err(Unusable::Kid),
    };
    match obj.get("kty").and_then(Value::as_str) {
        Some("EC") => ec_key(obj, kid),
        Some("RSA") => rsa_key(obj, kid),
        _ => Err(Unusable::Kty),
    }
}

fn check_alg(obj: &Map<String, Value>, expected: &str) -> Result<(), Unusable> {
    match obj.get("alg") {
        None => Ok(()),
        Some(Value::String(a)) if a == expected => Ok(()),
        Some(_) => Err(Unusable::AlgMismatch),
    }
}

fn b64_member(obj: &Map<String, Value>, name: &str) -> Result<Vec<u8>, Unusable> {
    obj.get(name)
        .and_then(Value::as_str)
        .and_then(b64::decode)
        .ok_or(Unusable::Encoding)
}

/// DER prefix of a P-256 SubjectPublicKeyInfo, followed by the 65-byte uncompressed point.
#[cfg(feature = "seeded-defects")]
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

fn ec_key(obj: &Map<String, Value>, kid: Option<String>) -> Result<VerifyKey, Unusable> {
    if obj.get("crv").and_then(Value::as_str) != Some("P-256") {
        return Err(Unusable::Curve);
    }
    check_alg(obj, "ES256")?;
    let x = b64_member(obj, "x")?;
    let y = b64_member(obj, "y")?;
    if x.len() != 32 || y.len() != 32 {
        return Err(Unusable::Encoding);
    }
    let mut point = Vec::with_capacity(65);
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    // aws-lc checks that the point is on the curve.
    let key =
        ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point).map_err(|_| Unusable::Rejected)?;
    Ok(VerifyKey {
        kid,
        family: Family::Es256,
        key,
        sig_len: 64,
        #[cfg(feature = "seeded-defects")]
        spki_der: [&P256_SPKI_PREFIX[..], &point].concat(),
        #[cfg(feature = "seeded-defects")]
        ec_point: point,
    })
}

fn strip_leading_zeros(mut v: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = v {
        v = rest;
    }
    v
}

fn rsa_key(obj: &Map<String, Value>, kid: Option<String>) -> Result<VerifyKey, Unusable> {
    check_alg(obj, "RS256")?;
    let n_raw = b64_member(obj, "n")?;
    let e_raw = b64_member(obj, "e")?;
    let n = strip_leading_zeros(&n_raw);
    let e = strip_leading_zeros(&e_raw);
    let bits = match n.first() {
        Some(&top) => n.len() * 8 - top.leading_zeros() as usize,
        None => 0,
    };
    if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
        return Err(Unusable::RsaSize);
    }
    // Only the standard exponent F4 = 65537 is accepted (e = 1, 3, even or huge are refused).
    if e != [0x01, 0x00, 0x01] {
        return Err(Unusable::RsaExponent);
    }
    let components = RsaPublicKeyComponents { n, e };
    let key = components
        .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
        .map_err(|_| Unusable::Rejected)?;
    Ok(VerifyKey {
        kid,
        family: Family::Rs256,
        sig_len: n.len(),
        #[cfg(feature = "seeded-defects")]
        spki_der: key.as_ref().to_vec(),
        #[cfg(feature = "seeded-defects")]
        ec_point: Vec::new(),
        key,
    })
}

/// The result of looking a kid up in a key set.
pub(crate) enum Lookup<'a> {
    Found(&'a VerifyKey),
    Unknown,
    Ambiguous,
}

/// The usable keys of one JWKS.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    pub(crate) keys: Vec<VerifyKey>,
}

impl KeySet {
    /// Builds a key set from a parsed JWKS document, keeping at most `max_keys` usable keys.
    pub(crate) fn from_document(doc: &Value, max_keys: usize) -> Option<KeySet> {
        let entries = doc.as_object()?.get("keys")?.as_array()?;
        let mut keys = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            match from_jwk(entry) {
                Ok(k) if keys.len() < max_keys => keys.push(k),
                Ok(_) => {
                    tracing::warn!(index = i, max_keys, "JWKS key over the cap ignored");
                }
                Err(why) => {
                    tracing::debug!(index = i, reason = ?why, "unusable JWKS entry ignored");
                }
            }
        }
        Some(KeySet { keys })
    }

    /// Exact, case-sensitive kid lookup; two usable keys with one kid are ambiguous.
    pub(crate) fn find(&self, kid: &str) -> Lookup<'_> {
        let mut found = None;
        for k in &self.keys {
            if k.kid.as_deref() == Some(kid) {
                if found.is_some() {
                    return Lookup::Ambiguous;
                }
                found = Some(k);
            }
        }
        match found {
            Some(k) => Lookup::Found(k),
            None => Lookup::Unknown,
        }
    }

    pub(crate) fn knows(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// The first key of `family` (only the `kid-ignored` defect uses this).
    #[cfg(feature = "seeded-defects")]
    pub(crate) fn first_of(&self, family: Family) -> Option<&VerifyKey> {
        self.keys.iter().find(|k| k.family == family)
    }
}
