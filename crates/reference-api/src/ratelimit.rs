//! Keyed GCRA rate limiting (governor) with bounded memory and the IETF `RateLimit` headers.
//!
//! Two limiters: one keyed by the *verified* subject (`sub`), one keyed by the client IP (the TCP
//! peer address; `X-Forwarded-For` is never trusted) for requests without a valid token. A flood
//! of forged tokens naming a victim's `sub` therefore only spends the attacker's IP budget.
//!
//! Memory is bounded twice: idle keys are swept (`retain_recent`) at most once per sweep interval
//! on the request path (no background task needed), and when a limiter still tracks `max_keys`
//! keys after a sweep, every further request shares one overflow bucket until keys expire. That
//! degrades fairness only under a flood of distinct keys, never the bound.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use governor::clock::{Clock, FakeRelativeClock};
use governor::middleware::StateInformationMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

/// The time source of the rate limiters: the monotonic clock, or a fake one that tests advance
/// by hand (so rate-limit resets are tested without sleeping).
#[derive(Debug, Clone)]
pub enum RateClock {
    /// Monotonic wall time, measured from the limiter's creation.
    Monotonic(Arc<Instant>),
    /// A clock that only moves when [`FakeRelativeClock::advance`] is called.
    Fake(FakeRelativeClock),
}

impl RateClock {
    /// The real, monotonic clock.
    pub fn monotonic() -> Self {
        RateClock::Monotonic(Arc::new(Instant::now()))
    }
}

impl Default for RateClock {
    fn default() -> Self {
        Self::monotonic()
    }
}

impl Clock for RateClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        match self {
            RateClock::Monotonic(start) => Nanos::from(start.elapsed()),
            RateClock::Fake(fake) => fake.now(),
        }
    }
}

/// What a limiter decided, with everything the response headers need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateInfo {
    /// Policy name used in `RateLimit` / `RateLimit-Policy` (`"sub"` or `"ip"`).
    pub policy: &'static str,
    /// Quota units per window (`q`).
    pub quota: u32,
    /// Window in seconds (`w`).
    pub window_secs: u64,
    /// Remaining units after this request (`r`).
    pub remaining: u32,
    /// Seconds until the quota is fully available again (`t`); on a denial, the retry delay.
    pub reset_secs: u64,
    /// `Some(seconds >= 1)` when the request was denied.
    pub retry_after: Option<u64>,
}

impl RateInfo {
    /// `RateLimit-Policy` value, e.g. `"sub";q=120;w=60` (draft-ietf-httpapi-ratelimit-headers).
    pub fn policy_header(&self) -> String {
        format!(
            "\"{}\";q={};w={}",
            self.policy, self.quota, self.window_secs
        )
    }

    /// `RateLimit` value, e.g. `"sub";r=0;t=7`.
    pub fn limit_header(&self) -> String {
        format!(
            "\"{}\";r={};t={}",
            self.policy, self.remaining, self.reset_secs
        )
    }
}

/// Limits for one keyed limiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateSpec {
    /// Requests allowed per window (also the burst).
    pub limit: NonZeroU32,
    /// The window.
    pub window: Duration,
    /// Most keys tracked before the overflow bucket is used.
    pub max_keys: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Slot<K> {
    Key(K),
    Overflow,
}

type Inner<K> =
    RateLimiter<Slot<K>, DashMapStateStore<Slot<K>>, RateClock, StateInformationMiddleware>;

/// One keyed GCRA limiter with bounded key memory.
pub struct KeyedLimiter<K: Hash + Eq + Clone> {
    inner: Inner<K>,
    clock: RateClock,
    policy: &'static str,
    spec: RateSpec,
    sweep_every: Duration,
    last_sweep_nanos: AtomicU64,
}

impl<K: Hash + Eq + Clone> KeyedLimiter<K> {
    /// A limiter allowing `spec.limit` requests per `spec.window` per key (GCRA: a burst of
    /// `limit`, then one more every `window / limit`).
    pub fn new(policy: &'static str, spec: RateSpec, clock: RateClock) -> Self {
        let period = (spec.window / spec.limit.get()).max(Duration::from_nanos(1));
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(spec.limit);
        let inner = RateLimiter::dashmap_with_clock(quota, clock.clone())
            .with_middleware::<StateInformationMiddleware>();
        let sweep_every = spec
            .window
            .clamp(Duration::from_secs(1), Duration::from_secs(60));
        Self {
            inner,
            clock,
            policy,
            spec,
            sweep_every,
            last_sweep_nanos: AtomicU64::new(0),
        }
    }

