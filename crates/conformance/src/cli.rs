//! The command line of `xauth-conformance`.

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::duration::parse_duration;
use crate::severity::Severity;

/// Conformance suite for the Xentropy auth contract: proves that an HTTP API authenticates
/// Supabase-issued JWTs correctly.
///
/// Exit status: 0 nothing failed the run (every scenario passed, failed as expected or failed
/// below --fail-on), 1 a scenario failed, 2 usage or setup error (reported in one line before
/// any scenario runs), 130 interrupted.
#[derive(Debug, Parser)]
#[command(name = "xauth-conformance", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the scenarios against an implementation.
    Run(Box<RunArgs>),
    /// List the scenarios by feature (what `run` would run with the same selection), without
    /// running anything.
    List(ListArgs),
    /// The mutation gate: run the whole suite against xauth-reference clean and once per
    /// seeded defect, and print which scenarios catch each defect. A defect is caught only by a
    /// failing scenario tagged with a catalogue row it declares (`xauth-reference
    /// --list-defects`, `rows=`); other failures are listed as not counted. Exit 0 when the
    /// clean run passes and every defect is caught, 1 otherwise, 2 on a setup error.
    Gate(Box<GateArgs>),
    /// A minimal stand-in implementation (200 on the readiness path, 401 elsewhere) used by the
    /// runner's own tests; listens on 127.0.0.1:$PORT.
    #[command(hide = true)]
    StubTarget {
        /// Port to listen on (default: env PORT).
        #[arg(long, env = "PORT")]
        port: u16,
    },
}

/// `xauth-conformance list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Target profile (TOML) whose requirements decide what is skipped.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Only scenarios whose tags match this expression.
    #[arg(long, value_name = "EXPR")]
    pub tags: Option<String>,
    /// Directory of .feature files (default as for `run`).
    #[arg(long, value_name = "DIR")]
    pub features: Option<PathBuf>,
    /// Count @slow scenarios as run, not skipped.
    #[arg(long)]
    pub slow: bool,
    /// Count @strict scenarios as run, not skipped.
    #[arg(long)]
    pub strict: bool,
    /// Print every scenario, not only the counts.
    #[arg(long)]
    pub scenarios: bool,
}

