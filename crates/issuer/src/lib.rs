//! `xauth-issuer`: a fake Supabase auth (GoTrue) server for tests and local development.
//! (Just over 500 lines: this documentation alone is 60 of them, and the builder's setters.)
//!
//! It serves GoTrue's HTTP contract under `/auth/v1` (password and refresh grants, signup, user,
//! logout, settings, health, admin users, JWKS, OpenID configuration, and Supabase Auth's OAuth
//! 2.1 server in [`oauth`]) with an ES256 signing key,
//! an RS256 standby key and the Supabase CLI's legacy HS256 secret, and adds a control API under
//! `/_control/v1` for what GoTrue lacks in tests: key rotation, JWKS fault injection, extra
//! (deliberately unusable) JWK entries, counters, a clock offset and minting arbitrary tokens. The same operations exist on [`IssuerHandle`].
//!
//! Start-up and readiness: the issuer is ready (`GET /auth/v1/health` 200) as soon as it
//! listens, in a few milliseconds. The ES256 current key is made synchronously from an
//! OS-random scalar; the RS256 standby key (RSA-2048 generation takes ~100 ms) is generated on
//! a background thread, and the JWKS route and every key operation wait for it, so the JWKS
//! never shows a partial key set. That thread also absorbs aws-lc's one-time ~60 ms DRBG seeding.
//! With a state directory, keys are loaded instead and nothing waits.
//!
//! Hot paths take no lock that a writer can hold for long: the key set is an immutable snapshot
//! (with the JWKS body pre-serialized) swapped on change, counters are relaxed atomics, and an
//! unarmed fault check is one atomic load.
//!
//! Start one on an ephemeral port, rotate its keys and mint a token:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use xauth_issuer::{Issuer, MintRequest};
//!
//! let issuer = Issuer::builder().port(0).user("alice@example.com", "password123").spawn().await?;
//! let info = issuer.info();
//! assert_eq!(info.jwks_url, format!("{}/auth/v1/.well-known/jwks.json", issuer.base_url()));
//!
//! let before = issuer.keys().await;
//! let new_current = issuer.rotate(None).await?; // the standby RS256 key starts signing
//! assert_eq!(new_current.alg, xauth_issuer::keys::KeyAlg::Rs256);
//! assert_eq!(before.len(), issuer.keys().await.len());
//!
//! let minted = issuer.mint(&MintRequest { ttl: Some(-10), ..Default::default() })?;
//! assert_eq!(minted.header["kid"], new_current.kid.as_str());
//! issuer.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Inject a JWKS fault for the next two fetches:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use xauth_issuer::Issuer;
//! use xauth_issuer::faults::{Fault, FaultKind, FaultRoute};
//!
//! let issuer = Issuer::builder().port(0).jwks_max_age(1).spawn().await?;
//! issuer.inject_jwks_fault(Fault::times(FaultKind::Status { status: 503 }, 2))?;
//! assert_eq!(issuer.counters().jwks_fetches, 0);
//! issuer.clear_jwks_faults();
//! // The token endpoint can fail too (every grant): here, as if the auth server were down.
//! issuer.inject_fault(FaultRoute::Token, Fault::new(FaultKind::Drop))?;
//! issuer.clear_faults();
//! # Ok(()) }
//! ```

pub mod clock;
pub mod config;
pub mod control;
pub mod counters;
pub mod faults;
pub mod gotrue;
pub mod jwks;
pub mod keys;
pub mod mint;
pub mod oauth;
pub mod server;
pub mod state;
pub mod state_dir;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use config::{IssuerConfig, IssuerInfo};
pub use control::ClockInfo;
pub use counters::CountersSnapshot;
pub use faults::{Fault, FaultKind, FaultRoute};
pub use keys::{KeyAlg, KeyError, KeyInfo, KeyState};
pub use mint::{MintError, MintRequest, Minted, Template};

