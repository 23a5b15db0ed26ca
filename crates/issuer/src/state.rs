//! Shared server state handed to every handler.
//!
//! Note to the GoTrue side (issuer-gotrue): the fields below are stable. Added by the key side:
//! `faults` (JWKS fault injection). `KeyStore` also has `legacy()` (secret, anon and
//! service_role keys), `current()`, `find(kid)` and `is_ready()/ready()`; `Counters` has
//! `snapshot()`/`reset()`. `BearerError::Expired` also covers an `nbf` in the future.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::IssuerConfig;
use crate::counters::Counters;
use crate::faults::Faults;
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
    pub faults: Arc<Faults>,
}
