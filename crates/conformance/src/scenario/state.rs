//! Per-scenario state of the stateful families, owned by [`crate::scenario::world::XauthWorld`]: one
//! field per family, created empty with the World and dropped with it (nothing is keyed by
//! subject in a process-global table, nothing outlives its scenario).

use std::time::Duration;

use crate::forge::unusable::Signer;
use crate::net::evidence::Exchange;

/// Everything the stateful steps remember between the steps of one scenario.
#[derive(Debug, Default)]
pub struct ScenarioState {
    /// Issuer keys this scenario created or rotated away from (`key_rotation.feature`).
    pub rotation: Rotation,
    /// Result of the last "until accepted/rejected" poll.
    pub poll: Option<PollResult>,
    /// The unknown-kid flood and what it observed (`jwks_resilience.feature`).
    pub flood: Option<Flood>,
    /// The refresh family's user and session (`refresh.feature`).
    pub auth: AuthState,
    /// The last rate-limit burst (`rate_limiting.feature`).
    pub burst: Option<Burst>,
    /// Requests of the last "N times" step.
    pub series: Vec<Exchange>,
    /// The extra JWKS entries this scenario published (`jwks_entries.feature`).
    pub entries: Entries,
    /// The owner and the personal access tokens of this scenario
    /// (`personal_access_tokens.feature`).
    pub pat: PatState,
    /// What an MCP scenario read (`mcp.feature`).
    pub mcp: McpState,
}

/// What an MCP scenario read between its steps.
#[derive(Debug, Clone, Default)]
pub struct McpState {
    /// The `resource_metadata` URL of the last 401 challenge.
    pub metadata_url: Option<url::Url>,
    /// The protected resource metadata fetched last.
    pub metadata: Option<serde_json::Value>,
    /// The authorization server metadata fetched last.
    pub as_metadata: Option<serde_json::Value>,
    /// Requests the canary upstream had received before the tool call.
    pub canary_before: usize,
    /// The JSON-RPC answer of the last tool call.
    pub tool_answer: Option<serde_json::Value>,
}

/// The owner and the personal access tokens of a PAT scenario.
#[derive(Debug, Clone, Default)]
pub struct PatState {
    /// The owner, once a step created them at the issuer.
    pub owner: Option<PatOwner>,
    /// The tokens created in this scenario, oldest first (the current one is the last).
    pub tokens: Vec<crate::net::pat_api::IssuedPat>,
    /// The token a rotation replaced.
    pub previous: Option<crate::net::pat_api::IssuedPat>,
    /// The lifetime asked for the last token, in seconds.
    pub ttl_seconds: Option<u64>,
    /// When the last token was created (the suite's clock).
    pub created_at: Option<std::time::Instant>,
    /// When the last token was created, in Unix seconds.
    pub created_unix: Option<i64>,
    /// When the last state change (revocation, rotation, owner deletion) was made.
    pub changed_at: Option<std::time::Instant>,
    /// The last management call's answer.
    pub management: Option<Exchange>,
    /// Requests of a new token accepted right after the owner's budget was spent, per trial.
    pub budget_trials: Vec<usize>,
}

/// A user created at the issuer for a PAT scenario, with their session.
#[derive(Debug, Clone)]
pub struct PatOwner {
    /// GoTrue user id (`sub`).
    pub user_id: String,
    /// The session's access token (the issuer's own JWT).
    pub session: String,
}

/// A role an issuer key plays in a rotation scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    /// The key this scenario published or rotated to.
    New,
    /// The key that was current before this scenario's rotation.
    Previous,
}

impl std::fmt::Display for KeyRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeyRole::New => "new",
            KeyRole::Previous => "previous",
        })
    }
}

/// The issuer kids of a rotation scenario.
#[derive(Debug, Clone, Default)]
pub struct Rotation {
    /// The key published or rotated to.
    pub new: Option<String>,
    /// The key that was current before the rotation.
    pub previous: Option<String>,
    /// The key to make current again when the scenario fails (its rotation was never shown to
    /// be accepted by the implementation).
    pub rollback: Option<String>,
}

impl Rotation {
    /// The kid playing `role`, if a step set it.
    pub fn kid(&self, role: KeyRole) -> Option<&str> {
        match role {
            KeyRole::New => self.new.as_deref(),
            KeyRole::Previous => self.previous.as_deref(),
        }
    }
}

/// What a bounded poll observed.
#[derive(Debug, Clone)]
pub struct PollResult {
    /// Whether the expected answer arrived before the deadline.
    pub reached: bool,
    /// Time from the first request to the expected answer (or to the deadline).
    pub elapsed: Duration,
    /// The deadline used.
    pub bound: Duration,
    /// JWKS fetches the issuer served meanwhile.
    pub fetches: u64,
    /// Requests sent.
    pub requests: usize,
}

/// Tokens of the flood and what the flood observed.
#[derive(Debug, Clone, Default)]
pub struct Flood {
    /// Tokens with unknown kids.
    pub tokens: Vec<String>,
    /// Median latency of valid tokens before the flood.
    pub baseline: Option<Duration>,
    /// Answers to the flood tokens.
    pub flood: Vec<Exchange>,
    /// Answers to the valid tokens sent during the flood.
    pub valid: Vec<Exchange>,
    /// JWKS fetches during the flood.
    pub fetches: u64,
    /// Duration of the flood.
    pub elapsed: Duration,
}

/// The user and session of a refresh scenario.
#[derive(Debug, Clone, Default)]
pub struct AuthState {
    /// GoTrue user id.
    pub user_id: String,
    /// Email of the user.
    pub email: String,
    /// Password of the user.
    pub password: String,
    /// Access token of the session's latest token response.
    pub access_token: Option<String>,
    /// Every refresh token the session received, oldest first.
    pub refresh_tokens: Vec<String>,
    /// The last request sent through the proxy: query, headers, body (for replay).
    pub last_request: Option<SentRequest>,
    /// The proxy's last answer.
    pub proxy_answer: Option<Exchange>,
    /// The issuer's answer to the same request.
    pub direct_answer: Option<Exchange>,
}

/// A token request as sent: query, headers, body.
pub type SentRequest = (String, Vec<(String, String)>, String);

/// What a burst observed.
#[derive(Debug, Clone, Default)]
pub struct Burst {
    /// Requests sent.
    pub sent: usize,
    /// 2xx answers.
    pub accepted: usize,
    /// 429 answers.
    pub limited: Vec<Exchange>,
    /// Anything else.
    pub other: Vec<Exchange>,
    /// Wall time of the burst.
    pub elapsed: Duration,
}

/// What the JWKS-entries steps published and observed.
#[derive(Debug, Clone, Default)]
pub struct Entries {
    /// The usable ES256 control key.
    pub control: Option<(String, Signer)>,
    /// The entry under test (A44) and its description.
    pub unusable: Option<(String, Signer, String)>,
    /// The shared kid and the keys published under it, in JWKS order (A43).
    pub shared: Option<(String, Vec<Signer>)>,
    /// The control key poll.
    pub poll: Option<PollResult>,
    /// Answers to the tokens of the shared kid.
    pub answers: Vec<Exchange>,
}
