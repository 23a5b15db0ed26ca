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
                "{:<31} {:<9} {:<28} {}",
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
    let result = runtime.block_on(async {
        // The SIGTERM handler is installed before the server listens: a SIGTERM right after
        // the "listening" line must drain, not kill.
        let shutdown = shutdown_signal();
        xauth_reference::serve_with_pats(config, pats, shutdown, |addr| {
            tracing::info!(%addr, "listening");
        })
        .await
    });
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

/// Completes on Ctrl-C or SIGTERM. The SIGTERM handler is registered when this is called (in
/// the runtime), not when the future is first polled.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        #[cfg(unix)]
        let term = async move {
            match term {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            () = ctrl_c => tracing::info!("Ctrl-C: shutting down"),
            () = term => tracing::info!("SIGTERM: shutting down"),
        }
    }
}
