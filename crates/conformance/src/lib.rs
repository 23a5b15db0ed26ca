//! `xauth-conformance`: the conformance suite for the Xentropy auth contract.
//!
//! The runner (`xauth-conformance run`, [`runner`]) starts or attaches to the fake issuer,
//! optionally spawns the implementation under test ([`spawn`]), runs the Gherkin scenarios in
//! `features/` against it with the steps of [`world::XauthWorld`], and reports ([`report`]:
//! terminal, JUnit XML, JSON). Exit status 0 all passed, 1 a scenario failed, 2 usage or setup
//! error (one line, before any scenario runs), 130 interrupted.
//!
//! What the scenario code shares with the runner: [`context::RunContext`] (installed once per
//! process before cucumber runs; read it with [`context::context`]) and [`profile::Profile`]
//! (what the implementation declares about itself, `fixtures/profiles/xentropy.toml`).
//!
//! # For scenario authors
//! - Requirement tags (`@needs-auth-proxy`, `@needs-hs256`, `@needs-no-hs256`,
//!   `@needs-rate-limit`, `@needs-ip-rate-limit`, `@needs-rfc6750`, `@needs-loopback`, `@slow`)
//!   make the runner skip a scenario, with the reason, when the profile says it does not apply;
//!   an unknown `@needs-…` tag is a setup error ([`plan`]). A step cannot skip itself.
//! - Scenarios that change shared issuer state (keys, JWKS faults, clock) must be `@serial`.
//! - A step message starting with `suite error` ([`report::SUITE_ERROR_PREFIX`]) is reported as
//!   a suite error (status `error`), not as a verdict on the target; it still fails the run.
//! - An undefined step fails its scenario; a scenario running longer than
//!   `--scenario-timeout` fails and its later events are ignored.

pub mod attacker;
pub mod cli;
pub mod context;
pub mod deadline;
pub mod evidence;
pub mod expect_fail;
pub mod failure;
pub mod feature_files;
pub mod forge;
pub mod hooks;
pub mod gate;
pub mod http;
pub mod issuer_boot;
pub mod issuer_client;
pub mod plan;
pub mod profile;
pub mod properties;
pub mod report;
pub mod runner;
pub mod severity;
pub mod spawn;
pub mod steps;
pub mod stub;
pub mod world;
