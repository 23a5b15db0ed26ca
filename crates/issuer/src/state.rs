//! Shared server state handed to every handler.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::IssuerConfig;
use crate::counters::Counters;
use crate::gotrue::AuthStore;
use crate::keys::KeyStore;

/// State shared by all routes. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<IssuerConfig>,
    pub keys: Arc<KeyStore>,
    pub clock: Clock,
    pub counters: Arc<Counters>,
    pub auth: Arc<AuthStore>,
}
