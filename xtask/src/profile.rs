//! What xtask reads out of target profiles, without a TOML dependency: the reference's flags
//! from the fast profile's `[reference] args = [...]` ([`reference_args`]), and, for the
//! interop targets, the `xauth-conformance run … --spawn "…"` command their header comment
//! names ([`header_run_command`]).

use crate::process::{Failure, workspace_root};

/// The fast profile for the reference: short TTL/cooldown/window values, so the stateful
/// families wait seconds, not minutes. Its `[reference] args` start the reference to match.
pub const FAST_PROFILE: &str = "fixtures/profiles/reference-fast.toml";

/// `run` flags that go with [`FAST_PROFILE`]: its short TTL makes the @slow scenario (waiting
/// out the JWKS cache TTL) take about 2 s.
pub const FAST_RUN_FLAGS: &[&str] = &["--slow"];

/// The fast profile's `[reference] args`.
pub fn fast_reference_args() -> Result<Vec<String>, Failure> {
    reference_args_of(FAST_PROFILE)
}

/// The `[reference] args` of the profile at `path` (relative to the workspace root), which
/// must name some.
pub fn reference_args_of(path: &str) -> Result<Vec<String>, Failure> {
    let text = std::fs::read_to_string(workspace_root().join(path))
        .map_err(|e| Failure::setup(format!("{path}: {e}")))?;
    let args = reference_args(&text).map_err(|e| Failure::setup(format!("{path}: {e}")))?;
    if args.is_empty() {
        return Err(Failure::setup(format!(
            "{path}: no [reference] args = [...] naming the xauth-reference flags it describes"
        )));
    }
    Ok(args)
}

/// The `args` array of a profile's `[reference]` table (empty when there is none): a TOML
/// array of strings, on one line or several, with `#` comments. Basic strings may use the
/// escapes `\"` and `\\`; literal strings ('…') are taken as they are.
pub fn reference_args(text: &str) -> Result<Vec<String>, String> {
    let mut in_table = false;
    let mut lines = text.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') && !trimmed.starts_with("[[") && trimmed.ends_with(']') {
            in_table = trimmed == "[reference]";
            continue;
        }
        if !in_table {
            continue;
        }
        let Some(value) = trimmed
            .strip_prefix("args")
            .map(str::trim_start)
            .and_then(|r| r.strip_prefix('='))
        else {
            continue;
        };
        let at = |e: String| format!("line {}: [reference] args: {e}", n + 1);
        let mut array = value.to_owned();
        while !array_closed(&array).map_err(at)? {
            let (_, more) = lines
                .next()
                .ok_or_else(|| format!("line {}: [reference] args: unclosed array", n + 1))?;
            array.push('\n');
            array.push_str(more);
        }
        return parse_array(&array).map_err(at);
    }
    Ok(Vec::new())
}

/// Whether a TOML array that starts in `s` closes in it (`Err` when `s` is not an array).
fn array_closed(s: &str) -> Result<bool, String> {
    Ok(scan(s)?.is_some())
}

/// Parses `[ "a", 'b', … ]` (trailing text after `]` may only be a comment).
fn parse_array(s: &str) -> Result<Vec<String>, String> {
    let (items, rest) = scan(s)?.ok_or("unclosed array")?;
    let rest = rest.trim();
    if !(rest.is_empty() || rest.starts_with('#')) {
        return Err(format!("unexpected {rest:?} after the array"));
    }
    Ok(items)
}

