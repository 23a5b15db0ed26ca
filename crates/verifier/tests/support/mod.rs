//! Test support: keys generated once per test binary, token minting with raw aws-lc-rs, a fake
//! clock, and a wiremock JWKS endpoint (the third party a verifier talks to).
#![allow(dead_code)]

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use aws_lc_rs::{hmac, rsa::KeySize};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use xauth_verifier::{Clock, JwksPolicy, Verifier, VerifierConfig};

/// The fixed "now" of most tests.
pub const NOW: i64 = 1_900_000_000;
/// The legacy HS256 secret (≥ 32 bytes).
pub const SECRET: &[u8] = b"test-legacy-hs256-secret-of-at-least-32-bytes";
pub const JWKS_PATH: &str = "/auth/v1/.well-known/jwks.json";

pub struct TestKeys {
    pub ec: EcdsaKeyPair,
    pub ec2: EcdsaKeyPair,
    pub rsa: RsaKeyPair,
    pub attacker_ec: EcdsaKeyPair,
    pub attacker_rsa: RsaKeyPair,
    pub p384: EcdsaKeyPair,
    pub ed25519: Ed25519KeyPair,
}

pub fn keys() -> &'static TestKeys {
    static KEYS: OnceLock<TestKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let ec = || EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let rsa = || RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        TestKeys {
            ec: ec(),
            ec2: ec(),
            rsa: rsa(),
            attacker_ec: ec(),
            attacker_rsa: rsa(),
            p384: EcdsaKeyPair::generate(&signature::ECDSA_P384_SHA384_FIXED_SIGNING).unwrap(),
            ed25519: Ed25519KeyPair::generate().unwrap(),
        }
    })
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap()
}

/// The uncompressed point `04‖x‖y` of an EC key.
pub fn ec_point(kp: &EcdsaKeyPair) -> Vec<u8> {
    kp.public_key().as_ref().to_vec()
}

pub fn ec_jwk(kp: &EcdsaKeyPair, kid: &str) -> Value {
    let p = ec_point(kp);
    let n = (p.len() - 1) / 2;
    let crv = if n == 32 { "P-256" } else { "P-384" };
    let alg = if n == 32 { "ES256" } else { "ES384" };
    json!({"kty":"EC","crv":crv,"x":b64(&p[1..1 + n]),"y":b64(&p[1 + n..]),"kid":kid,"alg":alg,"use":"sig","key_ops":["verify"],"ext":true})
}

pub fn rsa_n(kp: &RsaKeyPair) -> Vec<u8> {
    kp.public_key()
        .modulus()
        .big_endian_without_leading_zero()
        .to_vec()
}

pub fn rsa_jwk(kp: &RsaKeyPair, kid: &str) -> Value {
    json!({"kty":"RSA","n":b64(rsa_n(kp)),"e":"AQAB","kid":kid,"alg":"RS256","use":"sig","key_ops":["verify"],"ext":true})
}

