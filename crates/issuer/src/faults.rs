//! Fault injection on the JWKS route: a status code, a delay, a malformed body, a dropped
//! connection or a redirect, for the next N requests or until cleared.

use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

/// Longest injectable delay.
pub const MAX_DELAY_MS: u64 = 120_000;
/// Largest `count`.
pub const MAX_COUNT: u64 = 1_000_000;
/// Longest redirect `location`.
pub const MAX_LOCATION_BYTES: usize = 2048;

/// What the JWKS route does instead of answering normally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum FaultKind {
    /// Answer with this status (200..=599) and a small JSON error body.
    Status { status: u16 },
    /// Wait this many milliseconds, then answer normally.
    Delay { ms: u64 },
    /// 200 with a truncated, unparseable JSON body.
    Malformed,
    /// Close the connection without any response.
    Drop,
    /// 302 to `location`.
    Redirect { location: String },
}

/// A fault and how many requests it applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwksFault {
    #[serde(flatten)]
    pub kind: FaultKind,
    /// Number of requests the fault applies to; absent: until cleared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

impl JwksFault {
    /// A fault applying until cleared.
    pub fn new(kind: FaultKind) -> Self {
        Self { kind, count: None }
    }

    /// A fault applying to the next `n` requests.
    pub fn times(kind: FaultKind, n: u64) -> Self {
        Self {
            kind,
            count: Some(n),
        }
    }

    /// Checks the bounds of every field.
    pub fn validate(&self) -> Result<(), String> {
        match &self.kind {
            FaultKind::Status { status } if !(200..=599).contains(status) => {
                return Err(format!("status must be within 200..=599, got {status}"));
            }
            FaultKind::Delay { ms } if *ms > MAX_DELAY_MS => {
                return Err(format!("ms must be at most {MAX_DELAY_MS}"));
            }
            FaultKind::Redirect { location } => {
                if location.is_empty() || location.len() > MAX_LOCATION_BYTES {
                    return Err(format!("location must be 1..={MAX_LOCATION_BYTES} bytes"));
                }
                if http::HeaderValue::from_str(location).is_err() {
                    return Err("location is not a valid header value".into());
                }
            }
            _ => {}
        }
        match self.count {
            Some(0) => Err("count must be at least 1 (omit it for until-cleared)".into()),
            Some(n) if n > MAX_COUNT => Err(format!("count must be at most {MAX_COUNT}")),
            _ => Ok(()),
        }
    }
}

/// The active JWKS fault. Checking costs one relaxed atomic load while none is armed.
#[derive(Debug, Default)]
pub struct Faults {
    armed: AtomicBool,
    active: Mutex<Option<JwksFault>>,
}

impl Faults {
    /// Arms `fault`, replacing any active one.
    pub fn inject(&self, fault: JwksFault) {
        let mut active = self.active.lock();
        *active = Some(fault);
        self.armed.store(true, Ordering::Release);
    }

    /// Clears the active fault.
    pub fn clear(&self) {
        let mut active = self.active.lock();
        *active = None;
        self.armed.store(false, Ordering::Release);
    }

    /// The active fault, if any, without consuming it.
    pub fn active(&self) -> Option<JwksFault> {
        self.active.lock().clone()
    }

    /// Takes one application of the active fault (decrementing its count).
    pub fn take(&self) -> Option<FaultKind> {
        if !self.armed.load(Ordering::Acquire) {
            return None;
        }
        let mut active = self.active.lock();
        let fault = active.as_mut()?;
        let kind = fault.kind.clone();
        match &mut fault.count {
            None => {}
            Some(n) if *n > 1 => *n -= 1,
            Some(_) => {
                *active = None;
                self.armed.store(false, Ordering::Release);
            }
        }
        Some(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_limited_faults_run_out() {
        let faults = Faults::default();
        faults.inject(JwksFault::times(FaultKind::Malformed, 2));
        assert_eq!(faults.take(), Some(FaultKind::Malformed));
        assert_eq!(faults.take(), Some(FaultKind::Malformed));
        assert_eq!(faults.take(), None);
        faults.inject(JwksFault::new(FaultKind::Drop));
        for _ in 0..5 {
            assert_eq!(faults.take(), Some(FaultKind::Drop));
        }
        faults.clear();
        assert_eq!(faults.take(), None);
    }

    #[test]
    fn the_wire_form_parses_and_is_bounded() {
        let f: JwksFault =
            serde_json::from_str(r#"{"kind":"status","status":503,"count":3}"#).unwrap();
        assert_eq!(f, JwksFault::times(FaultKind::Status { status: 503 }, 3));
        assert!(f.validate().is_ok());
        let f: JwksFault = serde_json::from_str(r#"{"kind":"delay","ms":999999}"#).unwrap();
        assert!(f.validate().is_err());
        assert!(serde_json::from_str::<JwksFault>(r#"{"kind":"explode"}"#).is_err());
    }
}
