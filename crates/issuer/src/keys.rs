//! Signing keys (ES256, RS256, legacy HS256), their lifecycle, and token signing.
//!
//! The key set is an immutable [`Snapshot`] behind a read-mostly lock: readers (every JWKS
//! request, every access token) clone one `Arc` and never wait on each other; a key change builds
//! a new snapshot (including the pre-serialized JWKS body) and swaps it in.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    self, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    RsaKeyPair, UnparsedPublicKey,
};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The Supabase CLI's well-known local JWT secret.
pub const DEFAULT_JWT_SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";

/// `exp` of the Supabase CLI's well-known anon and service_role keys.
const API_KEY_EXP: i64 = 1_983_812_996;

/// Longest bearer token [`KeyStore::verify_bearer`] looks at.
pub const MAX_BEARER_BYTES: usize = 16 * 1024;

/// Why a bearer token was refused by the issuer's own (GoTrue-like) validation.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BearerError {
    #[error("token is malformed")]
    Malformed,
    #[error("signature is invalid")]
    BadSignature,
    /// `exp` has passed (also used when `nbf` is still in the future).
    #[error("token is expired")]
    Expired,
}

/// A key-management failure.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no key with kid {0:?}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(&'static str),
    #[error("key generation failed")]
    Generation,
    #[error("could not persist keys: {0}")]
    Persist(#[from] std::io::Error),
}

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

/// Where a key is in its lifecycle: standby -> current -> previous -> revoked (-> standby).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// Published in the JWKS, not signing.
    Standby,
    /// Published and signing new access tokens (exactly one key).
    Current,
    /// Published, no longer signing.
    Previous,
    /// Not published; still usable by `mint` (to forge tokens under a revoked key).
    Revoked,
}

impl KeyState {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Standby => "standby",
            KeyState::Current => "current",
            KeyState::Previous => "previous",
            KeyState::Revoked => "revoked",
        }
    }
}

/// Public view of one key, as `GET /_control/v1/keys` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyInfo {
    pub kid: String,
    pub alg: KeyAlg,
    pub state: KeyState,
    /// The public JWK (exactly what the JWKS publishes while the key is not revoked).
    pub public_jwk: Value,
}

/// Every algorithm a token can be signed with (by `mint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignAlg {
    Es256,
    Rs256,
    Rs384,
    Rs512,
    Ps256,
    Ps384,
    Ps512,
    Hs256,
    Hs384,
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

    fn rsa_encoding(self) -> Option<&'static dyn signature::RsaEncoding> {
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

    fn hmac_algorithm(self) -> Option<hmac::Algorithm> {
        Some(match self {
            SignAlg::Hs256 => hmac::HMAC_SHA256,
            SignAlg::Hs384 => hmac::HMAC_SHA384,
            SignAlg::Hs512 => hmac::HMAC_SHA512,
            _ => return None,
        })
    }
}

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

    fn verify(&self, input: &[u8], sig: &[u8]) -> bool {
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

/// The legacy HS256 secret and the API keys derived from it.
#[derive(Clone)]
pub struct LegacySecret {
    secret: String,
    hs256: hmac::Key,
    anon_key: String,
    service_role_key: String,
}

impl std::fmt::Debug for LegacySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LegacySecret").finish_non_exhaustive()
    }
}

