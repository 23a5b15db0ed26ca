//! Scenario deadlines that grow with the profile: a scenario's timeout (`--scenario-timeout`
//! or its `@timeout` tag) bounds the harness's own work, and every wait a step derives from a
//! declared value (leeway, JWKS TTL and cooldown, rate-limit window, the auth proxy's upstream
//! timeout) extends that scenario's deadline by the wait it announces. An implementation that
//! declares a five-minute cooldown is then judged by its verdicts, never cut off by a timeout
//! sized for a thirty-second one, and every wait stays bounded by the step that derived it.
//!
//! ```
//! use std::time::Duration;
//! use xauth_conformance::deadline::Deadlines;
//! use xauth_conformance::plan::ScenarioKey;
//!
//! let deadlines = Deadlines::default();
//! let key = ScenarioKey { file: "features/key_rotation.feature".into(), line: 26, col: 3 };
//! deadlines.extend(&key, Duration::from_secs(65));
//! deadlines.extend(&key, Duration::from_secs(65));
//! assert_eq!(deadlines.extension(&key), Duration::from_secs(130));
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use crate::plan::ScenarioKey;

/// The longest a scenario's deadline can be extended in total (the sum of its derived waits).
pub const MAX_EXTENSION: Duration = Duration::from_secs(60 * 60);

/// Per-scenario deadline extensions, shared by the steps (which announce waits) and the
/// runner's watchdog (which adds them to each scenario's timeout). Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Deadlines(Arc<Mutex<HashMap<ScenarioKey, Duration>>>);

impl Deadlines {
    /// Extends the deadline of `key` by `by` (saturating at [`MAX_EXTENSION`] in total).
    pub fn extend(&self, key: &ScenarioKey, by: Duration) {
        let mut table = self.0.lock();
        let total = table.entry(key.clone()).or_default();
        *total = (*total + by).min(MAX_EXTENSION);
    }

    /// The total extension of `key` so far.
    pub fn extension(&self, key: &ScenarioKey) -> Duration {
        self.0.lock().get(key).copied().unwrap_or_default()
    }
}

/// A World that can be told which scenario it runs (the runner's `before` hook), so its steps
/// can extend that scenario's deadline.
pub trait ScenarioBound {
    /// Records the scenario this World runs.
    fn bind_scenario(&mut self, key: ScenarioKey);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(line: usize) -> ScenarioKey {
        ScenarioKey {
            file: "f.feature".into(),
            line,
            col: 3,
        }
    }

    #[test]
    fn extensions_add_up_per_scenario_and_saturate() {
        let d = Deadlines::default();
        assert_eq!(d.extension(&key(1)), Duration::ZERO);
        d.extend(&key(1), Duration::from_secs(10));
        d.extend(&key(1), Duration::from_secs(5));
        d.extend(&key(2), Duration::from_secs(1));
        assert_eq!(d.extension(&key(1)), Duration::from_secs(15));
        assert_eq!(d.extension(&key(2)), Duration::from_secs(1));
        d.extend(&key(2), Duration::from_secs(10 * 3600));
        assert_eq!(d.extension(&key(2)), MAX_EXTENSION);
        let shared = d.clone();
        shared.extend(&key(3), Duration::from_secs(2));
        assert_eq!(d.extension(&key(3)), Duration::from_secs(2));
    }
}
