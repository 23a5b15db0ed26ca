//! Steps every World gets from the runner, for the runner's own tests:
//! `the runner self-test passes`, `the runner self-test fails with "MESSAGE"` (a text panic),
//! `the runner self-test sleeps for N ms`, `the runner self-test observes STATUS [with code
//! CODE] [and body "BODY"]` (a typed verdict: 401 UNAUTHENTICATED was expected) and `the
//! runner self-test has a suite error "MESSAGE"` (a typed suite error).
//!
//! They ship in the binary on purpose: the runner's tests (`tests/runner.rs`) drive the real
//! `xauth-conformance` binary with feature files made of these steps.

use cucumber::step::Context;
use futures::future::LocalBoxFuture;
use regex::Regex;

use crate::failure::{Observed, StepFailure, json_shape, shape};

fn re(s: &str) -> Regex {
    match Regex::new(s) {
        Ok(r) => r,
        Err(e) => panic!("self-test step regex {s:?}: {e}"),
    }
}
pub(crate) fn pass_re() -> Regex {
    re(r"^the runner self-test passes$")
}
pub(crate) fn fail_re() -> Regex {
    re(r#"^the runner self-test fails with "(.*)"$"#)
}
pub(crate) fn sleep_re() -> Regex {
    re(r"^the runner self-test sleeps for (\d{1,7}) ms$")
}
pub(crate) fn observes_re() -> Regex {
    re(r#"^the runner self-test observes (\d{3})(?: with code (\S+))?(?: and body "(.*)")?$"#)
}
pub(crate) fn suite_error_re() -> Regex {
    re(r#"^the runner self-test has a suite error "(.*)"$"#)
}
/// The expectation of the `observes` step.
pub const OBSERVES_EXPECTATION: &str = "401 with error code UNAUTHENTICATED (runner self-test)";
/// Fails as a verdict: 401 UNAUTHENTICATED was expected, the given answer observed.
pub fn observes<W>(_: &mut W, ctx: Context) -> LocalBoxFuture<'_, ()> {
    let group = |i: usize| ctx.matches.get(i).map(|m| m.1.clone()).unwrap_or_default();
    let status: u16 = group(1).parse().unwrap_or(0);
    let code = Some(group(2)).filter(|c| !c.is_empty());
    let body = group(3);
    Box::pin(async move {
        let body_shape = match serde_json::from_str(&body) {
            Ok(v) => json_shape(&v),
            Err(_) => shape(&body, 160),
        };
        let message = format!(
            "expected: {OBSERVES_EXPECTATION}\nresponse: {status}\n  body: {body}\nreproduce: curl -sS -i http://127.0.0.1:1/api/content"
        );
        StepFailure::verdict(
            OBSERVES_EXPECTATION,
            message,
            Some(Observed {
                status: Some(status),
                code,
                body_shape,
            }),
        )
        .raise()
    })
}
/// Fails as a suite error.
pub fn suite_error<W>(_: &mut W, ctx: Context) -> LocalBoxFuture<'_, ()> {
    let msg = ctx.matches.get(1).map(|m| m.1.clone()).unwrap_or_default();
    Box::pin(async move {
        StepFailure::suite_error(format!("suite error (not a verdict on the target): {msg}"))
            .raise()
    })
}
/// Passes.
pub fn pass<W>(_: &mut W, _: Context) -> LocalBoxFuture<'_, ()> {
    Box::pin(async {})
}
/// Panics with the quoted message.
pub fn fail<W>(_: &mut W, ctx: Context) -> LocalBoxFuture<'_, ()> {
    let msg = ctx.matches.get(1).map(|m| m.1.clone()).unwrap_or_default();
    Box::pin(async move { panic!("{msg}") })
}
/// Sleeps.
pub fn sleep<W>(_: &mut W, ctx: Context) -> LocalBoxFuture<'_, ()> {
    let ms: u64 = ctx
        .matches
        .get(1)
        .and_then(|m| m.1.parse().ok())
        .unwrap_or(0);
    Box::pin(async move { tokio::time::sleep(std::time::Duration::from_millis(ms)).await })
}