use crate::clock::Clock;
use crate::counters::Counters;
use crate::faults::Faults;
use crate::gotrue::AuthStore;
use crate::keys::{KeyStore, Opened};
use crate::state::AppState;

/// The Supabase CLI's API port.
pub const DEFAULT_PORT: u16 = 54321;
/// GoTrue's default access-token lifetime.
pub const DEFAULT_ACCESS_TOKEN_TTL: i64 = 3600;
/// Supabase's default refresh-token reuse interval.
pub const DEFAULT_REFRESH_REUSE_INTERVAL: i64 = 10;
/// GoTrue's JWKS `Cache-Control` max-age.
pub const DEFAULT_JWKS_MAX_AGE: u64 = 600;
/// GoTrue's request body limit.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// Why the issuer could not start.
#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
    /// The listen address could not be bound or set up (in use, not permitted, ...).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address the issuer tried to listen on.
        addr: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A builder setting, extra JWK set or fault is out of bounds; the message says which.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Keys or users could not be set up: the state directory could not be created, its
    /// `keys.json` or users could not be read or written, or key generation failed.
    #[error("state directory: {0}")]
    StateDir(String),
    /// A user given to [`IssuerBuilder::user`] could not be seeded.
    #[error("seeding user: {0}")]
    Seed(#[from] gotrue::SeedError),
}

/// Entry point: [`Issuer::builder`].
#[derive(Debug)]
pub struct Issuer;

impl Issuer {
    /// A builder with the defaults of `supabase start` (127.0.0.1:54321, TTL 3600 s, reuse
    /// interval 10 s, JWKS max-age 600 s, `apikey` required, the CLI's JWT secret).
    pub fn builder() -> IssuerBuilder {
        IssuerBuilder::default()
    }
}

/// Configures and starts an issuer.
#[derive(Debug, Clone)]
pub struct IssuerBuilder {
    listen: SocketAddr,
    public_url: Option<String>,
    access_token_ttl: i64,
    refresh_reuse_interval: i64,
    jwks_max_age: u64,
    require_apikey: bool,
    jwt_secret: Option<String>,
    state_dir: Option<PathBuf>,
    users: Vec<(String, String)>,
    max_body_bytes: usize,
    oauth_consent_url: String,
}

impl Default for IssuerBuilder {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT)),
            public_url: None,
            access_token_ttl: DEFAULT_ACCESS_TOKEN_TTL,
            refresh_reuse_interval: DEFAULT_REFRESH_REUSE_INTERVAL,
            jwks_max_age: DEFAULT_JWKS_MAX_AGE,
            require_apikey: true,
            jwt_secret: None,
            state_dir: None,
            users: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            oauth_consent_url: config::DEFAULT_OAUTH_CONSENT_URL.to_owned(),
        }
    }
}

impl IssuerBuilder {
    /// The address to listen on (default `127.0.0.1:54321`).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Listen on `127.0.0.1:port`; `0` picks a free port.
    pub fn port(mut self, port: u16) -> Self {
        self.listen = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        self
    }

