//! The one local ES256 signer: P-256 keys only the harness holds (the attacker's key, the key
//! the issuer never published, the keys behind extra JWKS entries), signing JWS input with the
//! raw `r‖s` encoding and printing their public JWK.

use std::sync::OnceLock;

use p256::ecdsa::signature::Signer as _;
use serde_json::{Value, json};

use crate::forge::jws::Jws;

/// A P-256 private key held by the harness.
#[derive(Clone)]
pub struct LocalEs256(p256::ecdsa::SigningKey);

impl std::fmt::Debug for LocalEs256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never the private key
        f.write_str("LocalEs256")
    }
}

impl LocalEs256 {
    /// A fresh random key.
    pub fn generate() -> Self {
        Self(p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng))
    }

    /// The p256 signing key.
    pub fn key(&self) -> &p256::ecdsa::SigningKey {
        &self.0
    }

    /// The private scalar `d` (32 bytes, big-endian).
    pub fn secret_bytes(&self) -> Vec<u8> {
        self.0.to_bytes().to_vec()
    }

    /// The ES256 JWS signature of `input`: raw `r‖s`, 64 bytes.
    pub fn sign(&self, input: &[u8]) -> Vec<u8> {
        let sig: p256::ecdsa::Signature = self.0.sign(input);
        sig.to_bytes().to_vec()
    }

    /// The compact JWS of the exact `header` and `payload` texts, signed by this key.
    pub fn sign_compact(&self, header: &str, payload: &str) -> String {
        let jws = Jws::from_texts(header, payload);
        let sig = self.sign(jws.signing_input().as_bytes());
        jws.with_signature_bytes(&sig).compact()
    }

    /// The public JWK (`kty`, `crv`, `x`, `y`) with `kid`, `alg` ES256 and, unless `None`,
    /// `use`.
    pub fn public_jwk(&self, kid: &str, use_: Option<&str>) -> Result<Value, String> {
        let text = p256::PublicKey::from(self.0.verifying_key()).to_jwk_string();
        let mut jwk: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        jwk["kid"] = json!(kid);
        jwk["alg"] = json!("ES256");
        if let Some(u) = use_ {
            jwk["use"] = json!(u);
        }
        Ok(jwk)
    }
}

/// The attacker's ES256 key (one per process).
pub fn attacker_es256() -> &'static LocalEs256 {
    static KEY: OnceLock<LocalEs256> = OnceLock::new();
    KEY.get_or_init(LocalEs256::generate)
}

/// The ES256 key the issuer never published (signatures are valid, the key is unknown; one per
/// process).
pub fn unpublished_es256() -> &'static LocalEs256 {
    static KEY: OnceLock<LocalEs256> = OnceLock::new();
    KEY.get_or_init(LocalEs256::generate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_with_the_published_point() {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
        let key = unpublished_es256();
        let token = key.sign_compact(r#"{"alg":"ES256","kid":"k"}"#, r#"{"sub":"x"}"#);
        let jws = Jws::parse(&token).unwrap();
        let jwk = key.public_jwk("k", Some("sig")).unwrap();
        let mut sec1 = vec![0x04];
        sec1.extend(crate::forge::b64::decode(jwk["x"].as_str().unwrap()).unwrap());
        sec1.extend(crate::forge::b64::decode(jwk["y"].as_str().unwrap()).unwrap());
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, sec1)
            .verify(
                jws.signing_input().as_bytes(),
                &jws.signature_bytes().unwrap(),
            )
            .unwrap();
        assert_ne!(
            attacker_es256().public_jwk("k", None).unwrap(),
            jwk,
            "the attacker's and the unpublished key are distinct"
        );
    }
}
