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
    extract(EMBEDDED_FEATURES)
}

/// Writes `files` (relative path, text) into a fresh temporary directory.
pub fn extract(files: &[(&str, &str)]) -> Result<FeatureSource, FeatureSourceError> {
    if files.is_empty() {
        return Err(FeatureSourceError::None);
    }
    let temp = tempfile::Builder::new()
        .prefix("xauth-features-")
        .tempdir()
        .map_err(FeatureSourceError::Extract)?;
    for (rel, text) in files {
        let rel = Path::new(rel);
        if rel.is_absolute()
            || rel
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(FeatureSourceError::Extract(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "embedded path {} is not a plain relative path",
                    rel.display()
                ),
            )));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_into_a_temporary_directory_that_goes_away() {
        let src = extract(&[
            ("a.feature", "Feature: a\n"),
            ("sub/b.feature", "Feature: b\n"),
        ])
        .unwrap();
        let dir = src.dir().to_owned();
        assert_eq!(src.origin(), "embedded");
        assert_eq!(
            std::fs::read_to_string(dir.join("sub/b.feature")).unwrap(),
            "Feature: b\n"
        );
        drop(src);
        assert!(!dir.exists());
    }

    #[test]
    fn refuses_paths_that_leave_the_directory() {
        assert!(extract(&[("../x.feature", "")]).is_err());
        assert!(extract(&[("/x.feature", "")]).is_err());
        assert!(matches!(extract(&[]), Err(FeatureSourceError::None)));
    }

    #[test]
    fn the_repository_features_are_embedded() {
        // The repository ships feature files; the build embeds every one of them.
        let on_disk = walk(Path::new(REPO_FEATURES_DIR));
        assert_eq!(
            EMBEDDED_FEATURES.len(),
            on_disk,
            "rebuild embeds the current features"
        );
        assert!(on_disk > 0);
    }

    fn walk(dir: &Path) -> usize {
        std::fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| {
                        let p = e.path();
                        if p.is_dir() {
                            walk(&p)
                        } else {
                            usize::from(p.extension().is_some_and(|x| x == "feature"))
                        }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
}