/// Scans an array of strings: `Ok(None)` when it does not close within `s`, else its items and
/// the text after `]`.
fn scan(s: &str) -> Result<Option<(Vec<String>, &str)>, String> {
    let s = s.trim_start();
    let body = s
        .strip_prefix('[')
        .ok_or_else(|| format!("expected an array of strings, found {s:?}"))?;
    let mut items = Vec::new();
    let mut chars = body.char_indices().peekable();
    let mut expect_item = true;
    while let Some((i, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '#' => {
                // a comment runs to the end of its line
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            ']' => return Ok(Some((items, &body[i + 1..]))),
            ',' if !expect_item => expect_item = true,
            '"' | '\'' if expect_item => {
                let mut item = String::new();
                let mut closed = false;
                while let Some((_, d)) = chars.next() {
                    match d {
                        d if d == c => {
                            closed = true;
                            break;
                        }
                        '\\' if c == '"' => match chars.next() {
                            Some((_, e @ ('"' | '\\'))) => item.push(e),
                            Some((_, e)) => return Err(format!("unsupported escape \\{e}")),
                            None => return Ok(None),
                        },
                        '\n' => return Err("a string runs past the end of its line".into()),
                        d => item.push(d),
                    }
                }
                if !closed {
                    return Ok(None);
                }
                items.push(item);
                expect_item = false;
            }
            other => return Err(format!("unexpected {other:?} (only strings are allowed)")),
        }
    }
    Ok(None)
}

/// Joins arguments into one command line that `xauth-conformance` splits back like a shell
/// (words with anything but `[A-Za-z0-9_./:=,@+-]` are single-quoted).
pub fn shell_join(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_./:=,@+-".contains(&b));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// From a profile's leading comment block (lines ending in `\` continue), the first
/// `xauth-conformance run …` command: (its `--spawn` value, the other `run` flags except
/// `--profile FILE`). `None` when there is no such line or a quote is unbalanced.
pub fn header_run_command(text: &str) -> Option<(Option<String>, Vec<String>)> {
    let mut joined = String::new();
    for line in text.lines() {
        let Some(comment) = line.trim_start().strip_prefix('#') else {
            break;
        };
        let comment = comment.trim();
        match comment.strip_suffix('\\') {
            Some(cont) => {
                joined.push_str(cont);
                joined.push(' ');
            }
            None => {
                joined.push_str(comment);
                joined.push('\n');
            }
        }
    }
    let line = joined
        .lines()
        .find(|l| l.contains("xauth-conformance run"))?;
    let words = split_words(line)?;
    let start = words.iter().position(|w| w == "run")? + 1;
    let mut run_flags = Vec::new();
    let mut spawn = None;
    let mut i = start;
    while i < words.len() {
        match words[i].as_str() {
            "--spawn" => {
                spawn = Some(words.get(i + 1)?.clone());
                i += 2;
            }
            "--profile" => i += 2,
            w => {
                run_flags.push(w.to_owned());
                i += 1;
            }
        }
    }
    Some((spawn, run_flags))
}

/// Splits like a shell (whitespace, single and double quotes; no escapes); `None` on an
/// unbalanced quote.
pub fn split_words(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return None;
    }
    if in_word {
        words.push(cur);
    }
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_args_on_one_line_or_several() {
        let text = "name = \"x\"\n[jwks]\nargs = [\"not\", \"these\"]\n[reference]\n# how\nargs = [\"--a\", '1']\n";
        assert_eq!(reference_args(text).unwrap(), ["--a", "1"]);
        let text = "[reference]\nargs = [\n  \"--jwks-ttl-max\", \"2\", # the TTL\n  \"say \\\"hi\\\"\",\n]\n[strict]\n";
        assert_eq!(
            reference_args(text).unwrap(),
            ["--jwks-ttl-max", "2", "say \"hi\""]
        );
        assert_eq!(
            reference_args("[reference]\nargs = []\n").unwrap(),
            Vec::<String>::new()
        );
        assert!(reference_args("name = \"x\"\n").unwrap().is_empty());
    }

    #[test]
    fn reference_args_errors_name_the_line() {
        let e = reference_args("\n[reference]\nargs = [1, 2]\n").unwrap_err();
        assert!(e.starts_with("line 3: [reference] args:"), "{e}");
        assert!(reference_args("[reference]\nargs = [\"a\"\n").is_err());
        assert!(reference_args("[reference]\nargs = \"--a\"\n").is_err());
        assert!(reference_args("[reference]\nargs = [\"a\" \"b\"]\n").is_err());
    }

    #[test]
    fn the_fast_profile_names_the_reference_flags() {
        let Ok(args) = fast_reference_args() else {
            panic!("the fast profile has no [reference] args");
        };
        for flag in ["--jwks-ttl-max", "--jwks-cooldown", "--rate-window"] {
            assert!(args.iter().any(|a| a == flag), "{flag}: {args:?}");
        }
        assert!(
            !args.iter().any(|a| a.contains("xauth-reference")),
            "{args:?}"
        );
    }

    #[test]
    fn joined_arguments_split_back() {
        let args: Vec<String> = ["--rate-window", "2", "two words", "it's", ""]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let line = shell_join(&args);
        assert_eq!(line, r#"--rate-window 2 'two words' 'it'\''s' ''"#);
        assert_eq!(shell_join(&args[..2]), "--rate-window 2");
    }

    #[test]
    fn header_commands_and_shell_words() {
        let text = "# run it:\n#   xauth-conformance run --tags '@a and @b' \\\n#     --profile p.toml --spawn \"node server.js\"\nname = \"x\"\n";
        let (spawn, flags) = header_run_command(text).unwrap();
        assert_eq!(spawn.as_deref(), Some("node server.js"));
        assert_eq!(flags, ["--tags", "@a and @b"]);
        assert_eq!(split_words("a 'b c' \"d\"").unwrap(), ["a", "b c", "d"]);
        assert!(split_words("'open").is_none());
    }
}