impl LegacySecret {
    /// Derives the anon and service_role API keys like the Supabase CLI does
    /// (`{"iss":"supabase-demo","role":…,"exp":1983812996}`, HS256).
    pub fn new(secret: impl Into<String>) -> Self {
        let secret = secret.into();
        let hs256 = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        let api_key = |role: &str| {
            let input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
                URL_SAFE_NO_PAD.encode(format!(
                    r#"{{"iss":"supabase-demo","role":"{role}","exp":{API_KEY_EXP}}}"#
                ))
            );
            let tag = hmac::sign(&hs256, input.as_bytes());
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
        };
        Self {
            anon_key: api_key("anon"),
            service_role_key: api_key("service_role"),
            secret,
            hs256,
        }
    }

    /// The secret text.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// The anon API key.
    pub fn anon_key(&self) -> &str {
        &self.anon_key
    }

    /// The service_role API key.
    pub fn service_role_key(&self) -> &str {
        &self.service_role_key
    }

    /// HMAC of `input` with HS256/384/512.
    pub fn sign(&self, alg: SignAlg, input: &[u8]) -> Result<Vec<u8>, KeyError> {
        let algorithm = alg.hmac_algorithm().ok_or(KeyError::Conflict(
            "the legacy secret signs HS256, HS384 or HS512 only",
        ))?;
        let key = if alg == SignAlg::Hs256 {
            self.hs256.clone()
        } else {
            hmac::Key::new(algorithm, self.secret.as_bytes())
        };
        Ok(hmac::sign(&key, input).as_ref().to_vec())
    }
}

#[derive(Clone)]
struct Entry {
    key: Arc<SigningKey>,
    state: KeyState,
}

/// An immutable view of the key set.
struct Snapshot {
    entries: Vec<Entry>,
    current: Arc<SigningKey>,
    /// Arbitrary JWK entries published after the issuer's own keys (control API
    /// `/jwks/extra`); never persisted.
    extras: Arc<[Value]>,
    jwks: Bytes,
}

impl Snapshot {
    fn build(entries: Vec<Entry>, extras: Arc<[Value]>) -> Result<Self, KeyError> {
        let current = entries
            .iter()
            .find(|e| e.state == KeyState::Current)
            .map(|e| e.key.clone())
            .ok_or(KeyError::Conflict("no current key"))?;
        let published: Vec<&Value> = entries
            .iter()
            .filter(|e| e.state != KeyState::Revoked)
            .map(|e| &e.key.public_jwk)
            .chain(extras.iter())
            .collect();
        let jwks = serde_json::to_vec(&json!({ "keys": published }))
            .map_err(|e| KeyError::Persist(std::io::Error::other(e)))?;
        Ok(Self {
            entries,
            current,
            extras,
            jwks: Bytes::from(jwks),
        })
    }

    fn info(&self) -> Vec<KeyInfo> {
        self.entries.iter().map(info_of).collect()
    }
}

fn info_of(e: &Entry) -> KeyInfo {
    KeyInfo {
        kid: e.key.kid.clone(),
        alg: e.key.alg,
        state: e.state,
        public_jwk: e.key.public_jwk.clone(),
    }
}

/// On-disk form of the key set (`<state_dir>/keys.json`, mode 0600).
#[derive(Serialize, Deserialize)]
struct PersistedKeys {
    version: u32,
    jwt_secret: String,
    keys: Vec<PersistedKey>,
}

#[derive(Serialize, Deserialize)]
struct PersistedKey {
    kid: String,
    alg: KeyAlg,
    state: KeyState,
    /// Standard base64 of the PKCS#8 private key.
    pkcs8: String,
}

/// Largest key file read at start-up.
pub const MAX_KEYS_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The file keys persist in, inside the state dir.
pub const KEYS_FILE: &str = "keys.json";

/// The issuer's key set: asymmetric keys with their lifecycle states plus the legacy secret.
pub struct KeyStore {
    snapshot: RwLock<Arc<Snapshot>>,
    /// Serializes changes (never taken on the read path).
    writer: Mutex<()>,
    legacy: LegacySecret,
    persist_path: Option<PathBuf>,
    ready: AtomicBool,
    ready_tx: tokio::sync::watch::Sender<bool>,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore")
            .field("keys", &self.snapshot.read().info())
            .finish_non_exhaustive()
    }
}

/// What [`KeyStore::open`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// Keys came from the state dir.
    Loaded,
    /// A fresh ES256 current key was made; the standby RS256 key is still to be generated
    /// ([`KeyStore::spawn_standby_rsa`]).
    Fresh,
}

