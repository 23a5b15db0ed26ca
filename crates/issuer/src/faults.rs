//! Fault injection on the JWKS route and on the token endpoint: a status code, a delay, a
//! malformed body, a dropped connection or a redirect, for the next N requests or until cleared.
//!
//! Each [`FaultRoute`] has its own [`FaultSlot`]; [`Faults`] holds them all. The handlers call
//! [`respond`] before doing any work, so an armed fault looks like a broken or unreachable
//! server to the caller (the token endpoint's fault applies even before the `apikey` check).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use tokio_util::sync::CancellationToken;

/// Longest injectable delay.
pub const MAX_DELAY_MS: u64 = 120_000;
/// Largest `count`.
pub const MAX_COUNT: u64 = 1_000_000;
/// Longest redirect `location`.
pub const MAX_LOCATION_BYTES: usize = 2048;

/// A route that can be made to fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultRoute {
    /// `GET /auth/v1/.well-known/jwks.json`.
    Jwks,
    /// `POST /auth/v1/token` (every grant type).
    Token,
}

impl FaultRoute {
    /// Every route, in the order the control API lists them.
    pub const ALL: [FaultRoute; 2] = [FaultRoute::Jwks, FaultRoute::Token];

    /// The route's name in the control API (`/_control/v1/faults/{name}`).
    pub fn as_str(self) -> &'static str {
        match self {
            FaultRoute::Jwks => "jwks",
            FaultRoute::Token => "token",
        }
    }

    /// The route named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// The 200 body of a `malformed` fault: JSON cut off mid-member, shaped like the route's
    /// real answer.
    pub fn malformed_body(self) -> &'static str {
        match self {
            FaultRoute::Jwks => MALFORMED_JWKS_BODY,
            FaultRoute::Token => MALFORMED_TOKEN_BODY,
        }
    }
}

/// What a malformed-fault JWKS response carries.
pub const MALFORMED_JWKS_BODY: &str = r#"{"keys":[{"kty":"EC","kid":"#;
/// What a malformed-fault token response carries.
pub const MALFORMED_TOKEN_BODY: &str = r#"{"access_token":"eyJhbGciOiJFUzI1NiIs"#;

/// What a route does instead of answering normally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum FaultKind {
    /// Answer with this status (200..=599) and a small JSON error body.
    Status {
        /// The HTTP status code to answer with (200..=599).
        status: u16,
    },
    /// Wait this many milliseconds, then answer normally.
    Delay {
        /// How long to wait before answering, in milliseconds (at most [`MAX_DELAY_MS`]).
        ms: u64,
    },
    /// 200 with a truncated, unparseable JSON body.
    Malformed,
    /// Close the connection without any response.
    Drop,
    /// 302 to `location`.
    Redirect {
        /// The `Location` header value of the redirect (1..=[`MAX_LOCATION_BYTES`] bytes).
        location: String,
    },
}

/// A fault and how many requests it applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// What the route does instead of answering (flattened: `kind` plus its own fields).
    #[serde(flatten)]
    pub kind: FaultKind,
    /// Number of requests the fault applies to; absent: until cleared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

impl Fault {
    /// A fault applying until cleared.
    pub fn new(kind: FaultKind) -> Self {
        Self { kind, count: None }
    }

    /// A fault applying to the next `n` requests.
    pub fn times(kind: FaultKind, n: u64) -> Self {
        Self {
            kind,
            count: Some(n),
        }
    }

    /// Checks the bounds of every field.
    pub fn validate(&self) -> Result<(), String> {
        match &self.kind {
            FaultKind::Status { status } if !(200..=599).contains(status) => {
                return Err(format!("status must be within 200..=599, got {status}"));
            }
            FaultKind::Delay { ms } if *ms > MAX_DELAY_MS => {
                return Err(format!("ms must be at most {MAX_DELAY_MS}"));
            }
            FaultKind::Redirect { location } => {
                if location.is_empty() || location.len() > MAX_LOCATION_BYTES {
                    return Err(format!("location must be 1..={MAX_LOCATION_BYTES} bytes"));
                }
                if http::HeaderValue::from_str(location).is_err() {
                    return Err("location is not a valid header value".into());
                }
            }
            _ => {}
        }
        match self.count {
            Some(0) => Err("count must be at least 1 (omit it for until-cleared)".into()),
            Some(n) if n > MAX_COUNT => Err(format!("count must be at most {MAX_COUNT}")),
            _ => Ok(()),
        }
    }
}

