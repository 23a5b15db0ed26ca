//! Step definitions: the vocabulary of `features/*.feature`.
//!
//! * `tokens`: `Given` steps that obtain a token (minted by the issuer, or forged);
//! * `tamper`: `Given that token with …` steps that change the current token;
//! * `requests`: `When I call …` steps;
//! * `outcomes`: `Then …` steps (status, error code, headers, evidence on failure);
//! * `values`: the small expression language for claim and header values
//!   (`now minus the leeway minus 5 seconds`, `the issuer with a trailing slash`, JSON text, …).

#[cfg(test)]
mod catalogue;
pub mod outcomes;
#[cfg(test)]
mod prose;
pub mod requests;
pub mod stateful;
pub mod tamper;
pub mod tokens;
pub mod values;

/// End-to-end run of every scenario against the reference implementation (spawned) and the
/// in-process issuer. Needs the `xauth-reference` binary: set `XAUTH_REFERENCE_BIN`.
/// `cargo test -p xauth-conformance --lib -- --ignored e2e_reference --nocapture`
#[cfg(test)]
mod e2e {
    use clap::Parser as _;

    use crate::cli::{Cli, Command};
    use crate::scenario::world::XauthWorld;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "spawns xauth-reference (XAUTH_REFERENCE_BIN)"]
    async fn e2e_reference() {
        let bin = std::env::var("XAUTH_REFERENCE_BIN").expect("XAUTH_REFERENCE_BIN");
        let features = concat!(env!("CARGO_MANIFEST_DIR"), "/../../features");
        let mut argv = vec![
            "xauth-conformance".to_owned(),
            "run".into(),
            "--spawn".into(),
            bin,
            "--features".into(),
            features.into(),
            "--issuer-addr".into(),
            "127.0.0.1:0".into(),
        ];
        if let Ok(profile) = std::env::var("XAUTH_PROFILE") {
            argv.push("--profile".into());
            argv.push(profile);
        }
        if let Ok(tags) = std::env::var("XAUTH_TAGS") {
            argv.push("--tags".into());
            argv.push(tags);
        }
        let Command::Run(args) = Cli::parse_from(argv).command else {
            panic!("not a run command")
        };
        let code = crate::run::run::<XauthWorld>(&args, &[]).await;
        // XAUTH_EXPECT_EXIT=1 when the spawned reference carries a seeded defect
        let expected: i32 = std::env::var("XAUTH_EXPECT_EXIT")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        assert_eq!(code, expected, "exit status of the run");
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use cucumber::World as _;
    use cucumber::feature::Ext as _;
    use cucumber::gherkin::{Feature, GherkinEnv};

    use crate::scenario::world::XauthWorld;

    fn features() -> Vec<Feature> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../features");
        let mut out = Vec::new();
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "feature"))
            .collect();
        paths.sort();
        for p in paths {
            let f = Feature::parse_path(&p, GherkinEnv::default())
                .unwrap_or_else(|e| panic!("{}: {e:?}", p.display()));
            out.push(
                f.expand_examples()
                    .unwrap_or_else(|e| panic!("{}: {e}", p.display())),
            );
        }
        out
    }

    /// Every step of every (expanded) scenario matches exactly one step definition.
    #[test]
    fn every_step_is_defined_exactly_once() {
        let steps = XauthWorld::collection();
        let mut problems = Vec::new();
        let mut count = 0;
        for f in features() {
            let all = f
                .scenarios
                .iter()
                .chain(f.rules.iter().flat_map(|r| r.scenarios.iter()));
            for sc in all {
                for st in f
                    .background
                    .iter()
                    .flat_map(|b| b.steps.iter())
                    .chain(sc.steps.iter())
                {
                    count += 1;
                    match steps.find(st) {
                        Ok(Some(_)) => {}
                        Ok(None) => problems.push(format!(
                            "undefined: {} | {} {}",
                            f.name, st.keyword, st.value
                        )),
                        Err(e) => {
                            problems.push(format!("ambiguous: {} {} ({e})", st.keyword, st.value))
                        }
                    }
                }
            }
        }
        assert!(count > 300, "only {count} steps found");
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// Every scenario carries a row id tag (`@A07`) and exactly one severity tag
    /// (`@critical`, `@high`, `@medium`, `@low`); every `@strict` scenario is `@low`, and no
    /// stale priority tag (`@P0`..`@P3`) is left.
    #[test]
    fn every_scenario_is_tagged_with_row_and_one_severity() {
        const SEVERITIES: [&str; 4] = ["critical", "high", "medium", "low"];
        let mut problems = Vec::new();
        for f in features() {
            for sc in &f.scenarios {
                let tags: Vec<&str> = f
                    .tags
                    .iter()
                    .chain(sc.tags.iter())
                    .map(String::as_str)
                    .collect();
                let has_row = tags.iter().any(|t| {
                    t.len() == 3 && t.starts_with('A') && t[1..].chars().all(|c| c.is_ascii_digit())
                });
                let severities: Vec<&&str> =
                    tags.iter().filter(|t| SEVERITIES.contains(t)).collect();
                let strict = tags.contains(&"strict");
                let stale = tags.iter().any(|t| matches!(*t, "P0" | "P1" | "P2" | "P3"));
                if !has_row {
                    problems.push(format!("{}: {}: no @Axx row tag", f.name, sc.name));
                }
                if severities.len() != 1 {
                    problems.push(format!(
                        "{}: {}: {} severity tags (want exactly one of @critical @high @medium @low)",
                        f.name,
                        sc.name,
                        severities.len()
                    ));
                }
                if strict && severities.first().is_some_and(|s| **s != "low") {
                    problems.push(format!("{}: {}: @strict must be @low", f.name, sc.name));
                }
                if stale {
                    problems.push(format!("{}: {}: stale @P0..@P3 tag", f.name, sc.name));
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// Prints the scenario count by feature (for the README); asserts every feature has some.
    #[test]
    fn scenario_count_by_feature() {
        let mut total = 0;
        for f in features() {
            let n = f.scenarios.len();
            assert!(n > 0, "{} has no scenario", f.name);
            println!("{:<45} {n}", f.name);
            total += n;
        }
        println!("total {total}");
    }
}
