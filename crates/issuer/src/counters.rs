//! Counters readable through the control API.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Request and grant counters (relaxed atomics: no lock on any request path).
#[derive(Debug, Default)]
pub struct Counters {
    /// JWKS requests received, faulted ones included.
    pub jwks_fetches: AtomicU64,
    /// OpenID configuration requests received.
    pub openid_config_fetches: AtomicU64,
    /// Successful `grant_type=password` token requests.
    pub password_grants: AtomicU64,
    /// Successful `grant_type=refresh_token` token requests.
    pub refresh_grants: AtomicU64,
    /// Token requests that passed the `apikey` check but failed (any grant type).
    pub grant_failures: AtomicU64,
    /// Successful signups.
    pub signups: AtomicU64,
    /// Every HTTP request the server answered (all routes, control API included).
    pub requests: AtomicU64,
    /// Wall-clock Unix milliseconds of the last JWKS request answered normally (0 = never).
    pub jwks_last_served_unix_ms: AtomicU64,
    /// Authorization codes the OAuth server issued.
    pub oauth_codes_issued: AtomicU64,
    /// Authorization codes exchanged for tokens.
    pub oauth_codes_redeemed: AtomicU64,
}

/// The OAuth server's counters, as `GET /_control/v1/counters` reports them (`oauth`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthCounts {
    /// Authorization codes issued by `/oauth/authorize`.
    pub codes_issued: u64,
    /// Authorization codes exchanged at `/oauth/token`.
    pub codes_redeemed: u64,
}

/// Successful grants by type, as `GET /_control/v1/counters` reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantCounts {
    /// Successful `grant_type=password` token requests.
    pub password: u64,
    /// Successful `grant_type=refresh_token` token requests.
    pub refresh_token: u64,
}

/// A point-in-time copy of the counters (the `GET /_control/v1/counters` body).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountersSnapshot {
    /// JWKS requests received, faulted ones included.
    pub jwks_fetches: u64,
    /// OpenID configuration requests received.
    pub openid_config_fetches: u64,
    /// Successful token requests, by grant type.
    pub grants: GrantCounts,
    /// Token requests that passed the `apikey` check but failed (any grant type).
    pub grant_failures: u64,
    /// Successful signups.
    pub signups: u64,
    /// Every HTTP request the server answered (all routes, control API included).
    pub requests: u64,
    /// Real wall-clock time (Unix milliseconds; not the issuer's offset test clock) of the last
    /// JWKS request answered normally: a 200 with the key set, no fault injected. `null` when
    /// none was since start or the last reset.
    #[serde(default)]
    pub jwks_last_served_unix_ms: Option<u64>,
    /// The OAuth server's authorization codes.
    #[serde(default)]
    pub oauth: OAuthCounts,
}

impl Counters {
    /// Counts one successful grant of `grant_type` (`password` or `refresh_token`).
    pub fn grant_ok(&self, grant_type: &str) {
        match grant_type {
            "password" => self.password_grants.fetch_add(1, Ordering::Relaxed),
            "refresh_token" => self.refresh_grants.fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
    }

    /// Counts one failed grant.
    pub fn grant_failed(&self) {
        self.grant_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one signup.
    pub fn signup(&self) {
        self.signups.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one JWKS request (faulted ones included: the client did fetch).
    pub fn jwks_fetch(&self) {
        self.jwks_fetches.fetch_add(1, Ordering::Relaxed);
    }

    /// Records that a JWKS request was just answered normally (200, the key set, no fault), at
    /// the real system time.
    pub fn jwks_served(&self) {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
            .max(1); // 0 means "never"
        self.jwks_last_served_unix_ms.store(ms, Ordering::Relaxed);
    }

    /// Counts one OpenID configuration request.
    pub fn openid_config_fetch(&self) {
        self.openid_config_fetches.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one authorization code issued.
    pub fn oauth_code_issued(&self) {
        self.oauth_codes_issued.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one authorization code redeemed.
    pub fn oauth_code_redeemed(&self) {
        self.oauth_codes_redeemed.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one HTTP request.
    pub fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// A copy of every counter.
    pub fn snapshot(&self) -> CountersSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CountersSnapshot {
            jwks_fetches: get(&self.jwks_fetches),
            openid_config_fetches: get(&self.openid_config_fetches),
            grants: GrantCounts {
                password: get(&self.password_grants),
                refresh_token: get(&self.refresh_grants),
            },
            grant_failures: get(&self.grant_failures),
            signups: get(&self.signups),
            requests: get(&self.requests),
            jwks_last_served_unix_ms: Some(get(&self.jwks_last_served_unix_ms))
                .filter(|ms| *ms != 0),
            oauth: OAuthCounts {
                codes_issued: get(&self.oauth_codes_issued),
                codes_redeemed: get(&self.oauth_codes_redeemed),
            },
        }
    }

    /// Sets every counter to zero.
    pub fn reset(&self) {
        for c in [
            &self.jwks_fetches,
            &self.openid_config_fetches,
            &self.password_grants,
            &self.refresh_grants,
            &self.grant_failures,
            &self.signups,
            &self.requests,
            &self.jwks_last_served_unix_ms,
            &self.oauth_codes_issued,
            &self.oauth_codes_redeemed,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }
}