/// `xauth-conformance run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Base URL of an already-running implementation, e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL", conflicts_with = "spawn")]
    pub target: Option<url::Url>,

    /// Start the implementation with this command (split like a shell would, run without a
    /// shell) with SUPABASE_URL, SUPABASE_JWT_SECRET (when the profile enables legacy HS256),
    /// SUPABASE_SERVICE_ROLE_KEY (when the profile enables PATs) and PORT in its environment;
    /// it must listen on 127.0.0.1:$PORT. Always stopped at the end.
    #[arg(long, value_name = "CMD")]
    pub spawn: Option<String>,

    /// Another base URL of the same implementation behind the same state (database, shared
    /// limiter), e.g. a second instance behind a load balancer; repeatable, with --target. The
    /// scenarios that change state on the target (PAT revocation and rotation, rate limits the
    /// profile declares shared) check that every replica sees the change.
    #[arg(long = "replica", value_name = "URL", requires = "target")]
    pub replicas: Vec<url::Url>,

    /// Where the canary upstream listens when the profile has an MCP endpoint (`[mcp]`): the
    /// upstream tool must call it (MCP_UPSTREAM_URL, which --spawn passes; with --target,
    /// start your server with MCP_UPSTREAM_URL=http://ADDR/upstream). Default: an ephemeral
    /// port on 127.0.0.1.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub canary_addr: SocketAddr,

    /// Start N copies of the --spawn command (each with its own PORT, the same other
    /// environment; the first is the target, the others its replicas, see --replica).
    #[arg(long, value_name = "N", requires = "spawn", value_parser = clap::value_parser!(u16).range(1..=8))]
    pub spawn_replicas: Option<u16>,

    /// Target profile (TOML). Default: the built-in default profile, equal to
    /// fixtures/profiles/xentropy.toml (what xauth-reference does with no flags).
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,

    /// Address for the in-process fake issuer. Default: with --spawn an ephemeral port on
    /// 127.0.0.1 (the implementation learns it from SUPABASE_URL); with --target
    /// 127.0.0.1:54321, where `supabase start` serves (give another address when that port is
    /// taken, and point your implementation's SUPABASE_URL at it).
    #[arg(long, value_name = "ADDR", conflicts_with = "issuer")]
    pub issuer_addr: Option<SocketAddr>,

    /// `Cache-Control: max-age` the in-process issuer sends with its JWKS, in seconds (GoTrue
    /// sends 600). An implementation whose JWKS cache follows max-age then refetches within
    /// this; declare the matching jwks.cache_ttl_max_seconds in the profile.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 600,
        value_parser = clap::value_parser!(u64).range(0..=86_400),
        conflicts_with = "issuer"
    )]
    pub issuer_jwks_max_age: u64,

    /// Use an already-running issuer at this base URL instead of starting one (needs
    /// --control-key).
    #[arg(long, value_name = "URL", requires = "control_key")]
    pub issuer: Option<url::Url>,

    /// The running issuer's control key (its service_role key).
    #[arg(
        long,
        value_name = "KEY",
        env = "XAUTH_CONTROL_KEY",
        hide_env_values = true
    )]
    pub control_key: Option<String>,

    /// Run only scenarios whose tags match this expression, e.g. '@algorithms and not @slow'
    /// (and, or, not, parentheses).
    #[arg(long, value_name = "EXPR")]
    pub tags: Option<String>,

    /// Directory of .feature files. Default: the repository's features/ directory when it
    /// exists, else the feature files embedded in this binary.
    #[arg(long, value_name = "DIR")]
    pub features: Option<PathBuf>,

    /// Write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Write the JSON report (shape: `xauth-conformance/report/v1`) here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Write a SARIF 2.1.0 report here (for code scanning, e.g. GitHub's upload-sarif): one
    /// rule per attack-catalogue row, one result per failing scenario.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,

    /// Write a self-contained HTML report here (inline CSS, no external assets).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// The lowest severity whose failures fail the run (exit 1). Failures of less severe
    /// scenarios are reported but do not fail it. Suite errors always fail it. Default:
    /// medium, or low with --strict.
    #[arg(long, value_name = "SEVERITY", value_enum)]
    pub fail_on: Option<Severity>,

    /// Scenarios known to fail, one per line ('Scenario name' or 'feature :: Scenario name';
    /// '#' starts a comment). Their failures do not fail the run.
    #[arg(long, value_name = "FILE")]
    pub expect_fail: Option<PathBuf>,

    /// Fail the run (exit 1) when a scenario listed in --expect-fail passes or an entry matches
    /// no scenario (default: report them as warnings).
    #[arg(long)]
    pub strict_expect_fail: bool,

    /// Directory for the implementation's log (default: a fresh temporary directory).
    #[arg(long, value_name = "DIR")]
    pub log_dir: Option<PathBuf>,

    /// Bound on one HTTP request made by a scenario.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub request_timeout: Duration,

    /// Bound on one scenario.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub scenario_timeout: Duration,

    /// How long --spawn waits for the readiness path to answer 2xx.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub ready_timeout: Duration,

    /// How long a stopped implementation gets between SIGTERM and SIGKILL.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub stop_grace: Duration,

    /// Scenarios run at the same time (scenarios tagged @serial always run alone).
    #[arg(long, value_name = "N", default_value = "16")]
    pub concurrency: NonZeroUsize,

    /// Print only the closing line (and setup errors): for scripts that run the suite many
    /// times and read --json, such as the mutation gate.
    #[arg(long)]
    pub quiet: bool,

    /// Also run scenarios tagged @slow (skipped by default, with a note).
    #[arg(long)]
    pub slow: bool,

    /// Also run scenarios tagged @strict: readings stricter than the contract fixes (where it
    /// leaves latitude, e.g. typ policy, future iat, high-S ECDSA). Skipped by default, so a
    /// correct but lenient implementation passes; a hardened one can opt in.
    #[arg(long)]
    pub strict: bool,

    /// Cases per property (the mutation and differential properties run after the scenarios;
    /// each case is about one request, plus up to 256 while shrinking a failure).
    #[arg(long, value_name = "N", default_value = "64", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub properties_cases: u32,

    /// Seed of the properties (default: a random one, printed, and named in every failure).
    #[arg(long, value_name = "SEED")]
    pub properties_seed: Option<u64>,

    /// Do not run the properties.
    #[arg(long)]
    pub no_properties: bool,
}

/// `xauth-conformance gate`.
#[derive(Debug, Clone, Args)]
pub struct GateArgs {
    /// The `xauth-reference` binary (built with its seeded defects).
    #[arg(long, value_name = "PATH")]
    pub reference: PathBuf,