impl KeyStore {
    /// A fresh key set: an ES256 current key now; the RS256 standby key must follow through
    /// [`KeyStore::spawn_standby_rsa`] (the store reports not-ready until it is in).
    pub fn generate(jwt_secret: &str) -> Result<Self, KeyError> {
        let es = SigningKey::generate(KeyAlg::Es256)?;
        let entries = vec![Entry {
            key: Arc::new(es),
            state: KeyState::Current,
        }];
        Self::from_parts(entries, LegacySecret::new(jwt_secret), None, false)
    }

    /// A key set with both default keys generated synchronously (ES256 current, RS256 standby).
    pub fn generate_complete(jwt_secret: &str) -> Result<Self, KeyError> {
        let es = SigningKey::generate(KeyAlg::Es256)?;
        let rs = SigningKey::generate(KeyAlg::Rs256)?;
        let entries = vec![
            Entry {
                key: Arc::new(es),
                state: KeyState::Current,
            },
            Entry {
                key: Arc::new(rs),
                state: KeyState::Standby,
            },
        ];
        Self::from_parts(entries, LegacySecret::new(jwt_secret), None, true)
    }

    /// Loads the key set from `state_dir/keys.json`, or makes a fresh one (persisted there) if
    /// the file does not exist. `jwt_secret` overrides the persisted secret; without either, the
    /// CLI's well-known secret is used.
    pub fn open(
        state_dir: Option<&Path>,
        jwt_secret: Option<&str>,
    ) -> Result<(Self, Opened), KeyError> {
        let Some(dir) = state_dir else {
            let store = Self::generate(jwt_secret.unwrap_or(DEFAULT_JWT_SECRET))?;
            return Ok((store, Opened::Fresh));
        };
        let path = dir.join(KEYS_FILE);
        if let Ok(meta) = std::fs::metadata(&path)
            && meta.len() > MAX_KEYS_FILE_BYTES
        {
            return Err(KeyError::Persist(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{} is larger than {MAX_KEYS_FILE_BYTES} bytes",
                    path.display()
                ),
            )));
        }
        match std::fs::read(&path) {
            Ok(bytes) => {
                let persisted: PersistedKeys = serde_json::from_slice(&bytes).map_err(|e| {
                    KeyError::Persist(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("{}: {e}", path.display()),
                    ))
                })?;
                let mut entries = Vec::with_capacity(persisted.keys.len());
                for k in persisted.keys {
                    let pkcs8 = STANDARD.decode(k.pkcs8.as_bytes()).map_err(|e| {
                        KeyError::Persist(std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            format!("{}: key {}: {e}", path.display(), k.kid),
                        ))
                    })?;
                    let key = SigningKey::from_pkcs8(k.kid, k.alg, pkcs8)?;
                    entries.push(Entry {
                        key: Arc::new(key),
                        state: k.state,
                    });
                }
                let secret = jwt_secret.unwrap_or(&persisted.jwt_secret);
                let store = Self::from_parts(entries, LegacySecret::new(secret), Some(path), true)?;
                if jwt_secret.is_some_and(|s| s != persisted.jwt_secret) {
                    store.persist(&store.snapshot.read().clone())?;
                }
                Ok((store, Opened::Loaded))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut store = Self::generate(jwt_secret.unwrap_or(DEFAULT_JWT_SECRET))?;
                store.persist_path = Some(path);
                store.persist(&store.snapshot.read().clone())?;
                Ok((store, Opened::Fresh))
            }
            Err(e) => Err(KeyError::Persist(e)),
        }
    }

    fn from_parts(
        entries: Vec<Entry>,
        legacy: LegacySecret,
        persist_path: Option<PathBuf>,
        ready: bool,
    ) -> Result<Self, KeyError> {
        let snapshot = Snapshot::build(entries, Arc::from(Vec::new()))?;
        Ok(Self {
            snapshot: RwLock::new(Arc::new(snapshot)),
            writer: Mutex::new(()),
            legacy,
            persist_path,
            ready: AtomicBool::new(ready),
            ready_tx: tokio::sync::watch::Sender::new(ready),
        })
    }

    /// Generates the default RS256 standby key on a background thread, then marks the store
    /// ready. Readiness of the HTTP server does not wait for it; the JWKS and every key operation
    /// do (see [`KeyStore::ready`]).
    pub fn spawn_standby_rsa(self: &Arc<Self>) {
        let store = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("xauth-rsa-keygen".into())
            .spawn(move || {
                let generated = SigningKey::generate(KeyAlg::Rs256);
                let Some(store) = store.upgrade() else { return };
                match generated {
                    Ok(key) => {
                        if let Err(e) = store.insert(key, KeyState::Standby) {
                            tracing::error!(error = %e, "storing the standby RS256 key failed");
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "generating the standby RS256 key failed")
                    }
                }
                store.mark_ready();
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "could not start the key generation thread");
            self.mark_ready();
        }
    }

    fn mark_ready(&self) {
        self.ready.store(true, Ordering::Release);
        self.ready_tx.send_replace(true);
    }

    /// Whether the default key set is complete.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Waits until the default key set is complete (the standby RS256 key generated).
    pub async fn ready(&self) {
        if self.is_ready() {
            return;
        }
        let mut rx = self.ready_tx.subscribe();
        let _ = rx.wait_for(|r| *r).await;
    }

    fn snap(&self) -> Arc<Snapshot> {
        self.snapshot.read().clone()
    }

    /// The legacy secret and the API keys derived from it.
    pub fn legacy(&self) -> &LegacySecret {
        &self.legacy
    }

    /// The pre-serialized JWKS body (`{"keys":[…]}`, public members only, revoked keys left out).
    pub fn jwks_body(&self) -> Bytes {
        self.snapshot.read().jwks.clone()
    }

    /// The extra JWK entries published after the issuer's own keys (empty by default).
    pub fn extra_jwks(&self) -> Vec<Value> {
        self.snapshot.read().extras.to_vec()
    }

    /// Replaces the extra JWK entries published after the issuer's own keys (an empty list
    /// clears them) and re-serializes the JWKS body. Key changes keep them; they are never
    /// persisted. Callers bound them first ([`crate::jwks::validate_extra_jwks`]).
    pub fn set_extra_jwks(&self, extras: Vec<Value>) -> Result<(), KeyError> {
        let _writer = self.writer.lock();
        let entries = self.snap().entries.clone();
        let snapshot = Arc::new(Snapshot::build(entries, Arc::from(extras))?);
        *self.snapshot.write() = snapshot;
        Ok(())
    }

    /// Every key with its state, oldest first.
    pub fn keys(&self) -> Vec<KeyInfo> {
        self.snap().info()
    }

    /// The key signing access tokens.
    pub fn current(&self) -> Arc<SigningKey> {
        self.snapshot.read().current.clone()
    }

    /// The key with `kid`, in any state, with that state.
    pub fn find(&self, kid: &str) -> Option<(Arc<SigningKey>, KeyState)> {
        self.snap()
            .entries
            .iter()
            .find(|e| e.key.kid == kid)
            .map(|e| (e.key.clone(), e.state))
    }

    /// The info of the key with `kid`.
    pub fn key_info(&self, kid: &str) -> Option<KeyInfo> {
        self.snap()
            .entries
            .iter()
            .find(|e| e.key.kid == kid)
            .map(info_of)
    }

    /// Signs `claims` with the current key; header `{"alg","kid","typ":"JWT"}`. Claims are
    /// written in GoTrue's member order (registered claims first), the rest after.
    pub fn sign_access_token(&self, claims: &Value) -> String {
        let key = self.current();
        let payload = match claims {
            Value::Object(map) => gotrue_ordered_json(map),
            other => other.to_string(),
        };
        let input = format!("{}.{}", key.header_b64, URL_SAFE_NO_PAD.encode(payload));
        match key.sign(SignAlg::from_key(key.alg), input.as_bytes()) {
            Ok(sig) => format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)),
            Err(e) => {
                // Signing with a valid in-memory key does not fail; if it ever does, the token
                // is unusable (empty signature) rather than the server panicking.
                tracing::error!(error = %e, kid = key.kid, "signing an access token failed");
                format!("{input}.")
            }
        }
    }

    /// GoTrue's bearer validation: kid lookup among published keys (alg pinned to the key),
    /// HS256 with the legacy secret when the kid is absent or unknown, then `exp` (and `nbf`).
    /// `aud` and `iss` are not checked (GoTrue does not).
    pub fn verify_bearer(&self, token: &str, now: i64) -> Result<Map<String, Value>, BearerError> {
        if token.len() > MAX_BEARER_BYTES {
            return Err(BearerError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(BearerError::Malformed);
        };
        let header: Map<String, Value> = decode_json_part(h)?;
        let claims: Map<String, Value> = decode_json_part(p)?;
        let sig = URL_SAFE_NO_PAD
            .decode(s.as_bytes())
            .map_err(|_| BearerError::Malformed)?;
        let alg = header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or(BearerError::Malformed)?;
        let input = &token.as_bytes()[..h.len() + 1 + p.len()];
        let published = header.get("kid").and_then(Value::as_str).and_then(|kid| {
            self.snap()
                .entries
                .iter()
                .find(|e| e.key.kid == kid && e.state != KeyState::Revoked)
                .map(|e| e.key.clone())
        });
        let valid = match published {
            Some(key) => alg == key.alg.as_str() && key.verify(input, &sig),
            None if alg == "HS256" => hmac::verify(&self.legacy.hs256, input, &sig).is_ok(),
            None => false,
        };
        if !valid {
            return Err(BearerError::BadSignature);
        }
        match claims.get("exp") {
            None => {}
            Some(Value::Number(n)) => {
                let exp = n.as_f64().ok_or(BearerError::Malformed)?;
                if now as f64 >= exp {
                    return Err(BearerError::Expired);
                }
            }
            Some(_) => return Err(BearerError::Malformed),
        }
        match claims.get("nbf") {
            None => {}
            Some(Value::Number(n)) => {
                let nbf = n.as_f64().ok_or(BearerError::Malformed)?;
                if (now as f64) < nbf {
                    return Err(BearerError::Expired);
                }
            }
            Some(_) => return Err(BearerError::Malformed),
        }
        Ok(claims)
    }

    fn insert(&self, key: SigningKey, state: KeyState) -> Result<KeyInfo, KeyError> {
        self.change(|entries| {
            if state == KeyState::Current {
                demote_current(entries);
            }
            entries.push(Entry {
                key: Arc::new(key),
                state,
            });
            Ok(entries.len() - 1)
        })
    }

    /// Applies `f` to a copy of the entries (it returns the index of the key to report), then
    /// persists and publishes the result.
    fn change(
        &self,
        f: impl FnOnce(&mut Vec<Entry>) -> Result<usize, KeyError>,
    ) -> Result<KeyInfo, KeyError> {
        let _writer = self.writer.lock();
        let before = self.snap();
        let mut entries = before.entries.clone();
        let index = f(&mut entries)?;
        let info = entries
            .get(index)
            .map(info_of)
            .ok_or(KeyError::Generation)?;
        let snapshot = Arc::new(Snapshot::build(entries, before.extras.clone())?);
        self.persist(&snapshot)?;
        *self.snapshot.write() = snapshot;
        Ok(info)
    }

    /// Adds a freshly generated key (RSA generation runs on the blocking pool).
    pub async fn add(&self, alg: KeyAlg, state: KeyState) -> Result<KeyInfo, KeyError> {
        if !matches!(state, KeyState::Standby | KeyState::Current) {
            return Err(KeyError::Conflict("a new key starts as standby or current"));
        }
        self.ready().await;
        let key = generate_off_runtime(alg).await?;
        self.insert(key, state)
    }

    /// Makes `kid` (default: the oldest standby key; a fresh ES256 key if there is none) the
    /// current key; the old current key becomes previous.
    pub async fn rotate(&self, kid: Option<&str>) -> Result<KeyInfo, KeyError> {
        self.ready().await;
        if kid.is_none()
            && !self
                .snap()
                .entries
                .iter()
                .any(|e| e.state == KeyState::Standby)
        {
            let key = generate_off_runtime(KeyAlg::Es256).await?;
            return self.insert(key, KeyState::Current);
        }
        self.change(|entries| {
            let index = match kid {
                Some(kid) => entries
                    .iter()
                    .position(|e| e.key.kid == kid)
                    .ok_or_else(|| KeyError::NotFound(kid.to_string()))?,
                None => entries
                    .iter()
                    .position(|e| e.state == KeyState::Standby)
                    .ok_or(KeyError::Conflict("no standby key"))?,
            };
            if entries[index].state != KeyState::Current {
                demote_current(entries);
                entries[index].state = KeyState::Current;
            }
            Ok(index)
        })
    }

    /// Revokes `kid`: it leaves the JWKS (the current key cannot be revoked; rotate first).
    pub async fn revoke(&self, kid: &str) -> Result<KeyInfo, KeyError> {
        self.set_state(kid, KeyState::Revoked).await
    }

    /// Publishes `kid` again as a standby key (the current key cannot be put on standby).
    pub async fn standby(&self, kid: &str) -> Result<KeyInfo, KeyError> {
        self.set_state(kid, KeyState::Standby).await
    }

    async fn set_state(&self, kid: &str, state: KeyState) -> Result<KeyInfo, KeyError> {
        self.ready().await;
        self.change(|entries| {
            let index = entries
                .iter()
                .position(|e| e.key.kid == kid)
                .ok_or_else(|| KeyError::NotFound(kid.to_string()))?;
            if entries[index].state == KeyState::Current {
                return Err(KeyError::Conflict(
                    "the current key signs new tokens; rotate to another key first",
                ));
            }
            entries[index].state = state;
            Ok(index)
        })
    }

    fn persist(&self, snapshot: &Snapshot) -> Result<(), KeyError> {
        let Some(path) = &self.persist_path else {
            return Ok(());
        };
        let persisted = PersistedKeys {
            version: 1,
            jwt_secret: self.legacy.secret.clone(),
            keys: snapshot
                .entries
                .iter()
                .map(|e| PersistedKey {
                    kid: e.key.kid.clone(),
                    alg: e.key.alg,
                    state: e.state,
                    pkcs8: STANDARD.encode(&e.key.pkcs8),
                })
                .collect(),
        };
        let bytes = serde_json::to_vec_pretty(&persisted).map_err(std::io::Error::other)?;
        write_private_atomic(path, &bytes)?;
        Ok(())
    }
}

