//! `xauth-conformance`: the conformance suite for the Xentropy auth contract.
//!
//! The runner (`xauth-conformance run`, [`run`]) starts or attaches to the fake issuer,
//! optionally spawns the implementation under test ([`spawn`]), runs the Gherkin scenarios in
//! `features/` against it with the steps of [`scenario::world::XauthWorld`], and reports ([`report`]:
//! terminal, JUnit XML, JSON, SARIF, HTML). Exit status 0 all passed, 1 a scenario failed, 2 usage or setup
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
//! - A step fails in one way: `XauthWorld::fail` (a verdict) or `XauthWorld::harness_error` (a
//!   suite error: not a verdict on the target, but it fails the run), both raising the typed
//!   [`failure::StepFailure`]. Shared issuer state is restored by the runner after every
//!   `@serial` scenario ([`hooks::SharedState`]). Conventions: `docs/style.md`.
//! - An undefined step fails its scenario; a scenario running longer than
//!   `--scenario-timeout` fails and its later events are ignored.

pub mod cli;
pub mod context;
pub mod deadline;
pub mod duration;
pub mod expect_fail;
pub mod failure;
pub mod feature_files;
pub mod forge;
pub mod gate;
pub mod hooks;
pub mod issuer_boot;
pub mod net;
pub mod plan;
pub mod profile;
pub mod properties;
pub mod report;
pub mod run;
pub mod scenario;
pub mod severity;
pub mod spawn;
pub mod steps;
pub mod stub;