    /// Extra flags for every reference run, split like a shell would, e.g.
    /// '--jwks-ttl-max 2 --rate-window 2' (they must agree with --profile).
    #[arg(
        long,
        value_name = "ARGS",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub reference_args: String,

    /// Target profile for every run (default: the built-in default profile).
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,

    /// Directory of .feature files (default as for `run`).
    #[arg(long, value_name = "DIR")]
    pub features: Option<PathBuf>,

    /// Only these defects (repeatable; default: every defect the reference lists).
    #[arg(long = "defect", value_name = "NAME")]
    pub defects: Vec<String>,

    /// Runs at the same time. Most of a run's stateful scenarios wait (cache TTLs, windows,
    /// slow JWKS answers) rather than compute, so more runs than cores keep the CPU busy
    /// (measured on 2 shared cores: 4 at a time 609 s, 8 at a time 414 s).
    #[arg(long, value_name = "N", default_value = "8", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub jobs: u32,

    /// Cases per property in each run (kept small: the gate runs the suite many times).
    #[arg(long, value_name = "N", default_value = "24", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub properties_cases: u32,

    /// Seed of the properties in every run (default: one random seed for the whole gate, printed).
    #[arg(long, value_name = "SEED")]
    pub properties_seed: Option<u64>,

    /// Bound on one run (the run is stopped, and counts as a setup error, after this).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub run_timeout: Duration,

    /// Directory for the runs' JSON reports and implementation logs (default: a fresh
    /// temporary directory, kept and printed).
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,

    /// Extra arguments for every `run` (repeatable), e.g. --run-arg=--slow or
    /// --run-arg=--tags --run-arg='@claims'.
    #[arg(long = "run-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub run_args: Vec<String>,

    /// Run the whole suite against every defect, not only the scenarios tagged with its
    /// declared rows (only those can count as a catch, so the default skips the rest; with
    /// this flag the table also lists failures outside the declared rows, not counted).
    #[arg(long)]
    pub whole_suite: bool,
}

impl RunArgs {
    /// The effective `--fail-on`: as given, else `low` with `--strict`, else `medium`.
    pub fn fail_on(&self) -> Severity {
        self.fail_on.unwrap_or(if self.strict {
            Severity::Low
        } else {
            Severity::Medium
        })
    }

    /// The in-process issuer's address: `--issuer-addr`, else an ephemeral port with
    /// `--spawn`, else [`SUPABASE_LOCAL_ADDR`].
    pub fn issuer_addr(&self) -> SocketAddr {
        match (self.issuer_addr, &self.spawn) {
            (Some(a), _) => a,
            (None, Some(_)) => SocketAddr::from(([127, 0, 0, 1], 0)),
            (None, None) => SUPABASE_LOCAL_ADDR,
        }
    }
}

/// Where `supabase start` serves its API, and so where an implementation started by hand
/// (`--target`) usually expects the issuer.
pub const SUPABASE_LOCAL_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 54321);

#[cfg(test)]
mod tests {
    use super::*;

    fn run_args(args: &[&str]) -> RunArgs {
        let mut argv = vec!["xauth-conformance", "run"];
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv) {
            Ok(Cli {
                command: Command::Run(a),
            }) => *a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn fail_on_defaults_to_medium_and_to_low_with_strict() {
        assert_eq!(run_args(&[]).fail_on(), Severity::Medium);
        assert_eq!(run_args(&["--strict"]).fail_on(), Severity::Low);
        assert_eq!(
            run_args(&["--strict", "--fail-on", "high"]).fail_on(),
            Severity::High
        );
        assert_eq!(
            run_args(&["--fail-on", "critical"]).fail_on(),
            Severity::Critical
        );
        assert!(Cli::try_parse_from(["x", "run", "--fail-on", "P0"]).is_err());
    }

    #[test]
    fn the_issuer_port_is_ephemeral_with_spawn_and_54321_with_target() {
        assert_eq!(run_args(&["--spawn", "x"]).issuer_addr().port(), 0);
        assert_eq!(
            run_args(&["--target", "http://127.0.0.1:1"]).issuer_addr(),
            SUPABASE_LOCAL_ADDR
        );
        assert_eq!(
            run_args(&["--spawn", "x", "--issuer-addr", "127.0.0.1:5"])
                .issuer_addr()
                .port(),
            5
        );
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
