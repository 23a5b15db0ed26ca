//! Signatures the target must NOT trust: HMAC with arbitrary key bytes (public keys, blank and
//! well-known secrets) and attacker key pairs generated locally, once per process.

use std::sync::OnceLock;

use hmac::{Hmac, Mac as _};
use p256::ecdsa::signature::Signer as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::{Value, json};

use super::{ForgeError, b64};

/// HMAC signature (`HS256`, `HS384`, `HS512`) of `input` with arbitrary key bytes (even empty).
///
/// ```
/// let mac = xauth_conformance::forge::sign::hmac("HS256", b"", b"a.b").unwrap();
/// assert_eq!(mac.len(), 32);
/// ```
pub fn hmac(alg: &str, key: &[u8], input: &[u8]) -> Result<Vec<u8>, ForgeError> {
    let bad = |e: hmac::digest::InvalidLength| ForgeError::Key(e.to_string());
    Ok(match alg {
        "HS256" => {
            let mut m = Hmac::<sha2::Sha256>::new_from_slice(key).map_err(bad)?;
            m.update(input);
            m.finalize().into_bytes().to_vec()
        }
        "HS384" => {
            let mut m = Hmac::<sha2::Sha384>::new_from_slice(key).map_err(bad)?;
            m.update(input);
            m.finalize().into_bytes().to_vec()
        }
        "HS512" => {
            let mut m = Hmac::<sha2::Sha512>::new_from_slice(key).map_err(bad)?;
            m.update(input);
            m.finalize().into_bytes().to_vec()
        }
        other => return Err(ForgeError::Key(format!("not an HMAC alg: {other}"))),
    })
}

fn attacker_ec() -> &'static p256::ecdsa::SigningKey {
    crate::forge::local::attacker_es256().key()
}

/// The attacker's RSA-2048 private key (generated once per process).
pub fn attacker_rsa() -> &'static rsa::RsaPrivateKey {
    static KEY: OnceLock<rsa::RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        // Key generation only fails on an RNG failure, which leaves no way to run the suite.
        rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("RSA key generation")
    })
}

/// Signs `input` with the attacker key of `alg`'s family: `ES256`, `RS256`, `PS256`, `ES384`,
/// `ES512`, `EdDSA`. JWS encodings (raw `r‖s` for ECDSA).
pub fn attacker_sign(alg: &str, input: &[u8]) -> Result<Vec<u8>, ForgeError> {
    use aws_lc_rs::signature::{self as aws, KeyPair as _};
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let fail = |e: &dyn std::fmt::Display| ForgeError::Signature(format!("{alg}: {e}"));
    Ok(match alg {
        "ES256" => crate::forge::local::attacker_es256().sign(input),
        "RS256" => {
            let key = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(attacker_rsa().clone());
            let sig: rsa::pkcs1v15::Signature = rsa::signature::Signer::sign(&key, input);
            rsa::signature::SignatureEncoding::to_vec(&sig)
        }
        "PS256" => {
            let key = rsa::pss::BlindedSigningKey::<sha2::Sha256>::new(attacker_rsa().clone());
            let sig: rsa::pss::Signature = rsa::signature::RandomizedSigner::sign_with_rng(
                &key,
                &mut rand::rngs::OsRng,
                input,
            );
            rsa::signature::SignatureEncoding::to_vec(&sig)
        }
        "ES384" | "ES512" => {
            let algorithm = if alg == "ES384" {
                &aws::ECDSA_P384_SHA384_FIXED_SIGNING
            } else {
                &aws::ECDSA_P521_SHA512_FIXED_SIGNING
            };
            let pair = aws::EcdsaKeyPair::generate(algorithm).map_err(|e| fail(&e))?;
            pair.sign(&rng, input)
                .map_err(|e| fail(&e))?
                .as_ref()
                .to_vec()
        }
        "EdDSA" => {
            let pair = aws::Ed25519KeyPair::generate().map_err(|e| fail(&e))?;
            let _ = pair.public_key();
            pair.sign(input).as_ref().to_vec()
        }
        other => return Err(ForgeError::Key(format!("no attacker key for {other}"))),
    })
}

/// The attacker's public JWK for `ES256` (EC P-256) or `RS256`/`PS256` (RSA), with `kid`.
pub fn attacker_public_jwk(alg: &str, kid: &str) -> Result<Value, ForgeError> {
    match alg {
        "ES256" => crate::forge::local::attacker_es256()
            .public_jwk(kid, Some("sig"))
            .map_err(ForgeError::Json),
        "RS256" | "PS256" => {
            let public = attacker_rsa().to_public_key();
            Ok(json!({
                "kty": "RSA", "kid": kid, "alg": alg, "use": "sig",
                "n": b64::encode(public.n().to_bytes_be()),
                "e": b64::encode(public.e().to_bytes_be()),
            }))
        }
        other => Err(ForgeError::Key(format!("no attacker JWK for {other}"))),
    }
}

