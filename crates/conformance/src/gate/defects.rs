//! The seeded defects of a reference binary: `--list-defects` lines (the name, then a
//! `rows=A07,A08` column naming the catalogue rows whose scenarios must catch it).

use std::path::Path;
use std::time::Duration;

/// One seeded defect as `xauth-reference --list-defects` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defect {
    /// The stable name (`--defect NAME`).
    pub name: String,
    /// The catalogue rows whose scenarios must catch it (`A07`, …; `properties` for the
    /// properties phase): only a failing scenario tagged with one of them counts as a catch.
    pub rows: Vec<String>,
}

impl Defect {
    /// Parses one `--list-defects` line: the name first, then a `rows=A07,A08` column.
    ///
    /// ```
    /// use xauth_conformance::gate::Defect;
    /// let d = Defect::parse_line("alg-none  verifier  rows=A01,A02  unsigned tokens").unwrap();
    /// assert_eq!(d.name, "alg-none");
    /// assert_eq!(d.rows, ["A01", "A02"]);
    /// assert!(Defect::parse_line("   ").is_none());
    /// ```
    pub fn parse_line(line: &str) -> Option<Self> {
        let mut words = line.split_whitespace();
        let name = words.next()?.to_owned();
        let rows = words
            .find_map(|w| w.strip_prefix("rows="))
            .map(|r| {
                r.split(',')
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Some(Self { name, rows })
    }
}

/// Lists the defects of a reference binary (`--list-defects`: the name first, then a
/// `rows=…` column naming the catalogue rows that must catch it).
pub async fn list_defects(reference: &Path) -> Result<Vec<Defect>, String> {
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new(reference)
            .arg("--list-defects")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .map_err(|_| {
        format!(
            "{} --list-defects did not answer within 30 s",
            reference.display()
        )
    })?
    .map_err(|e| format!("cannot run {}: {e}", reference.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} --list-defects exited with {}: {}",
            reference.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let defects: Vec<Defect> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(Defect::parse_line)
        .collect();
    if defects.is_empty() {
        return Err(format!(
            "{} --list-defects listed no defect",
            reference.display()
        ));
    }
    if let Some(d) = defects.iter().find(|d| d.rows.is_empty()) {
        return Err(format!(
            "{} --list-defects: {} declares no catalogue rows (a `rows=A07,…` column): the \
             mutation gate counts only failures of the rows a defect declares",
            reference.display(),
            d.name
        ));
    }
    Ok(defects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_defects_lines_parse() {
        let d = Defect::parse_line(
            "jwks-no-cache                verifier  rows=A33,properties  the JWKS is fetched for every token",
        )
        .unwrap();
        assert_eq!(d.name, "jwks-no-cache");
        assert_eq!(d.rows, ["A33", "properties"]);
        assert!(
            Defect::parse_line("old-style  verifier  no rows column")
                .unwrap()
                .rows
                .is_empty()
        );
    }
}
