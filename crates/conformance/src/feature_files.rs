//! Where the feature files come from: `--features DIR`, else the repository's `features/`
//! directory when it exists, else the files embedded in the binary at build time (extracted to a
//! temporary directory that lives as long as the returned [`FeatureSource`]).

use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/embedded_features.rs"));

/// The repository's `features/` directory as seen at build time.
pub const REPO_FEATURES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../features");

/// A directory of feature files, possibly temporary.
#[derive(Debug)]
pub struct FeatureSource {
    dir: PathBuf,
    origin: &'static str,
    _temp: Option<tempfile::TempDir>,
}

impl FeatureSource {
    /// The directory to hand to cucumber.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// `"--features"`, `"repository"` or `"embedded"`.
    pub fn origin(&self) -> &'static str {
        self.origin
    }
}

/// Why no feature files are available.
#[derive(Debug, thiserror::Error)]
pub enum FeatureSourceError {
    /// `--features` is not a directory.
    #[error("--features {0}: not a directory")]
    NotADir(String),
    /// Extraction failed.
    #[error("cannot extract the embedded feature files: {0}")]
    Extract(std::io::Error),
    /// There are none.
    #[error("no feature files: give --features DIR (none are embedded in this binary)")]
    None,
}

/// Resolves the feature directory.
pub fn resolve(explicit: Option<&Path>) -> Result<FeatureSource, FeatureSourceError> {
    if let Some(dir) = explicit {
        if !dir.is_dir() {
            return Err(FeatureSourceError::NotADir(dir.display().to_string()));
        }
        return Ok(FeatureSource {
            dir: dir.to_owned(),
            origin: "--features",
            _temp: None,
        });
    }
    let repo = Path::new(REPO_FEATURES_DIR);
    if has_feature_files(repo) {
        return Ok(FeatureSource {
            dir: repo.canonicalize().unwrap_or_else(|_| repo.to_owned()),
            origin: "repository",
            _temp: None,
        });
    }
    if EMBEDDED_FEATURES.is_empty() {
        return Err(FeatureSourceError::None);
    }
    let temp = tempfile::Builder::new()
        .prefix("xauth-features-")
        .tempdir()
        .map_err(FeatureSourceError::Extract)?;
    for (rel, text) in EMBEDDED_FEATURES {
        let path = temp.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(FeatureSourceError::Extract)?;
        }
        std::fs::write(&path, text).map_err(FeatureSourceError::Extract)?;
    }
    Ok(FeatureSource {
        dir: temp.path().to_owned(),
        origin: "embedded",
        _temp: Some(temp),
    })
}

fn has_feature_files(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let p = e.path();
        if p.is_dir() {
            has_feature_files(&p)
        } else {
            p.extension().is_some_and(|x| x == "feature")
        }
    })
}