/// DER TLV with a short or long-form length.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend([0x81, len as u8]);
    } else {
        out.extend([0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(content);
    out
}

/// A self-signed X.509 v3 certificate (DER) for the attacker's P-256 key, CN "xauth attacker",
/// valid 2020–2049, signed ECDSA-with-SHA256 by that same key (for `x5c` injection, A16).
pub fn attacker_self_signed_cert() -> Result<Vec<u8>, ForgeError> {
    use p256::pkcs8::EncodePublicKey as _;
    const ECDSA_SHA256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    const CN: &[u8] = &[0x06, 0x03, 0x55, 0x04, 0x03];
    let alg_id = tlv(0x30, ECDSA_SHA256);
    let name = tlv(
        0x30,
        &tlv(
            0x31,
            &tlv(0x30, &[CN, &tlv(0x0c, b"xauth attacker")].concat()),
        ),
    );
    let validity = tlv(
        0x30,
        &[tlv(0x17, b"200101000000Z"), tlv(0x17, b"491231235959Z")].concat(),
    );
    let spki = p256::PublicKey::from(attacker_ec().verifying_key())
        .to_public_key_der()
        .map_err(|e| ForgeError::Key(e.to_string()))?;
    let tbs = tlv(
        0x30,
        &[
            tlv(0xa0, &tlv(0x02, &[2])), // version v3
            tlv(0x02, &[1]),             // serial number
            alg_id.clone(),
            name.clone(),
            validity,
            name,
            spki.as_bytes().to_vec(),
        ]
        .concat(),
    );
    let sig: p256::ecdsa::Signature = attacker_ec().sign(&tbs);
    let bits = [&[0u8][..], sig.to_der().as_bytes()].concat();
    Ok(tlv(0x30, &[tbs, alg_id, tlv(0x03, &bits)].concat()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier as _;

    #[test]
    fn the_attacker_certificate_is_well_formed_der() {
        let cert = attacker_self_signed_cert().unwrap();
        assert_eq!(cert[0], 0x30);
        // outer length covers the whole certificate
        let (len, hdr) = match cert[1] {
            0x82 => ((usize::from(cert[2]) << 8) | usize::from(cert[3]), 4),
            0x81 => (usize::from(cert[2]), 3),
            l => (usize::from(l), 2),
        };
        assert_eq!(hdr + len, cert.len());
        // the embedded SPKI is the attacker's key
        use p256::pkcs8::EncodePublicKey as _;
        let spki = p256::PublicKey::from(attacker_ec().verifying_key())
            .to_public_key_der()
            .unwrap();
        assert!(
            cert.windows(spki.as_bytes().len())
                .any(|w| w == spki.as_bytes())
        );
    }

    #[test]
    fn hmac_known_answer() {
        // RFC 4231 test case 2
        let mac = hmac("HS256", b"Jefe", b"what do ya want for nothing?").unwrap();
        assert_eq!(
            b64::encode(mac),
            b64::encode(
                (0..32)
                    .map(|i| {
                        u8::from_str_radix(
                            &"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
                                [2 * i..2 * i + 2],
                            16,
                        )
                        .unwrap()
                    })
                    .collect::<Vec<_>>()
            )
        );
        assert_eq!(hmac("HS512", b"", b"x").unwrap().len(), 64);
        assert!(hmac("ES256", b"", b"x").is_err());
    }

    #[test]
    fn attacker_signatures_have_jws_shapes() {
        let es = attacker_sign("ES256", b"h.p").unwrap();
        assert_eq!(es.len(), 64);
        let sig = p256::ecdsa::Signature::from_slice(&es).unwrap();
        attacker_ec().verifying_key().verify(b"h.p", &sig).unwrap();
        assert_eq!(attacker_sign("ES384", b"h.p").unwrap().len(), 96);
        assert_eq!(attacker_sign("ES512", b"h.p").unwrap().len(), 132);
        assert_eq!(attacker_sign("EdDSA", b"h.p").unwrap().len(), 64);
        assert_eq!(attacker_sign("RS256", b"h.p").unwrap().len(), 256);
        let jwk = attacker_public_jwk("ES256", "k").unwrap();
        assert_eq!(jwk["crv"], "P-256");
        assert_eq!(jwk["kid"], "k");
    }
}
