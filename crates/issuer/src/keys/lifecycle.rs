//! Key changes: adding a key and moving keys through their lifecycle (standby → current →
//! previous → revoked, and back to standby).
//!
//! Every change copies the entries, applies the transition, persists the new set and only then
//! publishes it as the new snapshot, under the store's writer lock; readers never wait.

use std::sync::Arc;

use super::{Entry, KeyAlg, KeyError, KeyInfo, KeyState, KeyStore, SigningKey, Snapshot, info_of};

impl KeyStore {
    /// Adds `key` in `state`; a new current key demotes the old one to previous.
    pub(super) fn insert(&self, key: SigningKey, state: KeyState) -> Result<KeyInfo, KeyError> {
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
                    .position(|e| e.key.kid() == kid)
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
                .position(|e| e.key.kid() == kid)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::DEFAULT_JWT_SECRET;

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
}
