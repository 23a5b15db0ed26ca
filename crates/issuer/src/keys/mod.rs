//! Signing keys (ES256, RS256, legacy HS256), their lifecycle, and token signing.
//!
//! The key set is an immutable [`Snapshot`] behind a read-mostly lock: readers (every JWKS
//! request, every access token) clone one `Arc` and never wait on each other; a key change builds
//! a new snapshot (including the pre-serialized JWKS body) and swaps it in.
//!
//! This file holds the store, its snapshot and the read path (JWKS body, key lookup, access-token
//! signing); the rest is one concern per file: [`alg`] (algorithm names), [`signing_key`] (one
//! key pair), [`legacy`] (the HS256 secret and the API keys), `lifecycle` (adding keys and
//! moving them standby → current → previous → revoked), [`persist`] (`keys.json`) and
//! [`bearer`] (GoTrue's bearer check). Public items are re-exported here at their old paths.

pub mod alg;
pub mod bearer;
pub mod legacy;
mod lifecycle;
pub mod persist;
pub mod signing_key;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use alg::{KeyAlg, SignAlg};
pub use bearer::{BearerError, MAX_BEARER_BYTES};
pub use legacy::{DEFAULT_JWT_SECRET, LegacySecret};
pub use persist::{KEYS_FILE, MAX_KEYS_FILE_BYTES};
pub use signing_key::{SigningKey, warm_up_rng};

/// A key-management failure.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// No issuer key (in any state) has this kid.
    #[error("no key with kid {0:?}")]
    NotFound(String),
    /// The operation does not fit the key set's state or the key (revoking or standing by the
    /// current key, no standby key to rotate to, an alg the key cannot sign); says which.
    #[error("{0}")]
    Conflict(&'static str),
    /// The crypto library failed to generate, load or sign with key material.
    #[error("key generation failed")]
    Generation,
    /// Reading or writing `keys.json` failed, or its contents are invalid or too large.
    #[error("could not persist keys: {0}")]
    Persist(#[from] std::io::Error),
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
    /// The key id, as published in the JWK's `kid` and in token headers.
    pub kid: String,
    /// The key's kind and default signing algorithm (`ES256` or `RS256`).
    pub alg: KeyAlg,
    /// Where the key is in its lifecycle.
    pub state: KeyState,
    /// The public JWK (exactly what the JWKS publishes while the key is not revoked).
    pub public_jwk: Value,
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
            .map(|e| e.key.public_jwk())
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
        kid: e.key.kid().to_string(),
        alg: e.key.alg(),
        state: e.state,
        public_jwk: e.key.public_jwk().clone(),
    }
}

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
            .find(|e| e.key.kid() == kid)
            .map(|e| (e.key.clone(), e.state))
    }

    /// The info of the key with `kid`.
    pub fn key_info(&self, kid: &str) -> Option<KeyInfo> {
        self.snap()
            .entries
            .iter()
            .find(|e| e.key.kid() == kid)
            .map(info_of)
    }

    /// Signs `payload` (the exact claim-set text; GoTrue's order comes from
    /// [`crate::gotrue::claims`]) with the current key; header `{"alg","kid","typ":"JWT"}`.
    pub fn sign_access_token(&self, payload: &str) -> String {
        let key = self.current();
        let input = format!("{}.{}", key.header_b64(), URL_SAFE_NO_PAD.encode(payload));
        match key.sign(SignAlg::from_key(key.alg()), input.as_bytes()) {
            Ok(sig) => format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)),
            Err(e) => {
                // Signing with a valid in-memory key does not fail; if it ever does, the token
                // is unusable (empty signature) rather than the server panicking.
                tracing::error!(error = %e, kid = key.kid(), "signing an access token failed");
                format!("{input}.")
            }
        }
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
