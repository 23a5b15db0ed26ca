//! The issuer's public keys (read from its JWKS) in every encoding a confused verifier might
//! use as an HMAC secret (RFC 8725 §2.1, CVE-2015-9235, CVE-2016-10555, CVE-2022-29217, …).

use p256::pkcs8::{EncodePublicKey as _, LineEnding};
use rsa::pkcs1::EncodeRsaPublicKey as _;
use serde_json::Value;

use super::{ForgeError, b64};

/// A public key published in the issuer's JWKS.
#[derive(Debug, Clone)]
pub enum PublicKey {
    /// EC P-256 (ES256).
    Ec(p256::PublicKey),
    /// RSA (RS256).
    Rsa(rsa::RsaPublicKey),
}

/// How a public key is turned into HMAC key bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyEncoding {
    /// SPKI (`BEGIN PUBLIC KEY`) PEM ending in a newline.
    SpkiPem,
    /// SPKI PEM without the final newline.
    SpkiPemNoNewline,
    /// PKCS#1 (`BEGIN RSA PUBLIC KEY`) PEM, RSA only.
    Pkcs1Pem,
    /// PKCS#1 PEM without the final newline, RSA only.
    Pkcs1PemNoNewline,
    /// SPKI DER.
    SpkiDer,
    /// PKCS#1 DER, RSA only.
    Pkcs1Der,
    /// The JWK exactly as the JWKS publishes it (compact JSON text).
    JwkJson,
    /// Raw `n` bytes (RSA) or `x‖y` (EC).
    Raw,
    /// SEC1 uncompressed point `04‖x‖y`, EC only.
    Sec1Uncompressed,
}

impl KeyEncoding {
    /// Parses the names used in the feature files.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "SPKI PEM" => Self::SpkiPem,
            "SPKI PEM without trailing newline" => Self::SpkiPemNoNewline,
            "PKCS#1 PEM" => Self::Pkcs1Pem,
            "PKCS#1 PEM without trailing newline" => Self::Pkcs1PemNoNewline,
            "SPKI DER" => Self::SpkiDer,
            "PKCS#1 DER" => Self::Pkcs1Der,
            "JWK JSON" => Self::JwkJson,
            "raw n bytes" | "raw x||y bytes" | "raw bytes" => Self::Raw,
            "SEC1 uncompressed point" => Self::Sec1Uncompressed,
            _ => return None,
        })
    }
}

impl PublicKey {
    /// Parses a public JWK (`kty` EC/P-256 or RSA).
    pub fn from_jwk(jwk: &Value) -> Result<Self, ForgeError> {
        match jwk.get("kty").and_then(Value::as_str) {
            Some("EC") => {
                if jwk.get("crv").and_then(Value::as_str) != Some("P-256") {
                    return Err(ForgeError::Key("EC JWK is not P-256".into()));
                }
                let coord = |name: &str| -> Result<Vec<u8>, ForgeError> {
                    let text = jwk
                        .get(name)
                        .and_then(Value::as_str)
                        .ok_or_else(|| ForgeError::Key(format!("EC JWK without {name}")))?;
                    b64::decode(text)
                };
                let mut sec1 = vec![4u8];
                sec1.extend(coord("x")?);
                sec1.extend(coord("y")?);
                p256::PublicKey::from_sec1_bytes(&sec1)
                    .map(Self::Ec)
                    .map_err(|e| ForgeError::Key(format!("EC JWK: {e}")))
            }
            Some("RSA") => {
                let field = |name: &str| -> Result<rsa::BigUint, ForgeError> {
                    let text = jwk
                        .get(name)
                        .and_then(Value::as_str)
                        .ok_or_else(|| ForgeError::Key(format!("RSA JWK without {name}")))?;
                    Ok(rsa::BigUint::from_bytes_be(&b64::decode(text)?))
                };
                rsa::RsaPublicKey::new(field("n")?, field("e")?)
                    .map(Self::Rsa)
                    .map_err(|e| ForgeError::Key(format!("RSA JWK: {e}")))
            }
            other => Err(ForgeError::Key(format!("unsupported kty {other:?}"))),
        }
    }

