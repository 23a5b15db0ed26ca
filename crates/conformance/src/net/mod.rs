//! Everything the scenarios send or receive over the network, in types: the target client and
//! its [`target::TransportError`], the issuer's control API on xauth-issuer's own wire types
//! ([`control`]), the evidence of each exchange ([`evidence`]), the attacker listener
//! ([`attacker`]).

pub mod attacker;
pub mod canary;
pub mod challenge;
pub mod control;
pub mod evidence;
pub mod mcp_client;
pub mod pat_api;
pub mod sources;
pub mod target;
pub mod urls;
