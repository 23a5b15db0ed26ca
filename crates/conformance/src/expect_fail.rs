//! `--expect-fail FILE`: scenarios known to fail.
//!
//! One entry per line; `#` starts a comment; blank lines are ignored. An entry is either a
//! scenario name (`alg none is rejected`) or a feature-qualified one
//! (`algorithms :: alg none is rejected`), where the qualifier is the feature's name, its
//! file stem or its file name (`algorithms.feature`). Names compare exactly after trimming surrounding whitespace.
//!
//! A listed scenario that fails is an *expected failure*: reported, but it does not fail the
//! run. A listed scenario that passes is *unexpectedly passed*: reported as a warning (remove
//! the entry), and it fails the run only with `--strict-expect-fail` (the OpenID conformance
//! suite's CI script behaves like the strict mode). Entries that match no scenario are warned
//! about the same way.
//!
//! ```
//! use xauth_conformance::expect_fail::ExpectFail;
//!
//! let list = ExpectFail::parse("# known\nalgorithms :: alg none is rejected\nexp is checked  # soon\n").unwrap();
//! assert!(list.matches("Algorithms", "algorithms", "alg none is rejected"));
//! assert!(list.matches("Claims", "claims", "exp is checked"));
//! assert!(!list.matches("Claims", "claims", "alg none is rejected"));
//! ```

use std::collections::BTreeSet;
use std::path::Path;

use parking_lot::Mutex;

/// One entry of the list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    /// Feature name or file stem, when qualified.
    pub feature: Option<String>,
    /// Scenario name.
    pub scenario: String,
    /// 1-based line in the file.
    pub line: usize,
}

impl Entry {
    /// The entry as written (normalised).
    pub fn display(&self) -> String {
        match &self.feature {
            Some(f) => format!("{f} :: {}", self.scenario),
            None => self.scenario.clone(),
        }
    }
}

/// The parsed list; remembers which entries were used.
#[derive(Debug, Default)]
pub struct ExpectFail {
    entries: Vec<Entry>,
    used: Mutex<BTreeSet<usize>>,
}

/// The file could not be read or has a bad line.
#[derive(Debug, thiserror::Error)]
pub enum ExpectFailError {
    /// Unreadable.
    #[error("{file}: cannot read the expected-failure list: {source}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// A bad line.
    #[error("{file}:{line}: {message}")]
    Line {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Lists longer than this are rejected.
pub const MAX_ENTRIES: usize = 10_000;

impl ExpectFail {
    /// Reads a list file.
    pub fn load(path: &Path) -> Result<Self, ExpectFailError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ExpectFailError::Read {
            file: file.clone(),
            source,
        })?;
        Self::parse(&text).map_err(|(line, message)| ExpectFailError::Line {
            file,
            line,
            message,
        })
    }

    /// Parses list text; an error is `(line, message)`.
    pub fn parse(text: &str) -> Result<Self, (usize, String)> {
        let mut entries = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let body = raw.split('#').next().unwrap_or("").trim();
            if body.is_empty() {
                continue;
            }
            if entries.len() >= MAX_ENTRIES {
                return Err((line, format!("more than {MAX_ENTRIES} entries")));
            }
            let (feature, scenario) = match body.split_once("::") {
                Some((f, s)) => (Some(f.trim().to_owned()), s.trim().to_owned()),
                None => (None, body.to_owned()),
            };
            if scenario.is_empty() || feature.as_deref() == Some("") {
                return Err((
                    line,
                    format!("{body:?}: expected 'Scenario name' or 'feature :: Scenario name'"),
                ));
            }
            entries.push(Entry {
                feature,
                scenario,
                line,
            });
        }
        Ok(Self {
            entries,
            used: Mutex::new(BTreeSet::new()),
        })
    }

    /// Whether the scenario is listed (and marks the matching entries used).
    pub fn matches(&self, feature_name: &str, feature_stem: &str, scenario: &str) -> bool {
        let mut hit = false;
        for (i, e) in self.entries.iter().enumerate() {
            let feature_ok = e.feature.as_deref().is_none_or(|f| {
                f == feature_name.trim()
                    || f == feature_stem
                    || f.strip_suffix(".feature") == Some(feature_stem)
            });
            if feature_ok && e.scenario == scenario.trim() {
                self.used.lock().insert(i);
                hit = true;
            }
        }
        hit
    }

    /// Entries that matched no scenario so far.
    pub fn unused(&self) -> Vec<Entry> {
        let used = self.used.lock();
        self.entries
            .iter()
            .enumerate()
            .filter(|(i, _)| !used.contains(i))
            .map(|(_, e)| e.clone())
            .collect()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_are_named() {
        assert_eq!(ExpectFail::parse("ok\n:: x\n").unwrap_err().0, 2);
        assert_eq!(ExpectFail::parse("a ::  \n").unwrap_err().0, 1);
    }

    #[test]
    fn unused_entries_are_reported() {
        let l = ExpectFail::parse("a\nf :: b\n").unwrap();
        assert!(l.matches("F", "f", "b"));
        let by_file = ExpectFail::parse("f.feature :: b\n").unwrap();
        assert!(by_file.matches("Feature F", "f", "b"));
        assert!(!by_file.matches("Feature F", "g", "b"));
        assert_eq!(l.unused().len(), 1);
        assert_eq!(l.unused()[0].scenario, "a");
    }
}
