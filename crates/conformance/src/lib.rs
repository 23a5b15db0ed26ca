//! `xauth-conformance`: the conformance suite for the Xentropy auth contract.
//!
//! The runner (`xauth-conformance run`) starts or attaches to the fake issuer, optionally spawns
//! the implementation under test, runs the Gherkin scenarios in `features/` against it and
//! reports. This library exposes the pieces the scenario code shares with the runner:
//! [`context::RunContext`] (installed once per process before cucumber runs) and
//! [`profile::Profile`] (what the implementation declares about itself).

pub mod attacker;
pub mod cli;
pub mod context;
pub mod evidence;
pub mod expect_fail;
pub mod feature_files;
pub mod forge;
pub mod http;
pub mod issuer_boot;
pub mod issuer_client;
pub mod plan;
pub mod profile;
pub mod report;
pub mod runner;
pub mod spawn;
pub mod steps;
pub mod stub;
pub mod world;