/// The active fault of one route. Checking costs one atomic load while none is armed.
#[derive(Debug, Default)]
pub struct FaultSlot {
    armed: AtomicBool,
    active: Mutex<Option<Fault>>,
}

/// The fault slots of every [`FaultRoute`].
#[derive(Debug, Default)]
pub struct Faults {
    jwks: FaultSlot,
    token: FaultSlot,
}

impl Faults {
    /// The slot of `route`.
    pub fn route(&self, route: FaultRoute) -> &FaultSlot {
        match route {
            FaultRoute::Jwks => &self.jwks,
            FaultRoute::Token => &self.token,
        }
    }

    /// Clears the faults of every route.
    pub fn clear_all(&self) {
        for route in FaultRoute::ALL {
            self.route(route).clear();
        }
    }
}

impl FaultSlot {
    /// Arms `fault`, replacing any active one.
    pub fn inject(&self, fault: Fault) {
        let mut active = self.active.lock();
        *active = Some(fault);
        self.armed.store(true, Ordering::Release);
    }

    /// Clears the active fault.
    pub fn clear(&self) {
        let mut active = self.active.lock();
        *active = None;
        self.armed.store(false, Ordering::Release);
    }

    /// The active fault, if any, without consuming it.
    pub fn active(&self) -> Option<Fault> {
        self.active.lock().clone()
    }

    /// Takes one application of the active fault (decrementing its count).
    pub fn take(&self) -> Option<FaultKind> {
        if !self.armed.load(Ordering::Acquire) {
            return None;
        }
        let mut active = self.active.lock();
        let fault = active.as_mut()?;
        let kind = fault.kind.clone();
        match &mut fault.count {
            None => {}
            Some(n) if *n > 1 => *n -= 1,
            Some(_) => {
                *active = None;
                self.armed.store(false, Ordering::Release);
            }
        }
        Some(kind)
    }
}

/// Applies the armed fault of `route`, if any: `Some(response)` to send instead of the normal
/// answer, `None` to go on normally (no fault, or after a `delay`). A `drop` closes the
/// connection of `kill` (from [`ConnectionKill::of`] the request) without writing a response.
pub async fn respond(
    faults: &Faults,
    route: FaultRoute,
    kill: Option<ConnectionKill>,
) -> Option<Response> {
    match apply(faults, route, kill).await {
        Applied::Replaced(response) => Some(response),
        Applied::None | Applied::Delayed => None,
    }
}

/// What [`apply`] did to one request.
#[derive(Debug)]
pub enum Applied {
    /// No fault was armed: answer normally.
    None,
    /// A `delay` fault was applied: answer normally now, but the request was faulted.
    Delayed,
    /// Send this instead of the normal answer.
    Replaced(Response),
}

/// Like [`respond`], but says whether a fault was applied even when the normal answer follows
/// (a `delay`), so a handler can tell a clean answer from a faulted one.
pub async fn apply(faults: &Faults, route: FaultRoute, kill: Option<ConnectionKill>) -> Applied {
    match faults.route(route).take() {
        None => Applied::None,
        Some(kind) => match respond_with(kind, route, kill).await {
            Some(response) => Applied::Replaced(response),
            None => Applied::Delayed,
        },
    }
}

