//! Unusable JWK entries (attacks.md A44) and the private keys behind them: each entry a
//! verifier must ignore (a point off the curve, a wrong `crv`, `use` `enc`, `key_ops` without
//! `verify`, a private `d`, a symmetric key, RSA-1024, public exponent 1), published under a fresh
//! kid, with the [`Signer`] only the harness holds.

use std::sync::OnceLock;

use rsa::traits::PublicKeyParts as _;
use serde_json::{Value, json};

use crate::forge::local::LocalEs256;
use crate::forge::{b64, sign};
use std::str::FromStr;

/// A private key only the harness holds, and how it signs.
#[derive(Clone)]
pub enum Signer {
    /// ECDSA P-256 (raw `r‖s`).
    Es256(LocalEs256),
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256(Box<rsa::RsaPrivateKey>),
    /// RSA with public exponent 1: `s^1 mod n = s`, so the "signature" is the PKCS#1 v1.5
    /// encoded message itself, `len` bytes long (anyone can make it).
    RsaExponentOne {
        /// The modulus length in bytes, which is the signature length.
        len: usize,
    },
    /// HMAC-SHA-256 with these key bytes.
    Hs256(Vec<u8>),
}

impl Signer {
    /// The JWS `alg` this key signs with.
    pub fn alg(&self) -> &'static str {
        match self {
            Signer::Es256(_) => "ES256",
            Signer::Rs256(_) | Signer::RsaExponentOne { .. } => "RS256",
            Signer::Hs256(_) => "HS256",
        }
    }

    /// Signs `input` (the JWS signing input).
    pub fn sign(&self, input: &[u8]) -> Result<Vec<u8>, String> {
        match self {
            Signer::Es256(key) => Ok(key.sign(input)),
            Signer::Rs256(key) => {
                let key = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new((**key).clone());
                let sig: rsa::pkcs1v15::Signature = rsa::signature::Signer::sign(&key, input);
                Ok(rsa::signature::SignatureEncoding::to_vec(&sig))
            }
            Signer::RsaExponentOne { len } => pkcs1_v15_sha256_encoding(input, *len),
            Signer::Hs256(k) => sign::hmac("HS256", k, input).map_err(|e| e.to_string()),
        }
    }
}

/// EMSA-PKCS1-v1_5 encoding (RFC 8017 §9.2) of SHA-256(`input`), `len` bytes.
fn pkcs1_v15_sha256_encoding(input: &[u8], len: usize) -> Result<Vec<u8>, String> {
    use sha2::Digest as _;
    const SHA256_DIGEST_INFO: [u8; 19] = [
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0x04, 0x20,
    ];
    let t_len = SHA256_DIGEST_INFO.len() + 32;
    if len < t_len + 11 {
        return Err(format!(
            "an RSA modulus of {len} bytes is too short for SHA-256"
        ));
    }
    let mut em = vec![0x00, 0x01];
    em.resize(len - t_len - 1, 0xff);
    em.push(0x00);
    em.extend_from_slice(&SHA256_DIGEST_INFO);
    em.extend_from_slice(&sha2::Sha256::digest(input));
    Ok(em)
}

/// A fresh kid for an extra entry.
pub fn fresh_kid(what: &str) -> String {
    format!("xauth-{what}-{}", uuid::Uuid::new_v4().simple())
}

/// A fresh P-256 key.
pub fn new_p256() -> LocalEs256 {
    LocalEs256::generate()
}

/// The public JWK of `key` with `kid`, `alg` ES256 and, unless `None`, `use`.
pub fn ec_jwk(key: &LocalEs256, kid: &str, use_: Option<&str>) -> Result<Value, String> {
    key.public_jwk(kid, use_)
}