/// How to sign a token.
#[derive(Clone, Copy)]
pub enum Signer<'a> {
    Es256(&'a EcdsaKeyPair),
    Es384(&'a EcdsaKeyPair),
    Rs256(&'a RsaKeyPair),
    Rs384(&'a RsaKeyPair),
    Rs512(&'a RsaKeyPair),
    Ps256(&'a RsaKeyPair),
    Hs256(&'a [u8]),
    Hs384(&'a [u8]),
    Hs512(&'a [u8]),
    EdDsa(&'a Ed25519KeyPair),
    /// An empty signature segment.
    Empty,
    /// These exact signature bytes.
    Raw(&'a [u8]),
}

pub fn sign(signer: Signer<'_>, input: &[u8]) -> Vec<u8> {
    let rng = SystemRandom::new();
    let rsa = |kp: &RsaKeyPair, alg: &'static dyn signature::RsaEncoding| {
        let mut sig = vec![0; kp.public_modulus_len()];
        kp.sign(alg, &rng, input, &mut sig).unwrap();
        sig
    };
    let mac = |alg, key: &[u8]| {
        hmac::sign(&hmac::Key::new(alg, key), input)
            .as_ref()
            .to_vec()
    };
    match signer {
        Signer::Es256(kp) | Signer::Es384(kp) => kp.sign(&rng, input).unwrap().as_ref().to_vec(),
        Signer::Rs256(kp) => rsa(kp, &signature::RSA_PKCS1_SHA256),
        Signer::Rs384(kp) => rsa(kp, &signature::RSA_PKCS1_SHA384),
        Signer::Rs512(kp) => rsa(kp, &signature::RSA_PKCS1_SHA512),
        Signer::Ps256(kp) => rsa(kp, &signature::RSA_PSS_SHA256),
        Signer::Hs256(k) => mac(hmac::HMAC_SHA256, k),
        Signer::Hs384(k) => mac(hmac::HMAC_SHA384, k),
        Signer::Hs512(k) => mac(hmac::HMAC_SHA512, k),
        Signer::EdDsa(kp) => kp.sign(input).as_ref().to_vec(),
        Signer::Empty => Vec::new(),
        Signer::Raw(b) => b.to_vec(),
    }
}

/// `b64(header).b64(payload).b64(sig)` over the exact texts given.
pub fn compact(header: &str, payload: &str, signer: Signer<'_>) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let sig = sign(signer, input.as_bytes());
    format!("{input}.{}", b64(sig))
}

pub fn jwt(header: &Value, claims: &Value, signer: Signer<'_>) -> String {
    compact(&header.to_string(), &claims.to_string(), signer)
}

/// Replaces the signature segment.
pub fn with_sig(token: &str, sig: &[u8]) -> String {
    let (input, _) = token.rsplit_once('.').unwrap();
    format!("{input}.{}", b64(sig))
}

pub fn segments(token: &str) -> Vec<String> {
    token.split('.').map(str::to_owned).collect()
}

/// A clock the test moves by hand.
#[derive(Debug)]
pub struct FakeClock(AtomicI64);

impl FakeClock {
    pub fn new(now: i64) -> Arc<Self> {
        Arc::new(FakeClock(AtomicI64::new(now)))
    }
    pub fn set(&self, now: i64) {
        self.0.store(now, Ordering::SeqCst);
    }
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now_unix(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A wiremock JWKS server, a verifier pointed at it, and the clock both share.
pub struct Fixture {
    pub server: MockServer,
    pub verifier: Verifier,
    pub clock: Arc<FakeClock>,
    pub issuer: String,
}

/// The standard key set: `ec-1` (P-256), `ec-2` (P-256), `rsa-1` (RSA-2048).
pub fn standard_jwks() -> Value {
    let k = keys();
    json!({"keys":[ec_jwk(&k.ec, "ec-1"), ec_jwk(&k.ec2, "ec-2"), rsa_jwk(&k.rsa, "rsa-1")]})
}

pub async fn jwks_server(jwks: &Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(JWKS_PATH))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(jwks)
                .insert_header("cache-control", "public, max-age=300"),
        )
        .mount(&server)
        .await;
    server
}

/// A fixture with the standard JWKS, HS256 on, leeway 0, clock at [`NOW`].
pub async fn fixture() -> Fixture {
    fixture_with(&standard_jwks(), |c| c.legacy_secret(SECRET)).await
}

pub async fn fixture_with(
    jwks: &Value,
    configure: impl FnOnce(VerifierConfig) -> VerifierConfig,
) -> Fixture {
    let server = jwks_server(jwks).await;
    fixture_on(server, configure)
}

pub fn fixture_on(
    server: MockServer,
    configure: impl FnOnce(VerifierConfig) -> VerifierConfig,
) -> Fixture {
    let clock = FakeClock::new(NOW);
    let cfg = VerifierConfig::supabase(&server.uri())
        .unwrap()
        .clock(clock.clone())
        .jwks_cache(JwksPolicy {
            fetch_timeout: std::time::Duration::from_secs(2),
            ..JwksPolicy::default()
        });
    let issuer = cfg.issuer().to_owned();
    let verifier = Verifier::new(configure(cfg)).unwrap();
    Fixture {
        server,
        verifier,
        clock,
        issuer,
    }
}

impl Fixture {
    /// A GoTrue-shaped claim set valid at the fixture's clock.
    pub fn claims(&self) -> Value {
        let now = self.clock.now_unix();
        json!({
            "iss": self.issuer,
            "sub": "6f1d3c2e-8a41-4a8e-9a55-1c5b3f7d2e10",
            "aud": "authenticated",
            "exp": now + 3600,
            "iat": now,
            "email": "user@example.com",
            "phone": "",
            "app_metadata": {"provider":"email","providers":["email"]},
            "user_metadata": {},
            "role": "authenticated",
            "aal": "aal1",
            "amr": [{"method":"password","timestamp": now}],
            "session_id": "0d6f2b8e-3c1a-4f7e-8d2b-9a1c5e7f3b20",
            "is_anonymous": false
        })
    }

    /// The claims with `changes` merged over them (`null` removes a member).
    pub fn claims_with(&self, changes: Value) -> Value {
        let mut c = self.claims();
        let obj = c.as_object_mut().unwrap();
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                obj.remove(k);
            } else {
                obj.insert(k.clone(), v.clone());
            }
        }
        c
    }

    pub fn es256(&self, claims: &Value) -> String {
        jwt(
            &json!({"alg":"ES256","kid":"ec-1","typ":"JWT"}),
            claims,
            Signer::Es256(&keys().ec),
        )
    }
    pub fn rs256(&self, claims: &Value) -> String {
        jwt(
            &json!({"alg":"RS256","kid":"rsa-1","typ":"JWT"}),
            claims,
            Signer::Rs256(&keys().rsa),
        )
    }
    pub fn hs256(&self, claims: &Value) -> String {
        jwt(
            &json!({"alg":"HS256","typ":"JWT"}),
            claims,
            Signer::Hs256(SECRET),
        )
    }

    pub async fn jwks_hits(&self) -> usize {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path() == JWKS_PATH)
            .count()
    }
}
