//! The key set on disk: `<state_dir>/keys.json` ([`KeyStore::open`] loads it, every key change
//! rewrites it through [`crate::state_dir::write_private_atomic`]).
//!
//! Kept apart so the file format (private keys as PKCS#8, the legacy secret) is written and read
//! in one place; the in-memory store never touches the file system itself.

use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use super::{
    DEFAULT_JWT_SECRET, Entry, KeyAlg, KeyError, KeyState, KeyStore, LegacySecret, Opened,
    SigningKey, Snapshot,
};
use crate::state_dir::write_private_atomic;

/// Largest key file read at start-up.
pub const MAX_KEYS_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The file keys persist in, inside the state dir.
pub const KEYS_FILE: &str = "keys.json";

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

fn invalid_data(message: String) -> KeyError {
    KeyError::Persist(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        message,
    ))
}

impl KeyStore {
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
            return Err(invalid_data(format!(
                "{} is larger than {MAX_KEYS_FILE_BYTES} bytes",
                path.display()
            )));
        }
        match std::fs::read(&path) {
            Ok(bytes) => {
                let persisted: PersistedKeys = serde_json::from_slice(&bytes)
                    .map_err(|e| invalid_data(format!("{}: {e}", path.display())))?;
                let mut entries = Vec::with_capacity(persisted.keys.len());
                for k in persisted.keys {
                    let pkcs8 = STANDARD.decode(k.pkcs8.as_bytes()).map_err(|e| {
                        invalid_data(format!("{}: key {}: {e}", path.display(), k.kid))
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
                    store.persist(&store.snap())?;
                }
                Ok((store, Opened::Loaded))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut store = Self::generate(jwt_secret.unwrap_or(DEFAULT_JWT_SECRET))?;
                store.persist_path = Some(path);
                store.persist(&store.snap())?;
                Ok((store, Opened::Fresh))
            }
            Err(e) => Err(KeyError::Persist(e)),
        }
    }

    /// Writes `snapshot` to the key file (nothing without a state dir).
    pub(super) fn persist(&self, snapshot: &Snapshot) -> Result<(), KeyError> {
        let Some(path) = &self.persist_path else {
            return Ok(());
        };
        let persisted = PersistedKeys {
            version: 1,
            jwt_secret: self.legacy().secret().to_string(),
            keys: snapshot
                .entries
                .iter()
                .map(|e| PersistedKey {
                    kid: e.key.kid().to_string(),
                    alg: e.key.alg(),
                    state: e.state,
                    pkcs8: STANDARD.encode(e.key.pkcs8()),
                })
                .collect(),
        };
        let bytes = serde_json::to_vec_pretty(&persisted).map_err(std::io::Error::other)?;
        write_private_atomic(path, &bytes)?;
        Ok(())
    }
}