    /// The base URL clients use (default: `http://<bound address>`).
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into());
        self
    }

    /// Access-token lifetime in seconds.
    pub fn access_token_ttl(mut self, seconds: i64) -> Self {
        self.access_token_ttl = seconds;
        self
    }

    /// Refresh-token reuse interval in seconds.
    pub fn refresh_reuse_interval(mut self, seconds: i64) -> Self {
        self.refresh_reuse_interval = seconds;
        self
    }

    /// `Cache-Control: public, max-age=<seconds>` on the JWKS.
    pub fn jwks_max_age(mut self, seconds: u64) -> Self {
        self.jwks_max_age = seconds;
        self
    }

    /// Require the `apikey` header on GoTrue routes like Supabase's gateway (default true).
    pub fn require_apikey(mut self, yes: bool) -> Self {
        self.require_apikey = yes;
        self
    }

    /// The legacy HS256 secret (at least 32 bytes); default: the persisted one, else the CLI's.
    pub fn jwt_secret(mut self, secret: impl Into<String>) -> Self {
        self.jwt_secret = Some(secret.into());
        self
    }

    /// Keep keys and users in `dir` across restarts.
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }

    /// Seeds a confirmed email user (repeatable).
    pub fn user(mut self, email: impl Into<String>, password: impl Into<String>) -> Self {
        self.users.push((email.into(), password.into()));
        self
    }

    /// Seeds several users.
    pub fn users<I, E, P>(mut self, users: I) -> Self
    where
        I: IntoIterator<Item = (E, P)>,
        E: Into<String>,
        P: Into<String>,
    {
        self.users
            .extend(users.into_iter().map(|(e, p)| (e.into(), p.into())));
        self
    }

    /// Largest accepted request body (default 1 MiB, then 413).
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Where the OAuth server's `/authorize` sends the browser for consent when no user is
    /// auto-approved (default `http://127.0.0.1:3000/oauth/consent`).
    pub fn oauth_consent_url(mut self, url: impl Into<String>) -> Self {
        self.oauth_consent_url = url.into();
        self
    }

    fn validate(&self) -> Result<(), IssuerError> {
        if self.access_token_ttl <= 0 || self.access_token_ttl > mint::MAX_TTL_SECONDS {
            return Err(IssuerError::Config(
                "access token TTL must be a positive number of seconds".into(),
            ));
        }
        if self.refresh_reuse_interval < 0 {
            return Err(IssuerError::Config(
                "refresh reuse interval must not be negative".into(),
            ));
        }
        if let Some(secret) = &self.jwt_secret
            && secret.len() < 32
        {
            return Err(IssuerError::Config(
                "the JWT secret must be at least 32 bytes".into(),
            ));
        }
        url::Url::parse(&self.oauth_consent_url).map_err(|e| {
            IssuerError::Config(format!(
                "OAuth consent URL {:?}: {e}",
                self.oauth_consent_url
            ))
        })?;
        if let Some(url) = &self.public_url {
            let parsed = url::Url::parse(url)
                .map_err(|e| IssuerError::Config(format!("public URL {url:?}: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(IssuerError::Config(format!(
                    "public URL {url:?} must be http(s)"
                )));
            }
        }
        Ok(())
    }

    /// Binds, loads or generates keys, seeds users and starts serving. Ready (health 200) when
    /// this returns; the JWKS additionally waits for the standby RS256 key, generated in the
    /// background on a fresh start (~100 ms).
    pub async fn spawn(self) -> Result<IssuerHandle, IssuerError> {
        self.validate()?;
        if let Some(dir) = &self.state_dir {
            state_dir::create_private_dir(dir)
                .map_err(|e| IssuerError::StateDir(format!("{}: {e}", dir.display())))?;
        }
        let (keys, opened) = KeyStore::open(self.state_dir.as_deref(), self.jwt_secret.as_deref())
            .map_err(|e| IssuerError::StateDir(e.to_string()))?;
        let keys = Arc::new(keys);
        match opened {
            // RSA key generation also seeds aws-lc's DRBG.
            Opened::Fresh => keys.spawn_standby_rsa(),
            Opened::Loaded => keys::warm_up_rng(),
        }

        let std_listener =
            std::net::TcpListener::bind(self.listen).map_err(|source| IssuerError::Bind {
                addr: self.listen,
                source,
            })?;
        let bind_err = |source| IssuerError::Bind {
            addr: self.listen,
            source,
        };
        std_listener.set_nonblocking(true).map_err(bind_err)?;
        let addr = std_listener.local_addr().map_err(bind_err)?;
        let listener = tokio::net::TcpListener::from_std(std_listener).map_err(bind_err)?;

        let legacy = keys.legacy();
        let config = IssuerConfig {
            public_url: self
                .public_url
                .map(|u| u.trim_end_matches('/').to_string())
                .unwrap_or_else(|| format!("http://{addr}")),
            access_token_ttl: self.access_token_ttl,
            refresh_reuse_interval: self.refresh_reuse_interval,
            require_apikey: self.require_apikey,
            jwks_max_age: self.jwks_max_age,
            jwt_secret: legacy.secret().to_string(),
            anon_key: legacy.anon_key().to_string(),
            service_role_key: legacy.service_role_key().to_string(),
            state_dir: self.state_dir.clone(),
            max_body_bytes: self.max_body_bytes,
            oauth_consent_url: self.oauth_consent_url,
        };
        let auth =
            AuthStore::open(&config).map_err(|e| IssuerError::StateDir(format!("users: {e}")))?;
        for (email, password) in &self.users {
            auth.seed_user(email, password)?;
        }
        let state = AppState {
            config: Arc::new(config),
            keys,
            clock: Clock::default(),
            counters: Arc::new(Counters::default()),
            auth: Arc::new(auth),
            faults: Arc::new(Faults::default()),
            oauth: Arc::new(oauth::OAuthServer::default()),
        };
        let app = server::router(state.clone());
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(server::serve(
            listener,
            app,
            state.clone(),
            shutdown.clone(),
        ));
        tracing::info!(%addr, "xauth-issuer listening");
        Ok(IssuerHandle {
            state,
            addr,
            shutdown,
            task: Some(task),
        })
    }
}