    /// The key bytes in `encoding`; `jwk` is the JWK as published (for [`KeyEncoding::JwkJson`]).
    pub fn encode(&self, encoding: KeyEncoding, jwk: &Value) -> Result<Vec<u8>, ForgeError> {
        let key_err = |e: &dyn std::fmt::Display| ForgeError::Key(e.to_string());
        let strip = |s: String| s.trim_end_matches('\n').to_owned().into_bytes();
        Ok(match (self, encoding) {
            (_, KeyEncoding::JwkJson) => serde_json::to_vec(jwk).map_err(|e| key_err(&e))?,
            (Self::Ec(k), KeyEncoding::SpkiPem) => k
                .to_public_key_pem(LineEnding::LF)
                .map_err(|e| key_err(&e))?
                .into_bytes(),
            (Self::Ec(k), KeyEncoding::SpkiPemNoNewline) => strip(
                k.to_public_key_pem(LineEnding::LF)
                    .map_err(|e| key_err(&e))?,
            ),
            (Self::Ec(k), KeyEncoding::SpkiDer) => k
                .to_public_key_der()
                .map_err(|e| key_err(&e))?
                .as_bytes()
                .to_vec(),
            (Self::Ec(k), KeyEncoding::Raw) => k.to_sec1_bytes()[1..].to_vec(),
            (Self::Ec(k), KeyEncoding::Sec1Uncompressed) => k.to_sec1_bytes().to_vec(),
            (Self::Rsa(k), KeyEncoding::SpkiPem) => {
                rsa::pkcs8::EncodePublicKey::to_public_key_pem(k, LineEnding::LF)
                    .map_err(|e| key_err(&e))?
                    .into_bytes()
            }
            (Self::Rsa(k), KeyEncoding::SpkiPemNoNewline) => strip(
                rsa::pkcs8::EncodePublicKey::to_public_key_pem(k, LineEnding::LF)
                    .map_err(|e| key_err(&e))?,
            ),
            (Self::Rsa(k), KeyEncoding::SpkiDer) => {
                rsa::pkcs8::EncodePublicKey::to_public_key_der(k)
                    .map_err(|e| key_err(&e))?
                    .as_bytes()
                    .to_vec()
            }
            (Self::Rsa(k), KeyEncoding::Pkcs1Pem) => k
                .to_pkcs1_pem(LineEnding::LF)
                .map_err(|e| key_err(&e))?
                .into_bytes(),
            (Self::Rsa(k), KeyEncoding::Pkcs1PemNoNewline) => {
                strip(k.to_pkcs1_pem(LineEnding::LF).map_err(|e| key_err(&e))?)
            }
            (Self::Rsa(k), KeyEncoding::Pkcs1Der) => k
                .to_pkcs1_der()
                .map_err(|e| key_err(&e))?
                .as_bytes()
                .to_vec(),
            (Self::Rsa(k), KeyEncoding::Raw) => {
                use rsa::traits::PublicKeyParts as _;
                k.n().to_bytes_be()
            }
            (key, enc) => {
                return Err(ForgeError::Key(format!(
                    "encoding {enc:?} does not apply to {} keys",
                    match key {
                        Self::Ec(_) => "EC",
                        Self::Rsa(_) => "RSA",
                    }
                )));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::pkcs8::DecodePublicKey as _;
    use serde_json::json;

    fn ec_jwk() -> Value {
        let sk = p256::SecretKey::from_slice(&[5u8; 32]).unwrap();
        let mut jwk: Value = serde_json::from_str(&sk.public_key().to_jwk_string()).unwrap();
        jwk["kid"] = json!("k1");
        jwk["alg"] = json!("ES256");
        jwk
    }

    #[test]
    fn ec_encodings_round_trip() {
        let jwk = ec_jwk();
        let key = PublicKey::from_jwk(&jwk).unwrap();
        let PublicKey::Ec(ec) = &key else { panic!() };
        let pem = String::from_utf8(key.encode(KeyEncoding::SpkiPem, &jwk).unwrap()).unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----") && pem.ends_with("-----\n"));
        assert_eq!(&p256::PublicKey::from_public_key_pem(&pem).unwrap(), ec);
        let no_nl = key.encode(KeyEncoding::SpkiPemNoNewline, &jwk).unwrap();
        assert_eq!(no_nl.len() + 1, pem.len());
        let der = key.encode(KeyEncoding::SpkiDer, &jwk).unwrap();
        assert_eq!(&p256::PublicKey::from_public_key_der(&der).unwrap(), ec);
        let raw = key.encode(KeyEncoding::Raw, &jwk).unwrap();
        assert_eq!(raw.len(), 64);
        assert_eq!(b64::encode(&raw[..32]), jwk["x"].as_str().unwrap());
        assert_eq!(
            key.encode(KeyEncoding::Sec1Uncompressed, &jwk).unwrap()[0],
            4
        );
        let text = key.encode(KeyEncoding::JwkJson, &jwk).unwrap();
        assert_eq!(serde_json::from_slice::<Value>(&text).unwrap(), jwk);
        assert!(key.encode(KeyEncoding::Pkcs1Pem, &jwk).is_err());
    }

    #[test]
    fn rsa_encodings_round_trip() {
        use rsa::pkcs1::DecodeRsaPublicKey as _;
        use rsa::traits::PublicKeyParts as _;
        let private = super::super::sign::attacker_rsa();
        let public = private.to_public_key();
        let jwk = json!({"kty":"RSA","kid":"r1","n": b64::encode(public.n().to_bytes_be()), "e": b64::encode(public.e().to_bytes_be())});
        let key = PublicKey::from_jwk(&jwk).unwrap();
        let pem = String::from_utf8(key.encode(KeyEncoding::Pkcs1Pem, &jwk).unwrap()).unwrap();
        assert!(pem.starts_with("-----BEGIN RSA PUBLIC KEY-----"));
        assert_eq!(rsa::RsaPublicKey::from_pkcs1_pem(&pem).unwrap(), public);
        let der = key.encode(KeyEncoding::Pkcs1Der, &jwk).unwrap();
        assert_eq!(rsa::RsaPublicKey::from_pkcs1_der(&der).unwrap(), public);
        let spki = String::from_utf8(key.encode(KeyEncoding::SpkiPem, &jwk).unwrap()).unwrap();
        assert_eq!(
            rsa::pkcs8::DecodePublicKey::from_public_key_pem(&spki).ok(),
            Some(public.clone())
        );
        assert_eq!(key.encode(KeyEncoding::Raw, &jwk).unwrap().len(), 256);
        assert!(key.encode(KeyEncoding::Sec1Uncompressed, &jwk).is_err());
    }
}
