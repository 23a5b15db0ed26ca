//! Shared server state handed to every handler.
//!
//! It depends on the stores themselves (keys, users, faults, counters, clock), never on the
//! routers, so any handler module can use it without an import cycle.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::IssuerConfig;
use crate::counters::Counters;
use crate::faults::Faults;
use crate::gotrue::store::AuthStore;
use crate::keys::KeyStore;
use crate::oauth::OAuthServer;

/// State shared by all routes. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The configuration the server was started with (URLs, TTLs, API keys, limits).
    pub config: Arc<IssuerConfig>,
    /// The signing keys, the legacy secret and the pre-serialized JWKS.
    pub keys: Arc<KeyStore>,
    /// The issuer's offsettable clock, used for every `iat`/`exp` and expiry check.
    pub clock: Clock,
    /// Request and grant counters reported by the control API.
    pub counters: Arc<Counters>,
    /// GoTrue users, sessions and refresh tokens.
    pub auth: Arc<AuthStore>,
    /// The armed fault of each fault-injectable route.
    pub faults: Arc<Faults>,
    /// The OAuth 2.1 server: its switches, clients, authorization requests and session bindings.
    pub oauth: Arc<OAuthServer>,
}