/// An RSA-1024 private key, generated once per process off the async runtime (the kid is
/// fresh in every scenario).
async fn rsa_1024() -> Result<rsa::RsaPrivateKey, String> {
    static KEY: OnceLock<rsa::RsaPrivateKey> = OnceLock::new();
    if let Some(k) = KEY.get() {
        return Ok(k.clone());
    }
    let key = tokio::task::spawn_blocking(|| {
        rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())??;
    Ok(KEY.get_or_init(|| key).clone())
}

/// The modulus of a genuine RSA-2048 key (the attacker's: any 2048-bit modulus will do).
async fn modulus_2048() -> Result<Vec<u8>, String> {
    tokio::task::spawn_blocking(|| sign::attacker_rsa().n().to_bytes_be())
        .await
        .map_err(|e| e.to_string())
}

/// A P-256 key whose published point is moved off the curve: `y` with its lowest bit
/// flipped (checked: not a curve point, below the field prime).
fn off_curve_jwk(kid: &str) -> Result<(Value, Signer), String> {
    for _ in 0..16 {
        let key = new_p256();
        let mut jwk = ec_jwk(&key, kid, Some("sig"))?;
        let x = b64::decode(jwk["x"].as_str().unwrap_or_default()).map_err(|e| e.to_string())?;
        let mut y =
            b64::decode(jwk["y"].as_str().unwrap_or_default()).map_err(|e| e.to_string())?;
        if x.len() != 32 || y.len() != 32 {
            return Err("P-256 coordinates are not 32 bytes".into());
        }
        y[31] ^= 1;
        let below_p = y.as_slice() < crate::forge::ecdsa::P.as_slice();
        let mut sec1 = vec![0x04];
        sec1.extend_from_slice(&x);
        sec1.extend_from_slice(&y);
        if below_p && p256::PublicKey::from_sec1_bytes(&sec1).is_err() {
            jwk["y"] = json!(b64::encode(&y));
            return Ok((jwk, Signer::Es256(key)));
        }
    }
    Err("could not move a P-256 point off the curve".into())
}

/// The entry named in the feature, with a fresh kid: its JWK and the harness key that signs
/// tokens for it.
pub async fn unusable_entry(entry: JwksEntry) -> Result<(String, Value, Signer), String> {
    let kid = fresh_kid("unusable");
    let (jwk, signer) = match entry {
        JwksEntry::OffCurve => off_curve_jwk(&kid)?,
        JwksEntry::CrvP384 => {
            let key = new_p256();
            let mut jwk = ec_jwk(&key, &kid, Some("sig"))?;
            jwk["crv"] = json!("P-384");
            (jwk, Signer::Es256(key))
        }
        JwksEntry::UseEnc => {
            let key = new_p256();
            (ec_jwk(&key, &kid, Some("enc"))?, Signer::Es256(key))
        }
        JwksEntry::KeyOpsWithoutVerify => {
            let key = new_p256();
            let mut jwk = ec_jwk(&key, &kid, None)?;
            jwk["key_ops"] = json!(["encrypt"]);
            (jwk, Signer::Es256(key))
        }
        JwksEntry::PrivateD => {
            let key = new_p256();
            let mut jwk = ec_jwk(&key, &kid, Some("sig"))?;
            jwk["d"] = json!(b64::encode(key.secret_bytes()));
            (jwk, Signer::Es256(key))
        }
        JwksEntry::SymmetricOct => {
            let secret: [u8; 32] = rand::random();
            let jwk = json!({"kty": "oct", "kid": kid, "alg": "HS256", "use": "sig", "k": b64::encode(secret)});
            (jwk, Signer::Hs256(secret.to_vec()))
        }
        JwksEntry::Rsa1024 => {
            let key = rsa_1024().await?;
            let jwk = json!({
                "kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
                "n": b64::encode(key.n().to_bytes_be()),
                "e": b64::encode(key.e().to_bytes_be()),
            });
            (jwk, Signer::Rs256(Box::new(key)))
        }
        JwksEntry::RsaExponentOne => {
            let n = modulus_2048().await?;
            let len = n.len();
            let jwk = json!({
                "kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
                "n": b64::encode(n), "e": "AQ",
            });
            (jwk, Signer::RsaExponentOne { len })
        }
        JwksEntry::SharedKid => {
            return Err("two keys under one kid are not one unusable entry".into());
        }
    };
    Ok((kid, jwk, signer))
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never the private key
        write!(f, "Signer({})", self.alg())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponent_one_signature_is_the_encoded_message() {
        let em = pkcs1_v15_sha256_encoding(b"a.b", 256).unwrap();
        assert_eq!(em.len(), 256);
        assert_eq!(&em[..2], &[0x00, 0x01]);
        assert_eq!(em[256 - 52], 0x00);
        // with e = 1 the RSA verification equation is s mod n == EM: a real RSA-2048 verifier
        // with e = 65537 must refuse it, so the bytes are not a valid signature by accident
        let key = sign::attacker_rsa().to_public_key();
        let verifying = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key);
        let sig = rsa::pkcs1v15::Signature::try_from(em.as_slice()).unwrap();
        assert!(rsa::signature::Verifier::verify(&verifying, b"a.b", &sig).is_err());
        assert!(pkcs1_v15_sha256_encoding(b"a.b", 10).is_err());
    }

    #[test]
    fn off_curve_points_are_off_the_curve_and_signatures_are_genuine() {
        let (jwk, signer) = off_curve_jwk("k").unwrap();
        assert_eq!(jwk["crv"], "P-256");
        let mut sec1 = vec![0x04];
        sec1.extend(b64::decode(jwk["x"].as_str().unwrap()).unwrap());
        sec1.extend(b64::decode(jwk["y"].as_str().unwrap()).unwrap());
        assert!(p256::PublicKey::from_sec1_bytes(&sec1).is_err());
        assert_eq!(signer.sign(b"x").unwrap().len(), 64);
    }

    #[tokio::test]
    async fn every_entry_kind_has_a_fresh_kid_and_a_matching_signer() {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
        for (entry, alg) in [
            ("an EC key whose point is not on P-256", "ES256"),
            ("a P-256 key labelled \"crv\":\"P-384\"", "ES256"),
            ("an ES256 key with \"use\":\"enc\"", "ES256"),
            ("an ES256 key whose \"key_ops\" lack \"verify\"", "ES256"),
            ("an ES256 key that also carries its private \"d\"", "ES256"),
            ("a symmetric \"oct\" key used with HS256", "HS256"),
            ("an RSA key of 1024 bits", "RS256"),
            ("an RSA key with public exponent 1", "RS256"),
        ] {
            let (kid, jwk, signer) = unusable_entry(entry.parse().unwrap()).await.unwrap();
            assert_eq!(jwk["kid"], kid.as_str(), "{entry}");
            assert_eq!(signer.alg(), alg, "{entry}");
            let sig = signer.sign(b"h.p").unwrap();
            match entry.parse::<JwksEntry>().unwrap() {
                JwksEntry::CrvP384 | JwksEntry::UseEnc => {
                    // a genuine P-256 signature by the published coordinates
                    let mut sec1 = vec![0x04];
                    sec1.extend(b64::decode(jwk["x"].as_str().unwrap()).unwrap());
                    sec1.extend(b64::decode(jwk["y"].as_str().unwrap()).unwrap());
                    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, sec1)
                        .verify(b"h.p", &sig)
                        .unwrap();
                }
                JwksEntry::SymmetricOct => {
                    let k = b64::decode(jwk["k"].as_str().unwrap()).unwrap();
                    assert_eq!(sig, sign::hmac("HS256", &k, b"h.p").unwrap());
                }
                JwksEntry::Rsa1024 => {
                    let n = b64::decode(jwk["n"].as_str().unwrap()).unwrap();
                    assert_eq!(n.len(), 128);
                    assert_eq!(sig.len(), 128);
                }
                JwksEntry::RsaExponentOne => {
                    assert_eq!(jwk["e"], "AQ");
                    let n = b64::decode(jwk["n"].as_str().unwrap()).unwrap();
                    // s^1 mod n = s: the signature is below n, so it is its own verification
                    assert_eq!(sig.len(), n.len());
                    assert!(sig < n);
                }
                _ => {}
            }
        }
    }
}

