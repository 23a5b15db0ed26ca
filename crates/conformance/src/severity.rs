//! How bad a failing scenario is, so that a team can gate CI on what matters to it
//! (`run --fail-on critical|high|medium|low`).
//!
//! Every scenario of `features/` carries exactly one severity tag:
//!
//! | tag | a failure means |
//! |---|---|
//! | `@critical` | a forged, unsigned, foreign-key or otherwise unauthorized token is ACCEPTED |
//! | `@high` | availability or lifecycle: a 5xx or a hang on attacker input, a revoked key still accepted, a rate limit bypassed, an auth proxy hanging |
//! | `@medium` | the contract's statuses and codes |
//! | `@low` | hardening (every `@strict` scenario) |
//!
//! A scenario without a severity tag (the runner's own test fixtures) counts as
//! [`Severity::Medium`]; the runner gives the properties phase's scenarios
//! [`Severity::Critical`] (see [`crate::run::PostPhase::severity`]). Two severity tags on one
//! scenario are a contradiction: the highest wins (never under-report).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The severity of a scenario, ordered `Low < Medium < High < Critical`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Hardening beyond the contract (`@low`, every `@strict` scenario).
    Low,
    /// The contract's statuses and codes (`@medium`; also the default).
    #[default]
    Medium,
    /// Availability and lifecycle (`@high`).
    High,
    /// An unauthorized token accepted (`@critical`).
    Critical,
}

impl Severity {
    /// Every severity, highest first (the order reports print them in).
    pub const DESCENDING: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];

    /// The tag name (without `@`), also the `--fail-on` value and the JSON value.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The severity a scenario's tags (without `@`) give it: its severity tag, or
    /// [`Severity::Medium`] when it has none.
    pub fn of_tags(tags: &[String]) -> Severity {
        tags.iter()
            .filter_map(|t| t.parse::<Severity>().ok())
            .max()
            .unwrap_or_default()
    }

    /// Whether `tags` carry a severity tag.
    pub fn tagged(tags: &[String]) -> bool {
        tags.iter().any(|t| t.parse::<Severity>().is_ok())
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not a severity name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a severity (critical, high, medium, low)")]
pub struct UnknownSeverity(pub String);

impl FromStr for Severity {
    type Err = UnknownSeverity;

    /// Exactly a tag name (`critical`, `high`, `medium`, `low`; lower case, no `@`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(UnknownSeverity(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn ordered_low_to_critical() {
        assert!(Severity::Low < Severity::Medium);
        assert!(Severity::Medium < Severity::High);
        assert!(Severity::High < Severity::Critical);
        assert_eq!(Severity::DESCENDING[0], Severity::Critical);
    }

    #[test]
    fn parsed_from_exact_tag_names_only() {
        for s in Severity::DESCENDING {
            assert_eq!(s.as_str().parse::<Severity>(), Ok(s));
            assert_eq!(s.to_string(), s.as_str());
        }
        assert!("Critical".parse::<Severity>().is_err());
        assert!("@critical".parse::<Severity>().is_err());
        assert!("P0".parse::<Severity>().is_err());
    }

    #[test]
    fn of_tags_reads_the_severity_tag_or_defaults_to_medium() {
        let of = |t: &[&str]| Severity::of_tags(&tags(t));
        assert_eq!(of(&["algorithms", "A07", "critical"]), Severity::Critical);
        assert_eq!(of(&["low", "strict"]), Severity::Low);
        assert_eq!(of(&["selftest", "P0"]), Severity::Medium);
        assert_eq!(of(&[]), Severity::Medium);
        assert_eq!(of(&["low", "high"]), Severity::High);
        assert!(Severity::tagged(&tags(&["x", "high"])));
        assert!(!Severity::tagged(&tags(&["x"])));
    }

    #[test]
    fn clap_values_are_the_tag_names() {
        use clap::ValueEnum as _;
        let names: Vec<_> = Severity::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value())
            .map(|p| p.get_name().to_owned())
            .collect();
        assert_eq!(names, ["low", "medium", "high", "critical"]);
    }
}