impl Default for KeyStore {
    /// An in-memory key set with a fresh ES256 current key and the default secret (no RS256
    /// standby key); for unit tests. Panics only if the system cannot generate a P-256 key.
    fn default() -> Self {
        #[allow(clippy::expect_used)]
        let store = Self::generate(DEFAULT_JWT_SECRET).expect("P-256 key generation");
        store.mark_ready();
        store
    }
}

impl SignAlg {
    /// The default signing algorithm of a key kind.
    pub fn from_key(alg: KeyAlg) -> Self {
        match alg {
            KeyAlg::Es256 => SignAlg::Es256,
            KeyAlg::Rs256 => SignAlg::Rs256,
        }
    }
}

fn demote_current(entries: &mut [Entry]) {
    for e in entries.iter_mut().filter(|e| e.state == KeyState::Current) {
        e.state = KeyState::Previous;
    }
}

async fn generate_off_runtime(alg: KeyAlg) -> Result<SigningKey, KeyError> {
    match alg {
        KeyAlg::Es256 => SigningKey::generate(alg),
        KeyAlg::Rs256 => tokio::task::spawn_blocking(move || SigningKey::generate(alg))
            .await
            .map_err(|_| KeyError::Generation)?,
    }
}

fn decode_json_part(part: &str) -> Result<Map<String, Value>, BearerError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part.as_bytes())
        .map_err(|_| BearerError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| BearerError::Malformed)
}

