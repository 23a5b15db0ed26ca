//! Authorization requests and their codes: created by `/oauth/authorize`, approved (which
//! mints the code), redeemed once at the token endpoint. Times are the issuer's clock (Unix
//! seconds), so tests move time instead of sleeping.
//!
//! A request expires [`AUTHORIZATION_TTL`] after `/authorize` created it (GoTrue's
//! `OAUTH_SERVER_AUTHORIZATION_TTL`, 10 minutes), code included. A redeemed code is removed,
//! as in GoTrue; the issuer also remembers which session it produced, so that a replay can
//! revoke that session (OAuth 2.1 §4.1.2's recommendation; GoTrue does not do this).

use std::collections::HashMap;

use parking_lot::Mutex;
use rand::Rng;
use uuid::Uuid;

/// Lifetime of an authorization request and of its code, in seconds.
pub const AUTHORIZATION_TTL: i64 = 10 * 60;
/// Most live authorization requests kept (expired ones are dropped first).
pub const MAX_AUTHORIZATIONS: usize = 10_000;
/// How long a redeemed code is remembered for replay detection, past its expiry.
const REDEEMED_GRACE: i64 = 3600;

/// One authorization request (GoTrue's `oauth_authorizations` row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// `authorization_id`: what the consent page is given.
    pub id: String,
    /// The client that asked.
    pub client_id: Uuid,
    /// The redirect URI the code is bound to (already matched against the client's list).
    pub redirect_uri: String,
    /// Space-separated scopes (default `email`).
    pub scope: String,
    /// The client's `state`, echoed on the redirect.
    pub state: Option<String>,
    /// The RFC 8707 `resource`, if given.
    pub resource: Option<String>,
    /// The S256 PKCE challenge.
    pub code_challenge: String,
    /// The OIDC `nonce`, copied into the ID token.
    pub nonce: Option<String>,
    /// The user who approved (set on approval).
    pub user_id: Option<Uuid>,
    /// The code, once approved.
    pub code: Option<String>,
    /// When `/authorize` created it.
    pub created_at: i64,
    /// When it (and its code) expires: expired iff `now > expires_at`, as GoTrue's `IsExpired`.
    pub expires_at: i64,
}

impl Authorization {
    /// Whether it has expired at `now`.
    pub fn is_expired(&self, now: i64) -> bool {
        now > self.expires_at
    }
}

/// Why a request could not be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many pending authorization requests")]
pub struct Full;

/// What a redeemed code produced, for replay detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redeemed {
    /// The user the code signed in.
    pub user_id: Uuid,
    /// The session the code produced.
    pub session_id: Uuid,
    forget_at: i64,
}

#[derive(Debug, Default)]
struct Inner {
    by_id: HashMap<String, Authorization>,
    by_code: HashMap<String, String>,
    redeemed: HashMap<String, Redeemed>,
}

impl Inner {
    fn prune(&mut self, now: i64) {
        let expired: Vec<String> = self
            .by_id
            .values()
            .filter(|a| a.is_expired(now))
            .map(|a| a.id.clone())
            .collect();
        for id in expired {
            if let Some(a) = self.by_id.remove(&id)
                && let Some(code) = a.code
            {
                self.by_code.remove(&code);
            }
        }
        self.redeemed.retain(|_, r| r.forget_at >= now);
    }
}

/// The authorization requests.
#[derive(Debug, Default)]
pub struct CodeStore {
    inner: Mutex<Inner>,
}

/// 32 random lowercase alphanumerics (GoTrue's `SecureAlphanumeric(32)` shape).
fn authorization_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..32)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

/// What `/authorize` stores (the request's validated parameters).
#[derive(Debug, Clone, Default)]
pub struct NewAuthorization {
    /// See [`Authorization::client_id`].
    pub client_id: Uuid,
    /// See [`Authorization::redirect_uri`].
    pub redirect_uri: String,
    /// See [`Authorization::scope`].
    pub scope: String,
    /// See [`Authorization::state`].
    pub state: Option<String>,
    /// See [`Authorization::resource`].
    pub resource: Option<String>,
    /// See [`Authorization::code_challenge`].
    pub code_challenge: String,
    /// See [`Authorization::nonce`].
    pub nonce: Option<String>,
}

impl CodeStore {
    /// Stores a pending request created at `now`; returns it.
    pub fn create(&self, new: NewAuthorization, now: i64) -> Result<Authorization, Full> {
        let mut inner = self.inner.lock();
        inner.prune(now);
        if inner.by_id.len() >= MAX_AUTHORIZATIONS {
            return Err(Full);
        }
        let authorization = Authorization {
            id: authorization_id(),
            client_id: new.client_id,
            redirect_uri: new.redirect_uri,
            scope: new.scope,
            state: new.state,
            resource: new.resource,
            code_challenge: new.code_challenge,
            nonce: new.nonce,
            user_id: None,
            code: None,
            created_at: now,
            expires_at: now.saturating_add(AUTHORIZATION_TTL),
        };
        inner
            .by_id
            .insert(authorization.id.clone(), authorization.clone());
        Ok(authorization)
    }

