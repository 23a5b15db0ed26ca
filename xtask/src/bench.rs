//! `cargo xtask bench <issuer|verifier|reference|pat|all>`: one benchmark (or all), release build.

use std::ffi::OsString;

use crate::process::{Failure, Outcome, cargo, run};

/// The (package, bench target) pairs a benchmark name stands for.
pub fn bench_targets(which: &str) -> Result<&'static [(&'static str, &'static str)], Failure> {
    Ok(match which {
        "issuer" => &[("xauth-issuer", "server")],
        "verifier" => &[("xauth-verifier", "verify")],
        "reference" => &[("xauth-reference", "load")],
        "pat" => &[("xauth-reference", "pat")],
        "all" => &[
            ("xauth-verifier", "verify"),
            ("xauth-issuer", "server"),
            ("xauth-reference", "load"),
            ("xauth-reference", "pat"),
        ],
        other => {
            return Err(Failure::setup(format!(
                "unknown benchmark {other:?}: issuer, verifier, reference, pat, all"
            )));
        }
    })
}

/// Runs the named benchmark; the remaining args go to `cargo bench`.
pub fn bench(args: &[OsString]) -> Outcome {
    let which = args.first().and_then(|a| a.to_str()).unwrap_or("all");
    for (package, bench) in bench_targets(which)? {
        let mut cmd = cargo();
        cmd.args(["bench", "-p", package, "--bench", bench]);
        cmd.args(args.iter().skip(1));
        run(cmd)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn benchmark_names() {
        assert_eq!(bench_targets("issuer").ok().unwrap().len(), 1);
        assert_eq!(
            bench_targets("pat").ok().unwrap(),
            &[("xauth-reference", "pat")]
        );
        assert_eq!(bench_targets("all").ok().unwrap().len(), 4);
        let e = bench_targets("nope").err().unwrap();
        assert_eq!(e.code, 2);
        assert!(e.message.contains("nope"));
    }
}
