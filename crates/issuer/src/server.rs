//! The HTTP server: routes, middleware, and a hyper accept loop with graceful shutdown and the
//! ability to drop one connection without a response (the JWKS `drop` fault).

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;
use tower_http::trace::TraceLayer;

/// Lives with the faults that use it; re-exported at its old path.
pub use crate::faults::ConnectionKill;
use crate::gotrue::errors::{ApiError, ApiVersion};
use crate::state::AppState;

/// How long shutdown waits for in-flight requests before closing connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Longest time a client may take to send request headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Every route: GoTrue under `/auth/v1`, the control API under `/_control/v1`, GoTrue's 404
/// elsewhere; request bodies limited to `max_body_bytes` (413 in GoTrue's envelope).
pub fn router(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .nest("/auth/v1", crate::gotrue::router())
        .merge(crate::oauth::metadata::root_router())
        .nest("/_control/v1", crate::control::router(state.clone()))
        .fallback(crate::gotrue::errors::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), limit_body))
        .layer(DefaultBodyLimit::max(limit))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// 413 `request_entity_too_large` for a declared body over the limit (GoTrue's
/// `limitRequestBody`); streamed bodies over it fail in the extractors, which also answer 413.
async fn limit_body(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > state.config.max_body_bytes as u64) {
        let version = ApiVersion::from_headers(request.headers());
        return ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "request_entity_too_large",
            "Request body too large",
        )
        .render(version);
    }
    next.run(request).await
}

/// Accepts connections until `shutdown` is cancelled, then lets in-flight requests finish (at
/// most [`SHUTDOWN_GRACE`]) and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    state: AppState,
    shutdown: CancellationToken,
) {
    let tracker = TaskTracker::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // EMFILE and friends: back off briefly instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let _ = stream.set_nodelay(true);
        tracker.spawn(serve_connection(
            stream,
            peer,
            app.clone(),
            state.clone(),
            shutdown.clone(),
        ));
    }
    drop(listener);
    tracker.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace period; closing them");
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    app: Router,
    state: AppState,
    shutdown: CancellationToken,
) {
    let kill = CancellationToken::new();
    let request_kill = ConnectionKill::new(kill.clone());
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        state.counters.request();
        request.extensions_mut().insert(request_kill.clone());
        app.clone().oneshot(request.map(Body::new))
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = kill.cancelled() => return,
        () = shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            tokio::select! {
                result = connection.as_mut() => result,
                () = kill.cancelled() => return,
                () = tokio::time::sleep(SHUTDOWN_GRACE) => return,
            }
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}