    /// Spends one unit of `key`'s budget. `Ok` carries the remaining budget, `Err` the denial
    /// (with `retry_after`).
    pub fn check(&self, key: &K) -> Result<RateInfo, RateInfo> {
        self.maybe_sweep();
        let slot = if self.inner.len() >= self.spec.max_keys {
            // Over the key cap even after a sweep: share one bucket (bounded memory wins).
            self.force_sweep();
            if self.inner.len() >= self.spec.max_keys {
                Slot::Overflow
            } else {
                Slot::Key(key.clone())
            }
        } else {
            Slot::Key(key.clone())
        };
        let quota = self.spec.limit.get();
        let window_secs = self.spec.window.as_secs().max(1);
        match self.inner.check_key(&slot) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity().min(quota);
                let used = u64::from(quota - remaining);
                let per_unit = self.spec.window.as_nanos() / u128::from(quota);
                let reset = Duration::from_nanos(
                    u64::try_from(per_unit * u128::from(used)).unwrap_or(u64::MAX),
                );
                Ok(RateInfo {
                    policy: self.policy,
                    quota,
                    window_secs,
                    remaining,
                    reset_secs: ceil_secs(reset),
                    retry_after: None,
                })
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                let retry = ceil_secs(wait).max(1);
                Err(RateInfo {
                    policy: self.policy,
                    quota,
                    window_secs,
                    remaining: 0,
                    reset_secs: retry,
                    retry_after: Some(retry),
                })
            }
        }
    }

    /// Number of keys currently tracked.
    pub fn tracked_keys(&self) -> usize {
        self.inner.len()
    }

    fn maybe_sweep(&self) {
        let now = self.clock.now().as_u64();
        let last = self.last_sweep_nanos.load(Ordering::Relaxed);
        let every = u64::try_from(self.sweep_every.as_nanos()).unwrap_or(u64::MAX);
        if now.saturating_sub(last) >= every
            && self
                .last_sweep_nanos
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            self.sweep();
        }
    }

    fn force_sweep(&self) {
        // At most once per second, however hard the cap is hit.
        let now = self.clock.now().as_u64();
        let last = self.last_sweep_nanos.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= 1_000_000_000
            && self
                .last_sweep_nanos
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            self.sweep();
        }
    }

    fn sweep(&self) {
        self.inner.retain_recent();
        self.inner.shrink_to_fit();
    }
}

fn ceil_secs(d: Duration) -> u64 {
    let s = d.as_secs();
    if d.subsec_nanos() > 0 {
        s.saturating_add(1)
    } else {
        s
    }
}

/// The rate-limit key of a client address: IPv4 as is (IPv4-mapped IPv6 unwrapped), IPv6 by its
/// /64 prefix, so one host cannot mint itself fresh budgets from its own subnet.
pub fn ip_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Both limiters of the service.
pub struct Limiters {
    /// Per verified subject.
    pub subject: KeyedLimiter<String>,
    /// Per client IP, for requests without a valid token.
    pub ip: KeyedLimiter<IpAddr>,
}

impl Limiters {
    /// Builds both limiters on one clock.
    pub fn new(subject: RateSpec, ip: RateSpec, clock: RateClock) -> Self {
        Self {
            subject: KeyedLimiter::new("sub", subject, clock.clone()),
            ip: KeyedLimiter::new("ip", ip, clock),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(limit: u32, window: u64, max_keys: usize) -> RateSpec {
        RateSpec {
            limit: NonZeroU32::new(limit).unwrap(),
            window: Duration::from_secs(window),
            max_keys,
        }
    }

    #[test]
    fn burst_then_deny_then_reset() {
        let fake = FakeRelativeClock::default();
        let l = KeyedLimiter::new("sub", spec(3, 60, 100), RateClock::Fake(fake.clone()));
        let k = "a".to_string();
        assert_eq!(l.check(&k).unwrap().remaining, 2);
        assert_eq!(l.check(&k).unwrap().remaining, 1);
        let last = l.check(&k).unwrap();
        assert_eq!((last.remaining, last.reset_secs), (0, 60));
        let denied = l.check(&k).unwrap_err();
        assert_eq!(denied.retry_after, Some(20));
        assert_eq!(denied.limit_header(), "\"sub\";r=0;t=20");
        assert_eq!(denied.policy_header(), "\"sub\";q=3;w=60");
        fake.advance(Duration::from_secs(20));
        assert!(l.check(&k).is_ok());
        assert!(l.check(&k).is_err());
        // Another key is independent.
        assert!(l.check(&"b".to_string()).is_ok());
    }

    #[test]
    fn retry_after_is_at_least_one_second() {
        let fake = FakeRelativeClock::default();
        let l = KeyedLimiter::new("ip", spec(1000, 1, 100), RateClock::Fake(fake));
        let k = "x".to_string();
        for _ in 0..1000 {
            l.check(&k).unwrap();
        }
        assert_eq!(l.check(&k).unwrap_err().retry_after, Some(1));
    }

    #[test]
    fn key_memory_is_bounded() {
        let fake = FakeRelativeClock::default();
        let l = KeyedLimiter::new("ip", spec(2, 60, 10), RateClock::Fake(fake.clone()));
        for i in 0..100 {
            let _ = l.check(&format!("k{i}"));
        }
        assert!(l.tracked_keys() <= 11, "tracked {}", l.tracked_keys());
        // Once idle keys are fully replenished they are swept and new keys get their own bucket.
        fake.advance(Duration::from_secs(61));
        let info = l.check(&"fresh".to_string()).unwrap();
        assert_eq!(info.remaining, 1);
        assert!(l.tracked_keys() <= 2);
    }

    #[test]
    fn ipv6_keys_by_64_prefix() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(ip_key(a), ip_key(b));
        let m: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(ip_key(m), "10.0.0.1".parse::<IpAddr>().unwrap());
    }
}