/// A running issuer. Dropping it stops the server (in the background); [`shutdown`] waits.
///
/// [`shutdown`]: IssuerHandle::shutdown
#[derive(Debug)]
pub struct IssuerHandle {
    state: AppState,
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("public_url", &self.config.public_url)
            .finish_non_exhaustive()
    }
}

impl IssuerHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL (`SUPABASE_URL`), without `/auth/v1`.
    pub fn base_url(&self) -> &str {
        &self.state.config.public_url
    }

    /// URLs and keys (what `GET /_control/v1/info` answers).
    pub fn info(&self) -> IssuerInfo {
        self.state.config.info()
    }

    /// The configuration the server runs with.
    pub fn config(&self) -> &IssuerConfig {
        &self.state.config
    }

    /// The shared server state (for embedding the routes elsewhere).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Every key with its state, oldest first.
    pub async fn keys(&self) -> Vec<KeyInfo> {
        self.state.keys.ready().await;
        self.state.keys.keys()
    }

    /// Makes `kid` (default: the oldest standby key, or a fresh ES256 key) current.
    pub async fn rotate(&self, kid: Option<&str>) -> Result<KeyInfo, KeyError> {
        self.state.keys.rotate(kid).await
    }

    /// Adds a fresh key as standby or current.
    pub async fn add_key(&self, alg: KeyAlg, state: KeyState) -> Result<KeyInfo, KeyError> {
        self.state.keys.add(alg, state).await
    }

    /// Revokes a key (it leaves the JWKS).
    pub async fn revoke(&self, kid: &str) -> Result<KeyInfo, KeyError> {
        self.state.keys.revoke(kid).await
    }

    /// Publishes a previous or revoked key again as standby.
    pub async fn standby(&self, kid: &str) -> Result<KeyInfo, KeyError> {
        self.state.keys.standby(kid).await
    }

    /// Makes the OAuth server's `/authorize` approve for the user with `email` without a
    /// consent page (`POST /_control/v1/oauth/auto-approve` over HTTP); [`IssuerError::Config`]
    /// when there is no such user.
    pub fn oauth_auto_approve(&self, email: &str) -> Result<(), IssuerError> {
        let user = self
            .state
            .auth
            .admin_list("authenticated")
            .into_iter()
            .find(|u| u.email.eq_ignore_ascii_case(email))
            .ok_or_else(|| IssuerError::Config(format!("no user {email:?} to auto-approve")))?;
        self.state.oauth.settings.set_auto_approve(Some(user.id));
        Ok(())
    }

    /// Switches the imitation of a Custom Access Token Hook that sets an OAuth access token's
    /// `aud` to the requested `resource` (`PUT /_control/v1/oauth` over HTTP).
    pub fn set_oauth_access_token_hook(&self, on: bool) {
        self.state
            .oauth
            .settings
            .update(oauth::settings::OAuthSettingsUpdate {
                access_token_hook: Some(on),
                ..Default::default()
            });
    }

    /// Publishes `keys` (JWK objects, as given) after the issuer's own keys in the JWKS,
    /// replacing earlier extras; key changes keep them. At most
    /// [`jwks::MAX_EXTRA_JWKS`] objects, else [`IssuerError::Config`]. Tests use it to serve
    /// deliberately unusable or ambiguous entries (`PUT /_control/v1/jwks/extra` over HTTP).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = xauth_issuer::Issuer::builder().port(0).spawn().await?;
    /// let own = issuer.keys().await.len();
    /// issuer.set_extra_jwks(vec![serde_json::json!({"kty": "oct", "kid": "k", "k": "c2VjcmV0"})])?;
    /// let jwks: serde_json::Value = serde_json::from_slice(&issuer.state().keys.jwks_body())?;
    /// assert_eq!(jwks["keys"][own]["kid"], "k");
    /// issuer.clear_extra_jwks();
    /// # Ok(()) }
    /// ```
    pub fn set_extra_jwks(&self, keys: Vec<serde_json::Value>) -> Result<(), IssuerError> {
        jwks::validate_extra_jwks(&keys).map_err(IssuerError::Config)?;
        self.state
            .keys
            .set_extra_jwks(keys)
            .map_err(|e| IssuerError::Config(e.to_string()))
    }

    /// Removes the extra JWK entries.
    pub fn clear_extra_jwks(&self) {
        if let Err(e) = self.state.keys.set_extra_jwks(Vec::new()) {
            tracing::error!(error = %e, "clearing the extra JWK entries failed");
        }
    }

    /// Mints a token (see [`MintRequest`]). Waits for nothing: call [`keys`](Self::keys) first
    /// if you mint with the standby RS256 key by kid right after start.
    pub fn mint(&self, request: &MintRequest) -> Result<Minted, MintError> {
        mint::mint(&self.state, request)
    }

    /// Arms a JWKS fault (replacing any active one).
    pub fn inject_jwks_fault(&self, fault: Fault) -> Result<(), IssuerError> {
        self.inject_fault(FaultRoute::Jwks, fault)
    }

    /// Clears the JWKS fault.
    pub fn clear_jwks_faults(&self) {
        self.state.faults.route(FaultRoute::Jwks).clear();
    }

    /// Arms a fault on `route` (replacing any active one there).
    pub fn inject_fault(&self, route: FaultRoute, fault: Fault) -> Result<(), IssuerError> {
        fault.validate().map_err(IssuerError::Config)?;
        self.state.faults.route(route).inject(fault);
        Ok(())
    }

    /// Clears the faults of every route.
    pub fn clear_faults(&self) {
        self.state.faults.clear_all();
    }

    /// The counters.
    pub fn counters(&self) -> CountersSnapshot {
        self.state.counters.snapshot()
    }

    /// Sets every counter to zero.
    pub fn reset_counters(&self) {
        self.state.counters.reset();
    }

    /// Shifts the issuer's clock by `seconds` (tokens it issues, expiry checks).
    pub fn set_clock_offset(&self, seconds: i64) {
        self.state.clock.set_offset(seconds);
    }

    /// The issuer's time and offset.
    pub fn clock(&self) -> ClockInfo {
        ClockInfo {
            now: self.state.clock.now_unix(),
            offset_seconds: self.state.clock.offset(),
        }
    }

    /// Stops accepting, lets in-flight requests finish (bounded), and waits for the server.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for IssuerHandle {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
