//! `xauth-issuer`: a fake Supabase auth (GoTrue) server for tests and local development.
//!
//! Skeleton: the module layout and the crate-internal interfaces between the key side
//! (`keys`, `jwks`, `mint`, `control`, `faults`, `counters`, `clock`) and the GoTrue side
//! (`gotrue`). See ARCHITECTURE.md.

pub mod clock;
pub mod config;
pub mod counters;
pub mod gotrue;
pub mod jwks;
pub mod keys;
pub mod state;
