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

/// State shared by all routes. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<IssuerConfig>,
    pub keys: Arc<KeyStore>,
    pub clock: Clock,
    pub counters: Arc<Counters>,
    pub auth: Arc<AuthStore>,
    pub faults: Arc<Faults>,
}
