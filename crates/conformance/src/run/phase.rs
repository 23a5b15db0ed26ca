//! What the run's parts share: its exit statuses, the one-line [`SetupError`], and the
//! [`PostPhase`] seam through which the properties run after the scenarios.

use cucumber::gherkin::tagexpr::TagOperation;
use futures::future::LocalBoxFuture;

use crate::context::RunContext;
use crate::report::FeatureReport;
use crate::severity::Severity;

/// Exit status: every scenario passed (or failed as expected).
pub const EXIT_PASSED: i32 = 0;
/// Exit status: a scenario failed.
pub const EXIT_FAILED: i32 = 1;
/// Exit status: usage or setup error.
pub const EXIT_SETUP: i32 = 2;
/// Exit status: interrupted by SIGINT/SIGTERM.
pub const EXIT_INTERRUPTED: i32 = 130;

/// A phase run after the scenarios against the same target (e.g. proptest properties).
pub trait PostPhase {
    /// Its name in logs.
    fn name(&self) -> &str;
    /// Runs it; each returned feature joins the report.
    fn run<'a>(&'a self, ctx: &'a RunContext) -> LocalBoxFuture<'a, Vec<FeatureReport>>;
    /// Whether the run's `--tags` expression selects anything of this phase (so that
    /// `--tags '@properties'` is a valid selection even though it names no scenario).
    fn selected_by(&self, _tags: &TagOperation) -> bool {
        false
    }
    /// The severity of this phase's scenarios that carry no severity tag; the runner adds it
    /// to their tags. Default critical: the properties find mutated or forged tokens that
    /// must never be accepted.
    fn severity(&self) -> Severity {
        Severity::Critical
    }
}

/// A setup error: one line, exit 2.
#[derive(Debug)]
pub struct SetupError(pub String);

impl<E: std::fmt::Display> From<E> for SetupError {
    fn from(e: E) -> Self {
        SetupError(e.to_string())
    }
}
