//! The HTTP server: hyper HTTP/1.1 with bounded heads, connection cap, peer-address injection
//! and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinHandle;
use tower::ServiceExt;

use crate::config::{Config, ConfigError, Limits};
use crate::pat::{PatConfig, PatService, PatStartError};
use crate::routes::router;
use crate::state::AppState;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Invalid configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The port could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The personal-access-token database or client could not be set up.
    #[error("personal access tokens: {0}")]
    Pat(#[from] PatStartError),
}

/// A running server (see [`spawn`]). Dropping it does not stop the server; call
/// [`ServerHandle::shutdown`].
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl ServerHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets open requests finish (bounded by the grace period) and waits.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Builds the app, binds `config.bind:config.port` and serves in a background task.
///
/// ```no_run
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// let server = xauth_reference::spawn(xauth_reference::Config::new("http://127.0.0.1:54321")?).await?;
/// println!("listening on {}", server.url());
/// server.shutdown().await;
/// # Ok(()) }
/// ```
pub async fn spawn(config: Config) -> Result<ServerHandle, StartError> {
    spawn_with(config, None).await
}

/// [`spawn`] with personal access tokens: opens the database (migrating it) first.
pub async fn spawn_with_pats(
    config: Config,
    pats: Option<PatConfig>,
) -> Result<ServerHandle, StartError> {
    let pats = open_pats(&config, pats).await?;
    spawn_with(config, pats).await
}

/// [`spawn`] with an already opened [`PatService`] (tests keep a handle on it, e.g. to count
/// database queries, and two servers may share one).
pub async fn spawn_with(
    config: Config,
    pats: Option<Arc<PatService>>,
) -> Result<ServerHandle, StartError> {
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let (listener, app, limits) = prepare(&config, pats).await?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: SocketAddr::new(config.bind, config.port),
        source,
    })?;
    let task = tokio::spawn(run(listener, app, limits, async move {
        let _ = stop_rx.await;
    }));
    Ok(ServerHandle {
        addr,
        stop: Some(stop_tx),
        task,
    })
}

/// Builds the app, binds and serves until `shutdown` completes, then drains gracefully.
/// `on_listen` is called with the bound address once the server accepts connections.
pub async fn serve(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_listen: impl FnOnce(SocketAddr),
) -> Result<(), StartError> {
    serve_with_pats(config, None, shutdown, on_listen).await
}

/// [`serve`] with personal access tokens when `pats` is `Some` (the binary passes
/// `PatArgs::config`'s result).
pub async fn serve_with_pats(
    config: Config,
    pats: Option<PatConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_listen: impl FnOnce(SocketAddr),
) -> Result<(), StartError> {
    let pats = open_pats(&config, pats).await?;
    let (listener, app, limits) = prepare(&config, pats).await?;
    if let Ok(addr) = listener.local_addr() {
        on_listen(addr);
    }
    run(listener, app, limits, shutdown).await;
    Ok(())
}

async fn open_pats(
    config: &Config,
    pats: Option<PatConfig>,
) -> Result<Option<Arc<PatService>>, StartError> {
    match pats {
        Some(pat) => Ok(Some(PatService::open(&config.supabase_url, pat).await?)),
        None => Ok(None),
    }
}

async fn prepare(
    config: &Config,
    pats: Option<Arc<PatService>>,
) -> Result<(TcpListener, Router, Limits), StartError> {
    if let Some(p) = &pats
        && !p.defects().is_empty()
    {
        tracing::warn!(
            defects = ?p.defects().names(),
            "SEEDED PAT DEFECTS ARE ON: this server is deliberately insecure; never expose it"
        );
    }
    if !config.defects.is_empty() {
        tracing::warn!(
            defects = ?config.defects.names(),
            "SEEDED DEFECTS ARE ON: this server is deliberately insecure; never expose it"
        );
    }
    let addr = SocketAddr::new(config.bind, config.port);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    // The MCP resource identifier defaults to the bound address (known only now).
    let mut config = config.clone();
    if let (Some(mcp), Ok(bound)) = (config.mcp.as_mut(), listener.local_addr())
        && mcp.resource.is_none()
    {
        mcp.resource = Some(mcp.resource_for(bound));
    }
    let state = AppState::with_pats(&config, pats)?;
    let app = router(state, config.limits.handler_timeout());
    Ok((listener, app, config.limits.clone()))
}

async fn run(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192))
        .max_headers(limits.max_headers)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    tokio::pin!(shutdown);

    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // EMFILE and friends: back off briefly instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    tracing::info!("shutting down: draining open connections");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!("grace period over; closing remaining connections");
        }
    }
}
