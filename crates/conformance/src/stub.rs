//! A minimal stand-in implementation for the runner's own tests (`xauth-conformance
//! stub-target`, hidden): `GET /health` answers 200, every other request 401 `UNAUTHENTICATED`
//! in the Xentropy error envelope. It verifies nothing.

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

/// Serves on `127.0.0.1:port` until SIGTERM/SIGINT; returns the exit status.
pub async fn serve(port: u16) -> i32 {
    let app = Router::new()
        .route(
            "/health",
            get(|| async { (StatusCode::OK, "{\"status\":\"ok\"}") }),
        )
        .fallback(|| async {
            (
                StatusCode::UNAUTHORIZED,
                [
                    (header::WWW_AUTHENTICATE, "Bearer"),
                    (header::CONTENT_TYPE, "application/json"),
                ],
                "{\"error\":{\"code\":\"UNAUTHENTICATED\",\"message\":\"stub\"}}",
            )
                .into_response()
        });
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("stub-target: cannot listen on 127.0.0.1:{port}: {e}");
            return 2;
        }
    };
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("stub-target: {e}");
            1
        }
    }
}