    /// Approves a pending, unexpired request for `user_id` and mints its code (a UUID, as
    /// GoTrue's). `None` if there is no such pending request.
    pub fn approve(&self, id: &str, user_id: Uuid, now: i64) -> Option<Authorization> {
        let mut inner = self.inner.lock();
        let authorization = inner.by_id.get_mut(id)?;
        if authorization.is_expired(now) || authorization.code.is_some() {
            return None;
        }
        let code = Uuid::new_v4().to_string();
        authorization.user_id = Some(user_id);
        authorization.code = Some(code.clone());
        let approved = authorization.clone();
        inner.by_code.insert(code, id.to_owned());
        Some(approved)
    }

    /// A request by `authorization_id` as the consent endpoints see it: `None` when unknown or
    /// expired (GoTrue answers both with 404).
    pub fn get(&self, id: &str, now: i64) -> Option<Authorization> {
        self.inner
            .lock()
            .by_id
            .get(id)
            .filter(|a| !a.is_expired(now))
            .cloned()
    }

    /// Records the signed-in user on a pending request (GoTrue's `SetUser`), once.
    pub fn set_user(&self, id: &str, user_id: Uuid) {
        if let Some(a) = self.inner.lock().by_id.get_mut(id)
            && a.user_id.is_none()
        {
            a.user_id = Some(user_id);
        }
    }

    /// Denies a pending request: it is gone afterwards.
    pub fn deny(&self, id: &str) -> Option<Authorization> {
        let mut inner = self.inner.lock();
        if inner.by_id.get(id).is_some_and(|a| a.code.is_some()) {
            return None;
        }
        inner.by_id.remove(id)
    }

    /// The approved request a code belongs to (not consumed: a failed exchange leaves the code
    /// usable, as in GoTrue).
    pub fn find_by_code(&self, code: &str) -> Option<Authorization> {
        let inner = self.inner.lock();
        let id = inner.by_code.get(code)?;
        inner.by_id.get(id).cloned()
    }

    /// Removes the code's request atomically: exactly one caller gets it.
    pub fn consume(&self, code: &str) -> Option<Authorization> {
        let mut inner = self.inner.lock();
        let id = inner.by_code.remove(code)?;
        inner.by_id.remove(&id)
    }

    /// Records that `code` produced `session_id` for `user_id`.
    pub fn record_redeemed(&self, code: &str, expires_at: i64, user_id: Uuid, session_id: Uuid) {
        let mut inner = self.inner.lock();
        if inner.redeemed.len() >= MAX_AUTHORIZATIONS {
            // Bounded memory: forget the entry closest to being forgotten anyway.
            if let Some(oldest) = inner
                .redeemed
                .iter()
                .min_by_key(|(_, r)| r.forget_at)
                .map(|(c, _)| c.clone())
            {
                inner.redeemed.remove(&oldest);
            }
        }
        inner.redeemed.insert(
            code.to_owned(),
            Redeemed {
                user_id,
                session_id,
                forget_at: expires_at.saturating_add(REDEEMED_GRACE),
            },
        );
    }

    /// If `code` was already redeemed, forgets it and says what it produced (so the caller
    /// can revoke that session once).
    pub fn take_redeemed(&self, code: &str) -> Option<Redeemed> {
        self.inner.lock().redeemed.remove(code)
    }

    /// Number of stored requests (pending or approved).
    pub fn len(&self) -> usize {
        self.inner.lock().by_id.len()
    }

    /// Whether no request is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new() -> NewAuthorization {
        NewAuthorization {
            client_id: Uuid::from_u128(1),
            redirect_uri: "https://a.example/cb".into(),
            scope: "email".into(),
            code_challenge: "c".repeat(43),
            ..Default::default()
        }
    }

    #[test]
    fn a_code_is_single_use_and_expires_with_its_request() {
        let store = CodeStore::default();
        let a = store.create(new(), 1000).unwrap();
        assert_eq!(a.expires_at, 1000 + AUTHORIZATION_TTL);
        let approved = store.approve(&a.id, Uuid::from_u128(2), 1001).unwrap();
        let code = approved.code.clone().unwrap();
        assert!(store.approve(&a.id, Uuid::from_u128(2), 1001).is_none());
        assert_eq!(store.find_by_code(&code), Some(approved.clone()));
        assert!(store.consume(&code).is_some());
        assert!(store.consume(&code).is_none());
        assert!(store.find_by_code(&code).is_none());
        store.record_redeemed(
            &code,
            approved.expires_at,
            Uuid::from_u128(2),
            Uuid::from_u128(3),
        );
        assert_eq!(
            store.take_redeemed(&code).map(|r| r.session_id),
            Some(Uuid::from_u128(3))
        );
        assert!(store.take_redeemed(&code).is_none());
        let late = store.create(new(), 2000).unwrap();
        assert!(
            store
                .approve(&late.id, Uuid::from_u128(2), 2000 + AUTHORIZATION_TTL + 1)
                .is_none()
        );
    }

    #[test]
    fn expired_requests_are_pruned() {
        let store = CodeStore::default();
        store.create(new(), 0).unwrap();
        store.create(new(), AUTHORIZATION_TTL + 1).unwrap();
        assert_eq!(store.len(), 1);
    }
}
