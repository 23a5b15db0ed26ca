//! The attack catalogue (`docs/catalogue.md`) and the `@Axx` tags of `features/*.feature` stay
//! in step: every tag names a heading `## Axx — <title>`, the headings run in order without
//! duplicates or gaps, and a heading that no scenario tags says why in a `Not covered:` line.

// Test code: unwrap() is the assertion (clippy does not treat integration tests as test code).
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// A catalogue heading: its row number, its line (1-based) and whether its section carries a
/// line starting `Not covered:`.
#[derive(Debug)]
struct Heading {
    row: u32,
    line: usize,
    not_covered: bool,
}

/// Parses the `## Axx — title` headings (a `## A` followed by a digit is a row heading; one that
/// is not exactly `## Axx — <title>` is reported). A row's section runs to the next `#` or `##`
/// heading.
fn parse_headings(catalogue: &str, problems: &mut Vec<String>) -> Vec<Heading> {
    let mut headings: Vec<Heading> = Vec::new();
    let mut in_row = false;
    for (i, line) in catalogue.lines().enumerate() {
        let line_no = i + 1;
        let row_heading = line
            .strip_prefix("## A")
            .filter(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
        if let Some(rest) = row_heading {
            match parse_heading_rest(rest) {
                Some(row) => {
                    headings.push(Heading {
                        row,
                        line: line_no,
                        not_covered: false,
                    });
                    in_row = true;
                }
                None => {
                    problems.push(format!(
                        "docs/catalogue.md:{line_no}: malformed row heading {line:?} (expected \"## Axx — <short title>\")"
                    ));
                    in_row = false;
                }
            }
        } else if line.starts_with("# ") || line.starts_with("## ") {
            in_row = false;
        } else if in_row {
            let t = line.trim_start();
            let t = t
                .strip_prefix("- ")
                .or_else(|| t.strip_prefix("* "))
                .unwrap_or(t);
            if t.starts_with("Not covered:") {
                headings.last_mut().expect("in a row").not_covered = true;
            }
        }
    }
    headings
}

/// `rest` is what follows `## A`: two digits, ` — `, a non-empty title.
fn parse_heading_rest(rest: &str) -> Option<u32> {
    let digits = rest.get(..2)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let title = rest[2..].strip_prefix(" — ")?;
    if title.trim().is_empty() {
        return None;
    }
    digits.parse().ok()
}

/// Every `@Axx` token (`@A` then two digits) in a feature file's text, with its line.
/// A token with a third digit or letter after the two digits is reported as malformed.
fn parse_tags(file: &str, text: &str, problems: &mut Vec<String>) -> Vec<(u32, usize)> {
    let mut tags = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for token in line.split_whitespace() {
            let Some(rest) = token.strip_prefix("@A") else {
                continue;
            };
            let bytes = rest.as_bytes();
            if bytes.len() < 2 || !bytes[..2].iter().all(u8::is_ascii_digit) {
                continue;
            }
            if bytes.get(2).is_some_and(|b| b.is_ascii_alphanumeric()) {
                problems.push(format!(
                    "{file}:{}: malformed catalogue tag {token:?}",
                    i + 1
                ));
                continue;
            }
            tags.push((rest[..2].parse().unwrap(), i + 1));
        }
    }
    tags
}