async fn respond_with(
    kind: FaultKind,
    route: FaultRoute,
    kill: Option<ConnectionKill>,
) -> Option<Response> {
    tracing::debug!(route = route.as_str(), ?kind, "applying an injected fault");
    match kind {
        FaultKind::Status { status } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = serde_json::json!({
                "code": status.as_u16(),
                "error_code": "injected_fault",
                "msg": format!("injected {} fault", route.as_str()),
            });
            Some(json_response(status, Bytes::from(body.to_string())))
        }
        FaultKind::Delay { ms } => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            None
        }
        FaultKind::Malformed => Some(json_response(
            StatusCode::OK,
            Bytes::from_static(route.malformed_body().as_bytes()),
        )),
        FaultKind::Drop => Some(drop_connection(kill).await),
        FaultKind::Redirect { location } => {
            let mut response = StatusCode::FOUND.into_response();
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            Some(response)
        }
    }
}

fn json_response(status: StatusCode, body: Bytes) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Request extension: lets a handler close its connection without answering (the `drop`
/// fault). [`crate::server::serve`] attaches one to every request.
#[derive(Clone, Debug)]
pub struct ConnectionKill(CancellationToken);

impl ConnectionKill {
    /// A handle that cancels `token` (the connection task's kill switch).
    pub(crate) fn new(token: CancellationToken) -> Self {
        Self(token)
    }

    /// The handle of the connection `request` arrived on (absent outside [`crate::server::serve`]).
    pub fn of<B>(request: &http::Request<B>) -> Option<Self> {
        request.extensions().get::<Self>().cloned()
    }

    /// Closes the connection this request arrived on; no response bytes are written.
    pub fn kill(&self) {
        self.0.cancel();
    }
}

/// Closes the connection without a response: the server's connection task is told to drop the
/// socket. Outside that server (no [`ConnectionKill`]), the body fails instead.
async fn drop_connection(kill: Option<ConnectionKill>) -> Response {
    if let Some(kill) = kill {
        kill.kill();
        std::future::pending::<()>().await;
    }
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("injected connection drop"))
    });
    Response::new(Body::from_stream(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_limited_faults_run_out() {
        let faults = FaultSlot::default();
        faults.inject(Fault::times(FaultKind::Malformed, 2));
        assert_eq!(faults.take(), Some(FaultKind::Malformed));
        assert_eq!(faults.take(), Some(FaultKind::Malformed));
        assert_eq!(faults.take(), None);
        faults.inject(Fault::new(FaultKind::Drop));
        for _ in 0..5 {
            assert_eq!(faults.take(), Some(FaultKind::Drop));
        }
        faults.clear();
        assert_eq!(faults.take(), None);
    }

    #[test]
    fn the_wire_form_parses_and_is_bounded() {
        let f: Fault = serde_json::from_str(r#"{"kind":"status","status":503,"count":3}"#).unwrap();
        assert_eq!(f, Fault::times(FaultKind::Status { status: 503 }, 3));
        assert!(f.validate().is_ok());
        let f: Fault = serde_json::from_str(r#"{"kind":"delay","ms":999999}"#).unwrap();
        assert!(f.validate().is_err());
        assert!(serde_json::from_str::<Fault>(r#"{"kind":"explode"}"#).is_err());
    }
}

#[cfg(test)]
mod route_tests {
    use super::*;

    #[test]
    fn routes_have_their_own_slots() {
        let faults = Faults::default();
        faults
            .route(FaultRoute::Token)
            .inject(Fault::new(FaultKind::Drop));
        assert_eq!(faults.route(FaultRoute::Jwks).take(), None);
        assert_eq!(
            faults.route(FaultRoute::Token).take(),
            Some(FaultKind::Drop)
        );
        faults
            .route(FaultRoute::Jwks)
            .inject(Fault::new(FaultKind::Malformed));
        faults.clear_all();
        assert_eq!(faults.route(FaultRoute::Jwks).take(), None);
        assert_eq!(faults.route(FaultRoute::Token).take(), None);
    }

    #[test]
    fn route_names_round_trip() {
        for route in FaultRoute::ALL {
            assert_eq!(FaultRoute::from_name(route.as_str()), Some(route));
        }
        assert_eq!(FaultRoute::from_name("user"), None);
        assert_eq!(FaultRoute::from_name("JWKS"), None);
    }
}