/// What `jwks_entries.feature` publishes next to the usable control key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, cucumber::Parameter)]
#[param(
    name = "jwks_entry",
    regex = r#"an EC key whose point is not on P-256|a P-256 key labelled "crv":"P-384"|an ES256 key with "use":"enc"|an ES256 key whose "key_ops" lack "verify"|an ES256 key that also carries its private "d"|a symmetric "oct" key used with HS256|an RSA key of 1024 bits|an RSA key with public exponent 1|two different ES256 keys under one fresh kid"#
)]
pub enum JwksEntry {
    /// An EC key whose point is not on P-256.
    OffCurve,
    /// A P-256 key labelled `"crv":"P-384"`.
    CrvP384,
    /// An ES256 key with `"use":"enc"`.
    UseEnc,
    /// An ES256 key whose `key_ops` lack `verify`.
    KeyOpsWithoutVerify,
    /// An ES256 key that also carries its private `d`.
    PrivateD,
    /// A symmetric `oct` key used with HS256.
    SymmetricOct,
    /// An RSA key of 1024 bits.
    Rsa1024,
    /// An RSA key with public exponent 1.
    RsaExponentOne,
    /// Two different ES256 keys under one fresh kid (A43).
    SharedKid,
}

impl JwksEntry {
    /// Every entry, in the order of the parameter's regex.
    pub const ALL: [JwksEntry; 9] = [
        JwksEntry::OffCurve,
        JwksEntry::CrvP384,
        JwksEntry::UseEnc,
        JwksEntry::KeyOpsWithoutVerify,
        JwksEntry::PrivateD,
        JwksEntry::SymmetricOct,
        JwksEntry::Rsa1024,
        JwksEntry::RsaExponentOne,
        JwksEntry::SharedKid,
    ];

    /// The feature's words for this entry.
    pub fn phrase(self) -> &'static str {
        match self {
            JwksEntry::OffCurve => "an EC key whose point is not on P-256",
            JwksEntry::CrvP384 => "a P-256 key labelled \"crv\":\"P-384\"",
            JwksEntry::UseEnc => "an ES256 key with \"use\":\"enc\"",
            JwksEntry::KeyOpsWithoutVerify => "an ES256 key whose \"key_ops\" lack \"verify\"",
            JwksEntry::PrivateD => "an ES256 key that also carries its private \"d\"",
            JwksEntry::SymmetricOct => "a symmetric \"oct\" key used with HS256",
            JwksEntry::Rsa1024 => "an RSA key of 1024 bits",
            JwksEntry::RsaExponentOne => "an RSA key with public exponent 1",
            JwksEntry::SharedKid => "two different ES256 keys under one fresh kid",
        }
    }
}

impl std::fmt::Display for JwksEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.phrase())
    }
}

impl FromStr for JwksEntry {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JwksEntry::ALL
            .into_iter()
            .find(|e| e.phrase() == s)
            .ok_or_else(|| format!("unknown JWKS entry kind: {s}"))
    }
}
