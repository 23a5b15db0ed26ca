//! Injectable time source.

use std::time::{SystemTime, UNIX_EPOCH};

/// A source of "now" in whole Unix seconds.
///
/// The verifier and its JWKS cache read time only through this trait, so tests can move a fake
/// clock instead of sleeping.
///
/// ```
/// use std::sync::atomic::{AtomicI64, Ordering};
/// use xauth_verifier::Clock;
///
/// struct Fixed(AtomicI64);
/// impl Clock for Fixed {
///     fn now_unix(&self) -> i64 {
///         self.0.load(Ordering::SeqCst)
///     }
/// }
/// assert_eq!(Fixed(AtomicI64::new(42)).now_unix(), 42);
/// ```
pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn now_unix(&self) -> i64;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(_) => 0,
        }
    }
}
