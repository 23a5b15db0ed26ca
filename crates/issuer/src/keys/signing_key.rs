//! One asymmetric key pair ([`SigningKey`]): generation, the PKCS#8 form it persists in, its
//! public JWK, signing and verifying.
//!
//! The key material stays inside this file; the key store only holds `Arc<SigningKey>`s and asks
//! them to sign. P-256 keys are made from an OS-random scalar so that start-up does not wait for
//! aws-lc's DRBG seeding ([`warm_up_rng`] pays that cost on a background thread).

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    self, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    RsaKeyPair, UnparsedPublicKey,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::{KeyAlg, KeyError, SignAlg};

enum Material {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

/// One asymmetric key pair with its id and public JWK.
pub struct SigningKey {
    kid: String,
    alg: KeyAlg,
    material: Material,
    public_jwk: Value,
    /// `base64url({"alg":…,"kid":…,"typ":"JWT"})`, the default header of access tokens.
    header_b64: String,
    pkcs8: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a fresh key with a UUID kid. RSA-2048 takes ~100 ms; call it off the runtime.
    pub fn generate(alg: KeyAlg) -> Result<Self, KeyError> {
        let kid = uuid::Uuid::new_v4().to_string();
        let pkcs8 = match alg {
            KeyAlg::Es256 => {
                let kp = generate_p256_with_os_rng()?;
                kp.to_pkcs8v1()
                    .map_err(|_| KeyError::Generation)?
                    .as_ref()
                    .to_vec()
            }
            KeyAlg::Rs256 => {
                let kp =
                    RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generation)?;
                let der: aws_lc_rs::encoding::Pkcs8V1Der<'_> =
                    kp.as_der().map_err(|_| KeyError::Generation)?;
                der.as_ref().to_vec()
            }
        };
        Self::from_pkcs8(kid, alg, pkcs8)
    }

    /// Rebuilds a key from its PKCS#8 document (the persisted form).
    pub fn from_pkcs8(kid: String, alg: KeyAlg, pkcs8: Vec<u8>) -> Result<Self, KeyError> {
        let (material, public_jwk) = match alg {
            KeyAlg::Es256 => {
                let kp = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8)
                    .map_err(|_| KeyError::Generation)?;
                let point = kp.public_key().as_ref();
                if point.len() != 65 || point[0] != 4 {
                    return Err(KeyError::Generation);
                }
                let jwk = json!({
                    "alg": "ES256",
                    "crv": "P-256",
                    "ext": true,
                    "key_ops": ["verify"],
                    "kid": kid,
                    "kty": "EC",
                    "use": "sig",
                    "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                    "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
                });
                (Material::Ec(kp), jwk)
            }
            KeyAlg::Rs256 => {
                let kp = RsaKeyPair::from_pkcs8(&pkcs8).map_err(|_| KeyError::Generation)?;
                let public = kp.public_key();
                let jwk = json!({
                    "alg": "RS256",
                    "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
                    "ext": true,
                    "key_ops": ["verify"],
                    "kid": kid,
                    "kty": "RSA",
                    "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
                    "use": "sig",
                });
                (Material::Rsa(kp), jwk)
            }
        };
        let header = format!(
            r#"{{"alg":"{}","kid":{},"typ":"JWT"}}"#,
            alg.as_str(),
            Value::String(kid.clone())
        );
        Ok(Self {
            header_b64: URL_SAFE_NO_PAD.encode(header),
            kid,
            alg,
            material,
            public_jwk,
            pkcs8,
        })
    }

    /// The key id (a UUID).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The key's kind.
    pub fn alg(&self) -> KeyAlg {
        self.alg
    }

    /// The public JWK.
    pub fn public_jwk(&self) -> &Value {
        &self.public_jwk
    }

    /// The base64url default access-token header `{"alg","kid","typ":"JWT"}`.
    pub(super) fn header_b64(&self) -> &str {
        &self.header_b64
    }

    /// The PKCS#8 private key document (what `keys.json` stores).
    pub(super) fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// Whether this key can sign with `alg` (ES256 for EC; RS*/PS* for RSA).
    pub fn supports(&self, alg: SignAlg) -> bool {
        match self.material {
            Material::Ec(_) => alg == SignAlg::Es256,
            Material::Rsa(_) => alg.rsa_encoding().is_some(),
        }
    }

    /// Signs `input` with `alg`. ES256 gives the raw 64-byte r‖s form.
    pub fn sign(&self, alg: SignAlg, input: &[u8]) -> Result<Vec<u8>, KeyError> {
        let rng = SystemRandom::new();
        match (&self.material, alg) {
            (Material::Ec(kp), SignAlg::Es256) => kp
                .sign(&rng, input)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| KeyError::Generation),
            (Material::Rsa(kp), alg) => {
                let enc = alg
                    .rsa_encoding()
                    .ok_or(KeyError::Conflict("alg does not match the key"))?;
                let mut sig = vec![0u8; kp.public_modulus_len()];
                kp.sign(enc, &rng, input, &mut sig)
                    .map_err(|_| KeyError::Generation)?;
                Ok(sig)
            }
            _ => Err(KeyError::Conflict("alg does not match the key")),
        }
    }

    /// Verifies `sig` over `input` with the key's own algorithm (ES256 r‖s, or RS256).
    pub(super) fn verify(&self, input: &[u8], sig: &[u8]) -> bool {
        match &self.material {
            Material::Ec(kp) => UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, kp.public_key())
                .verify(input, sig)
                .is_ok(),
            Material::Rsa(kp) => UnparsedPublicKey::new(
                &signature::RSA_PKCS1_2048_8192_SHA256,
                kp.public_key().as_ref(),
            )
            .verify(input, sig)
            .is_ok(),
        }
    }
}

