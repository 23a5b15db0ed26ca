//! `xauth-conformance`: see `xauth-conformance run --help`.

use clap::Parser as _;
use xauth_conformance::cli::{Cli, Command};
use xauth_conformance::properties::{PropertiesConfig, PropertiesPhase};
use xauth_conformance::run;

/// The World whose steps run the scenarios.
type SuiteWorld = xauth_conformance::scenario::world::XauthWorld;

fn main() {
    let cli = Cli::parse();
    // The in-process issuer's HTTP trace would log every fault the suite injects on purpose
    // (JWKS 500s...) as an error; those are the suite's doing, not the user's problem.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,tower_http=off")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("xauth-conformance: error: cannot start the async runtime: {e}");
            std::process::exit(run::EXIT_SETUP);
        }
    };
    let code = match cli.command {
        Command::Run(args) => {
            let mut post: Vec<Box<dyn run::PostPhase>> = Vec::new();
            if !args.no_properties {
                post.push(Box::new(PropertiesPhase::new(PropertiesConfig {
                    cases: args.properties_cases,
                    seed: args.properties_seed,
                    quiet: args.quiet,
                    tags: args.tags.clone(),
                    strict: args.strict,
                    ..PropertiesConfig::default()
                })));
            }
            rt.block_on(run::run::<SuiteWorld>(&args, &post))
        }
        Command::Gate(args) => rt.block_on(xauth_conformance::gate::gate(&args)),
        Command::List(args) => rt.block_on(run::list(&args)),
        Command::StubTarget { port } => rt.block_on(xauth_conformance::stub::serve(port)),
    };
    // Bounded: a blocking task left behind must not keep the process alive.
    rt.shutdown_timeout(std::time::Duration::from_secs(2));
    std::process::exit(code);
}
