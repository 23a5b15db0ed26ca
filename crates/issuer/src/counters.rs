//! Counters readable through the control API.

use std::sync::atomic::{AtomicU64, Ordering};

/// Request and grant counters.
#[derive(Debug, Default)]
pub struct Counters {
    pub jwks_fetches: AtomicU64,
    pub openid_config_fetches: AtomicU64,
    pub password_grants: AtomicU64,
    pub refresh_grants: AtomicU64,
    pub grant_failures: AtomicU64,
    pub signups: AtomicU64,
    pub requests: AtomicU64,
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
}