/// GoTrue's access-token claim order (Go struct order); other members follow in map order.
pub(crate) const GOTRUE_CLAIM_ORDER: [&str; 16] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "email",
    "phone",
    "app_metadata",
    "user_metadata",
    "role",
    "aal",
    "amr",
    "session_id",
    "is_anonymous",
];

/// Serializes a claim set with GoTrue's member order.
pub(crate) fn gotrue_ordered_json(map: &Map<String, Value>) -> String {
    let mut out = String::with_capacity(512);
    out.push('{');
    let mut first = true;
    let mut push = |k: &str, v: &Value, out: &mut String| {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(&Value::String(k.to_string()).to_string());
        out.push(':');
        out.push_str(&v.to_string());
    };
    for k in GOTRUE_CLAIM_ORDER {
        if let Some(v) = map.get(k) {
            push(k, v, &mut out);
        }
    }
    for (k, v) in map {
        if !GOTRUE_CLAIM_ORDER.contains(&k.as_str()) {
            push(k, v, &mut out);
        }
    }
    out.push('}');
    out
}

/// Writes `bytes` to `path` atomically (temp file in the same dir, fsync, rename), mode 0600.
pub(crate) fn write_private_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = (|| {
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLI_ANON_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";
    const CLI_SERVICE_ROLE_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU";

    #[test]
    fn default_secret_gives_the_cli_api_keys_byte_for_byte() {
        let legacy = LegacySecret::new(DEFAULT_JWT_SECRET);
        assert_eq!(legacy.anon_key(), CLI_ANON_KEY);
        assert_eq!(legacy.service_role_key(), CLI_SERVICE_ROLE_KEY);
    }

    #[test]
    fn access_tokens_verify_and_expire() {
        let store = KeyStore::generate_complete(DEFAULT_JWT_SECRET).unwrap();
        let token = store.sign_access_token(&json!({"sub": "u", "exp": 100, "iss": "i"}));
        assert!(token.contains(".eyJpc3MiOiJpIiwic3ViIjoidSIsImV4cCI6MTAwfQ."));
        assert_eq!(store.verify_bearer(&token, 99).unwrap()["sub"], "u");
        assert_eq!(store.verify_bearer(&token, 100), Err(BearerError::Expired));
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert!(store.verify_bearer(&tampered, 99).is_err());
        assert_eq!(store.verify_bearer("a.b", 0), Err(BearerError::Malformed));
    }

    fn forge(header: &str, claims: &str, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let sig = sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    #[tokio::test]
    async fn bearer_validation_pins_the_alg_to_the_key_and_drops_revoked_keys() {
        let store = KeyStore::generate_complete(DEFAULT_JWT_SECRET).unwrap();
        let keys = store.keys();
        let (es, rs) = (keys[0].kid.clone(), keys[1].kid.clone());
        let (es_key, _) = store.find(&es).unwrap();
        let (rs_key, _) = store.find(&rs).unwrap();
        let claims = r#"{"sub":"s","exp":1000}"#;
        let es_header = format!(r#"{{"alg":"ES256","kid":"{es}"}}"#);
        let good = forge(&es_header, claims, |m| {
            es_key.sign(SignAlg::Es256, m).unwrap()
        });
        assert!(store.verify_bearer(&good, 0).is_ok());
        // The standby RSA key verifies RS256 but not PS256 (alg pinned to the key).
        let rs_header = format!(r#"{{"alg":"RS256","kid":"{rs}"}}"#);
        let rs_token = forge(&rs_header, claims, |m| {
            rs_key.sign(SignAlg::Rs256, m).unwrap()
        });
        assert!(store.verify_bearer(&rs_token, 0).is_ok());
        let ps_header = format!(r#"{{"alg":"PS256","kid":"{rs}"}}"#);
        let ps_token = forge(&ps_header, claims, |m| {
            rs_key.sign(SignAlg::Ps256, m).unwrap()
        });
        assert_eq!(
            store.verify_bearer(&ps_token, 0),
            Err(BearerError::BadSignature)
        );
        // HS256 naming a published kid is not sent to the legacy secret.
        let hs_kid = format!(r#"{{"alg":"HS256","kid":"{es}"}}"#);
        let hs_token = forge(&hs_kid, claims, |m| {
            store.legacy().sign(SignAlg::Hs256, m).unwrap()
        });
        assert_eq!(
            store.verify_bearer(&hs_token, 0),
            Err(BearerError::BadSignature)
        );
        // HS256 with an unknown kid falls back to the legacy secret (supabase/auth#2072).
        let hs_unknown = r#"{"alg":"HS256","kid":"unknown"}"#;
        let token = forge(hs_unknown, claims, |m| {
            store.legacy().sign(SignAlg::Hs256, m).unwrap()
        });
        assert!(store.verify_bearer(&token, 0).is_ok());
        // ES256 with an unknown kid has nothing to verify against.
        let unknown = r#"{"alg":"ES256","kid":"unknown"}"#;
        let token = forge(unknown, claims, |m| es_key.sign(SignAlg::Es256, m).unwrap());
        assert_eq!(
            store.verify_bearer(&token, 0),
            Err(BearerError::BadSignature)
        );
        // A revoked key no longer verifies.
        store.rotate(Some(&rs)).await.unwrap();
        assert!(
            store.verify_bearer(&good, 0).is_ok(),
            "previous keys still verify"
        );
        store.revoke(&es).await.unwrap();
        assert_eq!(
            store.verify_bearer(&good, 0),
            Err(BearerError::BadSignature)
        );
        // nbf in the future, non-numeric exp, oversized tokens.
        let nbf = forge(&es_header, r#"{"nbf":50}"#, |m| {
            es_key.sign(SignAlg::Es256, m).unwrap()
        });
        store.standby(&es).await.unwrap();
        assert_eq!(store.verify_bearer(&nbf, 49), Err(BearerError::Expired));
        assert!(store.verify_bearer(&nbf, 50).is_ok());
        let bad_exp = forge(&es_header, r#"{"exp":"1"}"#, |m| {
            es_key.sign(SignAlg::Es256, m).unwrap()
        });
        assert_eq!(
            store.verify_bearer(&bad_exp, 0),
            Err(BearerError::Malformed)
        );
        let huge = "a".repeat(MAX_BEARER_BYTES + 1);
        assert_eq!(store.verify_bearer(&huge, 0), Err(BearerError::Malformed));
    }

    #[tokio::test]
    async fn lifecycle_rules() {
        let store = KeyStore::generate_complete(DEFAULT_JWT_SECRET).unwrap();
        let es = store.keys()[0].kid.clone();
        assert!(matches!(
            store.revoke(&es).await,
            Err(KeyError::Conflict(_))
        ));
        assert!(matches!(
            store.standby(&es).await,
            Err(KeyError::Conflict(_))
        ));
        assert!(matches!(
            store.revoke("nope").await,
            Err(KeyError::NotFound(_))
        ));
        let before = store.jwks_body();
        let added = store.add(KeyAlg::Es256, KeyState::Standby).await.unwrap();
        assert_ne!(store.jwks_body(), before, "the JWKS is rebuilt on change");
        assert!(String::from_utf8_lossy(&store.jwks_body()).contains(&added.kid));
        // Rotating to the current key changes nothing.
        let current = store.rotate(Some(&es)).await.unwrap();
        assert_eq!(current.kid, es);
        assert_eq!(
            store
                .keys()
                .iter()
                .filter(|k| k.state == KeyState::Current)
                .count(),
            1
        );
    }

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

    #[test]
    fn anon_key_verifies_through_the_hs256_fallback() {
        let store = KeyStore::generate(DEFAULT_JWT_SECRET).unwrap();
        let claims = store.verify_bearer(CLI_ANON_KEY, 0).unwrap();
        assert_eq!(claims["role"], "anon");
        assert_eq!(
            store.verify_bearer(CLI_ANON_KEY, API_KEY_EXP),
            Err(BearerError::Expired)
        );
    }
}
