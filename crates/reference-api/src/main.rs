//! `xauth-reference`: see the library docs and `--help`.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use xauth_reference::{Args, Config, StartError};

fn main() -> ExitCode {
    let args = Args::parse(); // clap exits 2 on a usage error
    if args.list_defects {
        for d in xauth_reference::defects::registry() {
            let rows = format!("rows={}", d.rows.join(","));
            println!(
                "{:<28} {:<9} {:<28} {}",
                d.name, d.side, rows, d.description
            );
        }
        return ExitCode::SUCCESS;
    }
    let config = match Config::from_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("xauth-reference: error: {e}");
            return ExitCode::from(2);
        }
    };
    let pats = match args.pat.config(&args.defects) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("xauth-reference: error: {e}");
            return ExitCode::from(2);
        }
    };
    if pats.is_none()
        && let Some(d) = config.defects.pat().names().first()
    {
        eprintln!("xauth-reference: error: --defect {d} is a PAT defect: it needs --pats");
        return ExitCode::from(2);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("xauth-reference: error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(xauth_reference::serve_with_pats(
        config,
        pats,
        shutdown_signal(),
        |addr| {
            tracing::info!(%addr, "listening");
        },
    ));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ StartError::Config(_)) => {
            eprintln!("xauth-reference: error: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("xauth-reference: error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C: shutting down"),
        () = term => tracing::info!("SIGTERM: shutting down"),
    }
}