/// A P-256 key from an OS-random scalar, without touching aws-lc's DRBG.
///
/// aws-lc seeds its process-wide DRBG from CPU jitter entropy on first use, which costs ~60 ms
/// of CPU. Generating the start-up key this way keeps that cost off the readiness path; the
/// DRBG is warmed up on a background thread instead ([`warm_up_rng`]).
fn generate_p256_with_os_rng() -> Result<EcdsaKeyPair, KeyError> {
    use rand::RngCore;
    // RFC 5915 ECPrivateKey { version 1, privateKey OCTET STRING (32), [0] prime256v1 }.
    const PREFIX: [u8; 7] = [0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20];
    const CURVE: [u8; 12] = [
        0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
    ];
    // A uniformly random 256-bit string is a valid scalar (in [1, n-1]) with probability
    // 1 - 2^-32; retry on the rare miss.
    for _ in 0..16 {
        let mut der = [0u8; 51];
        der[..7].copy_from_slice(&PREFIX);
        rand::rngs::OsRng.fill_bytes(&mut der[7..39]);
        der[39..].copy_from_slice(&CURVE);
        let parsed = EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_FIXED_SIGNING, &der);
        der.fill(0);
        if let Ok(kp) = parsed {
            return Ok(kp);
        }
    }
    Err(KeyError::Generation)
}

/// Seeds aws-lc's DRBG on a background thread (its first use costs ~60 ms of CPU jitter
/// entropy), so the first signature after start does not pay for it.
pub fn warm_up_rng() {
    let spawned = std::thread::Builder::new()
        .name("xauth-rng-warmup".into())
        .spawn(|| {
            let mut byte = [0u8; 1];
            let _ = aws_lc_rs::rand::fill(&mut byte);
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "could not start the RNG warm-up thread");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_rng_p256_keys_round_trip_through_pkcs8() {
        let key = SigningKey::generate(KeyAlg::Es256).unwrap();
        let again =
            SigningKey::from_pkcs8(key.kid.clone(), KeyAlg::Es256, key.pkcs8.clone()).unwrap();
        assert_eq!(key.public_jwk(), again.public_jwk());
        let sig = key.sign(SignAlg::Es256, b"msg").unwrap();
        assert_eq!(sig.len(), 64);
        assert!(again.verify(b"msg", &sig));
    }
}
