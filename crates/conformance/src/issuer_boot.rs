//! The fake issuer for a run: started in-process on `--issuer-addr`, or attached to with
//! `--issuer URL --control-key KEY` (its keys read from `GET /_control/v1/info`).
//!
//! The in-process issuer's address ([`crate::cli::RunArgs::issuer_addr`]) is an ephemeral port
//! with `--spawn` (the implementation learns it from `SUPABASE_URL`, and a running
//! `supabase start` or mock on 54321 does not get in the way), and 127.0.0.1:54321 with
//! `--target` (where a hand-started implementation expects Supabase). A taken port is its own
//! error ([`IssuerError::PortTaken`]) naming `--issuer-addr` as the fix.

use std::net::SocketAddr;
use std::time::Duration;

use crate::context::IssuerEndpoint;
use crate::net::control::{ControlError, IssuerClient};

/// Why the issuer could not be started or reached.
#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
    /// The in-process issuer's address is in use.
    #[error(
        "cannot start the fake issuer on {addr}: the address is already in use (a running \
         `supabase start`, `cargo xtask mock` or another run?); pick a free one with \
         --issuer-addr ADDR (127.0.0.1:0 for any free port; with --target, start your \
         implementation with SUPABASE_URL pointing at that address)"
    )]
    PortTaken {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// The in-process issuer could not start for another reason.
    #[error("cannot start the fake issuer on {addr}: {cause}")]
    Start {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        cause: String,
    },
    /// A running issuer could not be reached or refused the control key.
    #[error("cannot use the issuer at {url}: {cause}")]
    Attach {
        /// The control info URL.
        url: String,
        /// Why.
        cause: String,
    },
}

/// The issuer of a run; shut down on [`RunningIssuer::shutdown`] or drop.
pub struct RunningIssuer {
    endpoint: IssuerEndpoint,
    handle: Option<xauth_issuer::IssuerHandle>,
}

impl RunningIssuer {
    /// How scenarios reach it.
    pub fn endpoint(&self) -> &IssuerEndpoint {
        &self.endpoint
    }

    /// Whether it runs inside this process.
    pub fn in_process(&self) -> bool {
        self.handle.is_some()
    }

    /// Stops an in-process issuer (an attached one is left running).
    pub async fn shutdown(mut self) {
        if let Some(h) = self.handle.take() {
            h.shutdown().await;
        }
    }
}

/// Starts the issuer in this process, listening on `addr` (port 0 = ephemeral), sending
/// `Cache-Control: public, max-age=<jwks_max_age>` with its JWKS.
pub async fn start_in_process(
    addr: SocketAddr,
    jwks_max_age: u64,
) -> Result<RunningIssuer, IssuerError> {
    let start_err = |cause: String| IssuerError::Start { addr, cause };
    let handle = xauth_issuer::Issuer::builder()
        .listen(addr)
        .jwks_max_age(jwks_max_age)
        .spawn()
        .await
        .map_err(|e| match e {
            xauth_issuer::IssuerError::Bind { source, .. }
                if source.kind() == std::io::ErrorKind::AddrInUse =>
            {
                IssuerError::PortTaken { addr }
            }
            other => start_err(other.to_string()),
        })?;
    let info = handle.info();
    let base_url: url::Url = info
        .api_url
        .parse()
        .map_err(|e: url::ParseError| start_err(format!("{}: {e}", info.api_url)))?;
    let endpoint = IssuerEndpoint {
        base_url,
        control_key: info.service_role_key.clone(),
        anon_key: info.anon_key,
        service_role_key: info.service_role_key,
        jwt_secret: Some(info.jwt_secret).filter(|s| !s.is_empty()),
    };
    Ok(RunningIssuer {
        endpoint,
        handle: Some(handle),
    })
}

/// Attaches to a running issuer: reads `GET <base>/_control/v1/info` with the control key
/// (through the suite's one control client, [`IssuerClient::info`]).
pub async fn attach(
    base_url: &url::Url,
    control_key: &str,
    timeout: Duration,
) -> Result<RunningIssuer, IssuerError> {
    let base = supabase_base(base_url);
    let fail = |cause: String| IssuerError::Attach {
        url: format!("{}/_control/v1/info", base.as_str().trim_end_matches('/')),
        cause,
    };
    let client = IssuerClient::new(&base, control_key, timeout).map_err(|e| fail(e.to_string()))?;
    let info = client.info().await.map_err(|e| {
        fail(match e {
            ControlError::Status { status: 401, .. } => {
                "answered 401 Unauthorized (wrong --control-key?)".to_owned()
            }
            ControlError::Status { status, .. } => format!("answered {status}"),
            ControlError::Transport { source, .. } => crate::spawn::describe_reqwest(&source),
            ControlError::Body { detail, .. } => format!("unexpected info body: {detail}"),
        })
    })?;
    Ok(RunningIssuer {
        endpoint: IssuerEndpoint {
            base_url: base,
            control_key: control_key.to_owned(),
            anon_key: info.anon_key,
            service_role_key: info.service_role_key,
            jwt_secret: info.jwt_secret.filter(|s| !s.is_empty()),
        },
        handle: None,
    })
}

/// The Supabase URL without a trailing `/auth/v1` or `/` (both are accepted on the command
/// line).
fn supabase_base(url: &url::Url) -> url::Url {
    let mut base = url.clone();
    let trimmed = url
        .path()
        .trim_end_matches('/')
        .trim_end_matches("/auth/v1")
        .trim_end_matches('/')
        .to_owned();
    base.set_path(&trimmed);
    base
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_taken_port_names_issuer_addr_as_the_fix() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let err = match start_in_process(addr, 600).await {
            Ok(_) => panic!("the issuer started on a taken port"),
            Err(e) => e,
        };
        assert!(matches!(err, IssuerError::PortTaken { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains(&addr.to_string()), "{text}");
        assert!(text.contains("--issuer-addr"), "{text}");
    }

    #[test]
    fn the_supabase_url_is_accepted_with_or_without_auth_v1() {
        for given in [
            "http://127.0.0.1:9/",
            "http://127.0.0.1:9",
            "http://127.0.0.1:9/auth/v1",
            "http://127.0.0.1:9/auth/v1/",
        ] {
            let base = supabase_base(&given.parse().unwrap());
            assert_eq!(base.as_str(), "http://127.0.0.1:9/", "{given}");
        }
        let base = supabase_base(&"http://h:1/project/auth/v1".parse().unwrap());
        assert_eq!(base.as_str(), "http://h:1/project");
    }
}
