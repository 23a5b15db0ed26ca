//! The one bounded poll: try, and until the expected answer arrives or the next try would
//! overrun the bound, wait an interval and try again. An attempt that sees a wrong answer fails
//! the step itself (`XauthWorld::fail`), so the poll only knows "reached" and "not yet".

use std::time::{Duration, Instant};

/// What one attempt saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The expected answer: stop.
    Reached,
    /// Not yet: try again after the interval, unless that would overrun the bound.
    NotYet,
}

/// What a poll did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Polled {
    /// Whether an attempt saw the expected answer.
    pub reached: bool,
    /// Attempts made.
    pub attempts: usize,
    /// From the first attempt to the last one's end.
    pub elapsed: Duration,
}

/// Runs `attempt` every `interval` until it returns [`Attempt::Reached`] or the next attempt
/// would start after `bound` (the first attempt always runs).
pub async fn until(
    bound: Duration,
    interval: Duration,
    mut attempt: impl AsyncFnMut() -> Attempt,
) -> Polled {
    let start = Instant::now();
    let mut attempts = 0;
    let reached = loop {
        attempts += 1;
        if attempt().await == Attempt::Reached {
            break true;
        }
        if start.elapsed() + interval > bound {
            break false;
        }
        tokio::time::sleep(interval).await;
    };
    Polled {
        reached,
        attempts,
        elapsed: start.elapsed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stops_when_reached_or_before_overrunning_the_bound() {
        let mut n = 0;
        let p = until(
            Duration::from_secs(5),
            Duration::from_millis(1),
            async || {
                n += 1;
                if n == 3 {
                    Attempt::Reached
                } else {
                    Attempt::NotYet
                }
            },
        )
        .await;
        assert!(p.reached);
        assert_eq!(p.attempts, 3);
        let p = until(
            Duration::from_millis(30),
            Duration::from_millis(10),
            async || Attempt::NotYet,
        )
        .await;
        assert!(!p.reached);
        assert!(p.attempts >= 1 && p.attempts <= 4, "{}", p.attempts);
    }
}
