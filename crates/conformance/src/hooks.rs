//! What the runner asks of a scenario World after each scenario.
//!
//! Scenarios tagged `@serial` change state every other scenario shares: the issuer's faults,
//! clock, extra JWKS entries, its current key. Whatever way such a scenario ends (passed, a
//! verdict, a suite error, a timeout of one of its steps), the runner's after-hook calls
//! [`SharedState::restore_shared_state`], so no step has to remember to clean up before it
//! fails, and there is only one way to fail a step.

use futures::future::LocalBoxFuture;

/// A World that can put back the shared issuer state its scenario changed.
pub trait SharedState {
    /// Puts back the shared state this scenario changed: faults cleared, clock offset 0, extra
    /// JWKS entries removed, and, when the scenario `failed`, a key rotation the implementation
    /// was never shown to accept rolled back. Errors are logged, never raised (the scenario's
    /// verdict is already decided). The default does nothing (a World without shared state).
    fn restore_shared_state(&mut self, failed: bool) -> LocalBoxFuture<'_, ()> {
        let _ = failed;
        Box::pin(async {})
    }
}
