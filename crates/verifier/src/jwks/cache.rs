//! The JWKS cache: an immutable snapshot swapped atomically, refreshed single-flight.
//!
//! * The hot path clones an `Arc<Snapshot>` under a read lock held for a pointer copy; it never
//!   waits for a fetch unless it needs one.
//! * A snapshot lives for the response's `max-age`, clamped to `[min_ttl, max_ttl]`.
//! * An unknown kid triggers at most one refetch per `cooldown` (all concurrent callers share it).
//! * After a failed fetch the previous snapshot keeps serving until `max_stale` past its expiry,
//!   and the next attempt waits for the cooldown (no hammering of a failing issuer).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Mutex, RwLock};

use super::JwksError;
use super::fetch;
use crate::clock::Clock;
use crate::config::JwksPolicy;
#[cfg(feature = "seeded-defects")]
use crate::defect::{Defect, DefectSet};
use crate::keys::KeySet;
use crate::rejection::Rejection;

/// One fetched key set and its lifetime (Unix seconds of the cache's clock).
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub(crate) keys: KeySet,
    pub(crate) expires_at: i64,
}

#[derive(Debug, Default)]
struct FetchState {
    last_attempt: Option<i64>,
    last_failed: bool,
    ever_succeeded: bool,
    /// When each unknown kid last triggered a refetch (only the `jwks-cooldown-per-kid` defect).
    #[cfg(feature = "seeded-defects")]
    kid_attempts: std::collections::HashMap<String, i64>,
}

/// Most kids the `jwks-cooldown-per-kid` defect remembers (bounded even when seeded).
#[cfg(feature = "seeded-defects")]
const MAX_REMEMBERED_KIDS: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// No snapshot yet, or the snapshot expired.
    Expiry,
    /// The token's kid is not in the snapshot.
    UnknownKid,
    /// `refresh_jwks`.
    Explicit,
    /// The `jwks-no-cache` defect.
    #[cfg(feature = "seeded-defects")]
    NoCache,
}

pub(crate) struct JwksCache {
    url: String,
    client: reqwest::Client,
    policy: JwksPolicy,
    clock: Arc<dyn Clock>,
    current: RwLock<Option<Arc<Snapshot>>>,
    state: Mutex<FetchState>,
    fetch_lock: tokio::sync::Mutex<()>,
    fetches: AtomicU64,
    #[cfg(feature = "seeded-defects")]
    defects: DefectSet,
}

fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

impl JwksCache {
    pub(crate) fn new(
        url: String,
        policy: JwksPolicy,
        clock: Arc<dyn Clock>,
        #[cfg(feature = "seeded-defects")] defects: DefectSet,
    ) -> Result<Self, reqwest::Error> {
        Ok(JwksCache {
            client: fetch::client(&policy)?,
            url,
            policy,
            clock,
            current: RwLock::new(None),
            state: Mutex::new(FetchState::default()),
            fetch_lock: tokio::sync::Mutex::new(()),
            fetches: AtomicU64::new(0),
            #[cfg(feature = "seeded-defects")]
            defects,
        })
    }

    pub(crate) fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    fn current(&self) -> Option<Arc<Snapshot>> {
        self.current.read().clone()
    }

    /// The key set to verify a token with `kid`: refreshed when missing or expired (serving a
    /// stale set within `max_stale` when the issuer fails), and refetched once per cooldown when
    /// `kid` is unknown.
    pub(crate) async fn keys_for(&self, kid: Option<&str>) -> Result<Arc<Snapshot>, Rejection> {
        let now = self.clock.now_unix();
        let mut snap = self.current();
        #[allow(unused_mut)]
        let mut trigger = match &snap {
            Some(s) if now < s.expires_at => None,
            _ => Some(Trigger::Expiry),
        };
        // SEEDED DEFECT jwks-no-cache: fetch the JWKS for every asymmetric token.
        #[cfg(feature = "seeded-defects")]
        if self.defects.has(Defect::JwksNoCache) {
            trigger = Some(Trigger::NoCache);
        }
        if let Some(trigger) = trigger {
            self.refresh_single_flight(trigger, None).await;
            let now = self.clock.now_unix();
            snap = match self.current() {
                Some(s) if now < s.expires_at.saturating_add(secs(self.policy.max_stale)) => {
                    Some(s)
                }
                _ => None,
            };
        }
        let Some(snap) = snap else {
            return Err(Rejection::KeysUnavailable);
        };
        if let Some(kid) = kid
            && !snap.keys.knows(kid)
            && self
                .refresh_single_flight(Trigger::UnknownKid, Some(kid))
                .await
            && let Some(fresh) = self.current()
        {
            return Ok(fresh);
        }
        Ok(snap)
    }

