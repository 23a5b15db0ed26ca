//! Is the owner of a PAT still a user, and with which role? Asked of the auth server's admin API,
//! `GET <SUPABASE_URL>/auth/v1/admin/users/{id}` with the service_role key, the only source that
//! knows about deletions, bans and role changes as they happen (a user's JWTs carry a role frozen
//! at issue, and a PAT outlives every JWT). Answers, positive and negative, are cached for the
//! declared `owner_cache` (default 30 s, at most 300 s): a deleted or banned owner's PATs fail at
//! most that long after the change, and one busy PAT costs at most one admin call per period.
//! An unreachable auth server with nothing fresh in the cache fails closed (502).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde::Deserialize;
use xauth_verifier::Clock;

/// The owner's standing at the auth server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// A user who may act, with their current role.
    Active {
        /// `role` of the user record (`authenticated` for ordinary users).
        role: String,
    },
    /// Deleted, banned or otherwise unable to act.
    Gone,
}

/// The auth server could not tell (network error, timeout, 5xx, garbage).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("owner lookup failed")]
pub struct OwnerUnavailable;

#[derive(Deserialize)]
struct UserRecord {
    id: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    banned_until: Option<String>,
}

const MAX_ENTRIES: usize = 10_000;
const MAX_BODY: usize = 256 * 1024;

/// The cached admin-API lookup.
pub struct OwnerCheck {
    http: reqwest::Client,
    users_url: String,
    key: String,
    ttl: Duration,
    clock: Arc<dyn Clock>,
    cache: Mutex<HashMap<String, (i64, Owner)>>,
}

impl std::fmt::Debug for OwnerCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnerCheck")
            .field("users_url", &self.users_url)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// Whether `id` is a canonical hyphenated UUID (the only ids put in the admin URL).
pub fn is_uuid(id: &str) -> bool {
    id.len() == 36
        && id.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

impl OwnerCheck {
    /// For the auth server at `supabase_url` (no trailing slash).
    pub fn new(
        supabase_url: &str,
        key: &str,
        ttl: Duration,
        timeout: Duration,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(OwnerCheck {
            http,
            users_url: format!("{supabase_url}/auth/v1/admin/users"),
            key: key.to_owned(),
            ttl,
            clock,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The owner's standing, from the cache when fresh.
    pub async fn check(&self, owner_id: &str) -> Result<Owner, OwnerUnavailable> {
        if !is_uuid(owner_id) {
            return Ok(Owner::Gone);
        }
        let now = self.clock.now_unix();
        let ttl = i64::try_from(self.ttl.as_secs()).unwrap_or(300);
        if ttl > 0
            && let Some((at, owner)) = self.cache.lock().get(owner_id)
            && now < at + ttl
            && now >= *at
        {
            return Ok(owner.clone());
        }
        let owner = self.fetch(owner_id, now).await?;
        if ttl > 0 {
            let mut cache = self.cache.lock();
            if cache.len() >= MAX_ENTRIES {
                cache.retain(|_, (at, _)| now < *at + ttl);
                if cache.len() >= MAX_ENTRIES {
                    cache.clear();
                }
            }
            cache.insert(owner_id.to_owned(), (now, owner.clone()));
        }
        Ok(owner)
    }

    async fn fetch(&self, owner_id: &str, now: i64) -> Result<Owner, OwnerUnavailable> {
        let mut resp = self
            .http
            .get(format!("{}/{owner_id}", self.users_url))
            .header("apikey", &self.key)
            .bearer_auth(&self.key)
            .send()
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "owner lookup at the auth server failed");
                OwnerUnavailable
            })?;
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(Owner::Gone);
        }
        if !status.is_success() {
            tracing::warn!(%status, "owner lookup at the auth server refused");
            return Err(OwnerUnavailable);
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|_| OwnerUnavailable)? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(OwnerUnavailable);
            }
            body.extend_from_slice(&chunk);
        }
        let user: UserRecord = serde_json::from_slice(&body).map_err(|_| OwnerUnavailable)?;
        if !user.id.eq_ignore_ascii_case(owner_id) {
            return Err(OwnerUnavailable);
        }
        let banned = user
            .banned_until
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .is_some_and(|until| until.timestamp() > now);
        // A user without a role exists but may do nothing: the route policy answers 403.
        Ok(if banned {
            Owner::Gone
        } else {
            Owner::Active {
                role: user.role.unwrap_or_default(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_uuids_reach_the_url() {
        assert!(is_uuid("0b8a4c1e-2f3d-4a5b-8c7d-9e0f1a2b3c4d"));
        for bad in [
            "",
            "../../x",
            "0b8a4c1e-2f3d-4a5b-8c7d-9e0f1a2b3c4",
            "0b8a4c1e/2f3d-4a5b-8c7d-9e0f1a2b3c4d",
        ] {
            assert!(!is_uuid(bad), "{bad}");
        }
    }
}
