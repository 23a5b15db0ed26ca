//! `features/STEPS.md`, the step catalogue, generated from the step definitions in `src/steps/`
//! (phrase → file:line, with the parameter types), and the tidy-style test that keeps it fresh:
//! `UPDATE_STEPS=1 cargo test -p xauth-conformance --lib steps_md` rewrites it.

use std::path::{Path, PathBuf};

/// One step definition as written in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StepDef {
    keyword: String,
    /// `regex` or `expr`.
    kind: String,
    phrase: String,
    params: Vec<String>,
    file: String,
    line: usize,
}

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The string literal starting at `text` (`r"…"`, `r#"…"#` or `"…"`, escapes kept verbatim).
fn literal(text: &str) -> Option<String> {
    let text = text.trim_start();
    if let Some(rest) = text.strip_prefix("r#\"") {
        return rest.find("\"#").map(|end| rest[..end].to_owned());
    }
    if let Some(rest) = text.strip_prefix("r\"") {
        return rest.find('"').map(|end| rest[..end].to_owned());
    }
    let rest = text.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return Some(out),
            c => out.push(c),
        }
    }
    None
}

fn parse_file(path: &Path, rel: &str) -> Vec<StepDef> {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i].trim_start();
        let keyword = ["given", "when", "then"]
            .into_iter()
            .find(|k| l.starts_with(&format!("#[{k}(")));
        let Some(keyword) = keyword else {
            i += 1;
            continue;
        };
        let start = i;
        let mut attr = String::new();
        while i < lines.len() {
            attr.push_str(lines[i].trim());
            attr.push(' ');
            if lines[i].trim_end().ends_with(")]") {
                break;
            }
            i += 1;
        }
        let (kind, at) = match (attr.find("regex ="), attr.find("expr =")) {
            (Some(p), _) => ("regex", p + "regex =".len()),
            (None, Some(p)) => ("expr", p + "expr =".len()),
            _ => panic!(
                "{rel}:{}: a step attribute without regex or expr",
                start + 1
            ),
        };
        let phrase = literal(&attr[at..])
            .unwrap_or_else(|| panic!("{rel}:{}: cannot read the step's phrase", start + 1));
        // the function's parameters after the World
        let mut sig = String::new();
        while i < lines.len() && !sig.contains(')') {
            i += 1;
            if let Some(l) = lines.get(i)
                && (l.contains("fn ") || !sig.is_empty())
            {
                sig.push_str(l.trim());
                sig.push(' ');
            }
        }
        let params = sig
            .split_once('(')
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(args, _)| {
                args.split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .skip(1)
                    .map(|a| a.split_once(':').map_or(a, |(_, t)| t.trim()).to_owned())
                    .collect()
            })
            .unwrap_or_default();
        out.push(StepDef {
            keyword: keyword.to_owned(),
            kind: kind.to_owned(),
            phrase,
            params,
            file: rel.to_owned(),
            line: start + 1,
        });
        i += 1;
    }
    out
}

fn step_defs() -> Vec<StepDef> {
    let root = crate_dir();
    let mut files = Vec::new();
    rust_files(&root.join("src/steps"), &mut files);
    let mut out = Vec::new();
    for f in files {
        let repo = root.join("../..").canonicalize().unwrap();
        let abs = f.canonicalize().unwrap();
        let rel = abs
            .strip_prefix(&repo)
            .unwrap_or(&abs)
            .display()
            .to_string();
        out.extend(parse_file(&f, &rel));
    }
    out
}

/// The text of `features/STEPS.md`.
fn render() -> String {
    let mut out = String::from(
        "# Step catalogue\n\n\
         Generated from the step definitions in `crates/conformance/src/steps/` by the test \
         `steps::catalogue::steps_md`; do not edit by hand. Regenerate with\n\
         `UPDATE_STEPS=1 cargo test -p xauth-conformance --lib steps_md`.\n\n\
         `expr` phrases are cucumber expressions: `{family}`, `{jwks_entry}`, `{jwks_fault}` are the \
         typed parameters of `crates/conformance/src/scenario/params.rs`, whose regex is their \
         whole vocabulary. `regex` phrases are anchored regular expressions; each capture is \
         parsed into the parameter type listed.\n",
    );
    let defs = step_defs();
    let mut file = String::new();
    for d in &defs {
        if d.file != file {
            file.clone_from(&d.file);
            out.push_str(&format!(
                "\n## `{file}`\n\n| step | phrase | parameters | line |\n|---|---|---|---|\n"
            ));
        }
        let phrase = d.phrase.replace('|', "\\|");
        let params = if d.params.is_empty() {
            String::new()
        } else {
            format!("`{}`", d.params.join("`, `"))
        };
        out.push_str(&format!(
            "| {} ({}) | `{}` | {} | [{}]({}#L{}) |\n",
            d.keyword,
            d.kind,
            phrase,
            params.replace('|', "\\|"),
            d.line,
            relative_link(&d.file),
            d.line
        ));
    }
    out
}

/// A link from `features/` to a repository file.
fn relative_link(file: &str) -> String {
    format!("../{file}")
}

#[test]
fn steps_md() {
    let path = crate_dir().join("../../features/STEPS.md");
    let want = render();
    if std::env::var_os("UPDATE_STEPS").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "features/STEPS.md is stale (a step definition changed); regenerate it with\n    \
         UPDATE_STEPS=1 cargo test -p xauth-conformance --lib steps_md"
    );
}

#[test]
fn every_step_definition_is_catalogued() {
    let defs = step_defs();
    assert!(
        defs.len() > 100,
        "only {} step definitions found",
        defs.len()
    );
    assert!(
        defs.iter()
            .any(|d| d.phrase.contains("{family}") || d.params.iter().any(|p| p == "Family")),
        "the typed key family parameter is catalogued"
    );
}