    /// Fetches now (waiting for an in-flight fetch first), bypassing the cooldown.
    pub(crate) async fn refresh(&self) -> Result<(), JwksError> {
        let _guard = self.fetch_lock.lock().await;
        if !self.allowed(Trigger::Explicit, None) {
            return Ok(());
        }
        self.fetch_now().await
    }

    /// Runs one fetch unless one is in flight (then waits for it) or the trigger is not allowed
    /// yet. Returns whether a fetch completed while we were here.
    async fn refresh_single_flight(&self, trigger: Trigger, kid: Option<&str>) -> bool {
        match self.fetch_lock.try_lock() {
            Ok(_guard) => {
                if !self.allowed(trigger, kid) {
                    return false;
                }
                let _ = self.fetch_now().await;
                true
            }
            Err(_) => {
                // Someone else is fetching: share their result (bounded by the fetch timeout).
                let _guard = self.fetch_lock.lock().await;
                true
            }
        }
    }

    /// Whether `trigger` may fetch now; `kid` is the unknown kid of an `UnknownKid` trigger.
    fn allowed(&self, trigger: Trigger, kid: Option<&str>) -> bool {
        let _ = kid;
        let now = self.clock.now_unix();
        #[allow(unused_mut)]
        let mut state = self.state.lock();
        // SEEDED DEFECT jwks-fetch-once: never fetch again after the first success.
        #[cfg(feature = "seeded-defects")]
        if self.defects.has(Defect::JwksFetchOnce) && state.ever_succeeded {
            return false;
        }
        let cooled = state
            .last_attempt
            .is_none_or(|t| now >= t.saturating_add(secs(self.policy.cooldown)));
        match trigger {
            Trigger::Explicit => true,
            #[cfg(feature = "seeded-defects")]
            Trigger::NoCache => true,
            Trigger::Expiry => !state.last_failed || cooled,
            Trigger::UnknownKid => {
                // SEEDED DEFECT jwks-no-cooldown: every unknown kid refetches.
                #[cfg(feature = "seeded-defects")]
                if self.defects.has(Defect::JwksNoCooldown) {
                    return true;
                }
                // SEEDED DEFECT jwks-cooldown-per-kid: the cooldown remembers each missing kid on
                // its own ("kid X was missing" caches), so N distinct unknown kids cause N fetches.
                #[cfg(feature = "seeded-defects")]
                if self.defects.has(Defect::JwksCooldownPerKid) {
                    let cooldown = secs(self.policy.cooldown);
                    let kid = kid.unwrap_or_default();
                    let kid_cooled = state
                        .kid_attempts
                        .get(kid)
                        .is_none_or(|t| now >= t.saturating_add(cooldown));
                    if kid_cooled {
                        let kids = &mut state.kid_attempts;
                        if kids.len() >= MAX_REMEMBERED_KIDS {
                            kids.retain(|_, t| now < t.saturating_add(cooldown));
                            if kids.len() >= MAX_REMEMBERED_KIDS {
                                kids.clear();
                            }
                        }
                        kids.insert(kid.to_owned(), now);
                    }
                    return kid_cooled;
                }
                cooled
            }
        }
    }

    /// One fetch; call only while holding `fetch_lock`.
    async fn fetch_now(&self) -> Result<(), JwksError> {
        self.state.lock().last_attempt = Some(self.clock.now_unix());
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let result = fetch::fetch(&self.client, &self.url, &self.policy).await;
        let now = self.clock.now_unix();
        match result {
            Ok(fetched) => {
                #[allow(unused_mut)]
                let mut expires_at =
                    now.saturating_add(secs(fetch::ttl(&self.policy, fetched.max_age)));
                #[cfg(feature = "seeded-defects")]
                if self.defects.has(Defect::JwksFetchOnce) {
                    expires_at = i64::MAX;
                }
                tracing::debug!(keys = fetched.keys.keys.len(), "JWKS refreshed");
                *self.current.write() = Some(Arc::new(Snapshot {
                    keys: fetched.keys,
                    expires_at,
                }));
                let mut state = self.state.lock();
                state.last_failed = false;
                state.ever_succeeded = true;
                Ok(())
            }
            Err(e) => {
                tracing::warn!(error = %e, "JWKS fetch failed");
                self.state.lock().last_failed = true;
                Err(e)
            }
        }
    }

    /// Fetches a key set from an arbitrary URL (only the `follow-jku` defect does this).
    #[cfg(feature = "seeded-defects")]
    pub(crate) async fn fetch_foreign(&self, url: &str) -> Option<KeySet> {
        fetch::fetch(&self.client, url, &self.policy)
            .await
            .ok()
            .map(|f| f.keys)
    }
}