/// All problems found between the catalogue text and the feature files `(name, text)`.
fn check(catalogue: &str, features: &[(String, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    let headings = parse_headings(catalogue, &mut problems);
    if headings.is_empty() {
        problems.push("docs/catalogue.md: no \"## Axx — …\" headings found".to_owned());
    }

    // Order, duplicates, gaps.
    let mut seen: BTreeMap<u32, usize> = BTreeMap::new();
    let mut previous: Option<&Heading> = None;
    for h in &headings {
        if let Some(&first) = seen.get(&h.row) {
            problems.push(format!(
                "docs/catalogue.md:{}: duplicate heading A{:02} (first at line {first})",
                h.line, h.row
            ));
        } else {
            seen.insert(h.row, h.line);
        }
        match previous {
            None if h.row != 1 => problems.push(format!(
                "docs/catalogue.md:{}: the first heading is A{:02}, expected A01",
                h.line, h.row
            )),
            Some(p) if h.row < p.row => problems.push(format!(
                "docs/catalogue.md:{}: heading A{:02} out of order (after A{:02} at line {})",
                h.line, h.row, p.row, p.line
            )),
            Some(p) if h.row > p.row + 1 => problems.push(format!(
                "docs/catalogue.md:{}: heading A{:02} follows A{:02}: rows {} missing",
                h.line,
                h.row,
                p.row,
                (p.row + 1..h.row)
                    .map(|r| format!("A{r:02}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            _ => {}
        }
        previous = Some(h);
    }

    // Tags without a heading.
    let mut tagged: BTreeSet<u32> = BTreeSet::new();
    let mut untitled: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for (file, text) in features {
        for (row, line) in parse_tags(file, text, &mut problems) {
            tagged.insert(row);
            if !seen.contains_key(&row) {
                untitled
                    .entry(row)
                    .or_default()
                    .push(format!("{file}:{line}"));
            }
        }
    }
    for (row, places) in untitled {
        problems.push(format!(
            "tag @A{row:02} has no heading in docs/catalogue.md (used at {})",
            places.join(", ")
        ));
    }

    // Headings nobody tags must say why.
    for h in &headings {
        if !tagged.contains(&h.row) && !h.not_covered && seen.get(&h.row) == Some(&h.line) {
            problems.push(format!(
                "docs/catalogue.md:{}: A{:02} is tagged by no scenario and has no \"Not covered:\" line",
                h.line, h.row
            ));
        }
    }
    problems
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read_features() -> Vec<(String, String)> {
    let dir = repo_root().join("features");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("features/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "feature"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .feature files in {}", dir.display());
    files
        .into_iter()
        .map(|p| {
            let name = format!("features/{}", p.file_name().unwrap().to_string_lossy());
            let text = fs::read_to_string(&p)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
            (name, text)
        })
        .collect()
}

#[test]
fn every_tag_has_a_catalogue_heading_and_every_heading_is_covered_or_says_why() {
    let path = repo_root().join("docs/catalogue.md");
    let catalogue =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let problems = check(&catalogue, &read_features());
    assert!(
        problems.is_empty(),
        "docs/catalogue.md and the @Axx tags disagree ({} problems):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

// The checker itself, on small inputs.

fn features(text: &str) -> Vec<(String, String)> {
    vec![("features/x.feature".to_owned(), text.to_owned())]
}

#[test]
fn checker_accepts_a_consistent_catalogue() {
    let cat = "# Catalogue\n\nIntro mentions `Not covered:` inline.\n\n## A01 — One\n\ntext\n\n\
               ## A02 — Two\n\nNot covered: not observable.\n";
    let f = features("@x\nFeature: f\n  @A01 @critical\n  Scenario: s\n");
    assert_eq!(check(cat, &f), Vec::<String>::new());
}

#[test]
fn checker_reports_untitled_tags_uncovered_headings_order_and_duplicates() {
    let cat =
        "## A01 — One\n\n## A03 — Three\n\n## A02 — Two\n\n## A02 — Two again\n\n## A4 — bad\n";
    let f = features("  @A01 @A07 @critical\n  Scenario: s\n  @A100 @high\n");
    let problems = check(cat, &f);
    let has = |needle: &str| problems.iter().any(|p| p.contains(needle));
    assert!(has("tag @A07 has no heading"), "{problems:#?}");
    assert!(has("A03 is tagged by no scenario"), "{problems:#?}");
    assert!(has("A02 is tagged by no scenario"), "{problems:#?}");
    assert!(has("heading A02 out of order"), "{problems:#?}");
    assert!(has("duplicate heading A02"), "{problems:#?}");
    assert!(has("rows A02 missing"), "{problems:#?}");
    assert!(has("malformed row heading"), "{problems:#?}");
    assert!(has("malformed catalogue tag \"@A100\""), "{problems:#?}");
    assert!(!has("A01 is tagged"), "{problems:#?}");
}

#[test]
fn a_not_covered_line_counts_only_inside_its_own_section() {
    let cat = "## A01 — One\n\nNot covered: here.\n\n## A02 — Two\n\ntext\n\n## Appendix\n\nNot covered: elsewhere.\n";
    let problems = check(cat, &features(""));
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].contains("A02 is tagged by no scenario"),
        "{problems:#?}"
    );
}
