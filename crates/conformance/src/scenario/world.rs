//! The cucumber World of the scenarios: per-scenario state (fresh subject, own loopback source
//! address, the token under construction, every exchange) and the helpers the steps share.
//!
//! A step fails in one way: [`XauthWorld::fail`] (a verdict on the target) or
//! [`XauthWorld::harness_error`] (the suite could not judge). Shared issuer state a `@serial`
//! scenario changed is put back by the runner's after-hook through [`SharedState`].

use std::sync::Arc;

use futures::future::LocalBoxFuture;
use serde_json::{Map, Value};

use crate::context::RunContext;
use crate::deadline::ScenarioBound;
use crate::hooks::SharedState;
use crate::net::attacker::AttackerListener;
use crate::net::control::{Info, IssuerClient, KeyAlg, KeyInfo, MintRequest, Minted};
use crate::net::evidence::{self, Exchange, Secrets};
use crate::net::sources::{SourceBlock, next_source};
use crate::net::target::TargetClient;
use crate::plan::ScenarioKey;
use crate::scenario::params::Family;
use crate::scenario::state::ScenarioState;

/// How a token was minted by the issuer, so that steps can re-mint variants of it.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The mint `key` selector (a kid, or `legacy`).
    pub key: String,
    /// The signing algorithm asked for.
    pub alg: String,
    /// The header the issuer produced.
    pub header: Map<String, Value>,
    /// The claims the issuer produced.
    pub claims: Map<String, Value>,
}

/// The token a scenario is building and will send.
#[derive(Debug, Clone)]
pub struct CurrentToken {
    /// The exact text sent after `Bearer `.
    pub compact: String,
    /// How it was built, step by step (shown in failure reports).
    pub recipe: Vec<String>,
    /// The issuer mint it derives from, when still re-mintable.
    pub origin: Option<Origin>,
}

/// Per-scenario state.
#[derive(Debug, cucumber::World)]
#[world(init = Self::new)]
pub struct XauthWorld {
    /// The run context installed by the runner.
    pub ctx: Arc<RunContext>,
    /// Client for the target (own source address when the target is on loopback).
    pub http: TargetClient,
    /// Client for the issuer's control API.
    pub issuer: IssuerClient,
    /// This scenario's fresh user id (`sub` of every minted user token).
    pub subject: String,
    /// The token under construction.
    pub token: Option<CurrentToken>,
    /// Every exchange with the target, in order.
    pub exchanges: Vec<Exchange>,
    /// The attacker listener, once a step started it.
    pub attacker: Option<AttackerListener>,
    /// The kid of the attacker's key in this scenario (unique per scenario, so one scenario's
    /// leftovers, such as a cached key set, can never decide another's verdict).
    pub attacker_kid: String,
    /// A unique marker for reflection checks.
    pub marker: String,
    /// Secrets to redact from reports.
    pub secrets: Secrets,
    /// The scenario this World runs (set by the runner before the first step).
    pub scenario: Option<ScenarioKey>,
    /// What the stateful steps remember between the steps of this scenario.
    pub state: ScenarioState,
    info: Option<Info>,
    keys: Option<Vec<KeyInfo>>,
}

impl ScenarioBound for XauthWorld {
    fn bind_scenario(&mut self, key: ScenarioKey) {
        self.scenario = Some(key);
    }
}

/// Why a World could not be created (the run context is missing or a client failed to build).
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    /// The run context has not been installed.
    #[error("the run context is not installed (the runner must call context::install first)")]
    NoContext,
    /// A target HTTP client could not be built.
    #[error(transparent)]
    Client(#[from] crate::net::target::ClientError),
    /// A control API client for the issuer could not be built.
    #[error(transparent)]
    Control(#[from] crate::net::control::ControlError),
}

impl XauthWorld {
    /// Extends this scenario's deadline by `by`: a step announces a wait derived from the
    /// profile before it starts waiting (see [`crate::deadline`]).
    pub fn extend_deadline(&self, by: std::time::Duration) {
        if let Some(key) = &self.scenario {
            self.ctx.deadlines.extend(key, by);
        }
    }

    /// A fresh World for one scenario.
    pub fn new() -> Result<Self, WorldError> {
        let ctx = crate::context::try_context().ok_or(WorldError::NoContext)?;
        let source = ctx
            .loopback_sources
            .then(|| next_source(SourceBlock::Scenario));
        let http = TargetClient::new(&ctx.target, ctx.timeouts.request, source)?;
        let issuer = IssuerClient::new(
            &ctx.issuer.base_url,
            &ctx.issuer.control_key,
            ctx.timeouts.request,
        )?;
        let secrets = ctx.secrets();
        Ok(Self {
            ctx,
            http,
            issuer,
            subject: uuid::Uuid::new_v4().to_string(),
            token: None,
            exchanges: Vec::new(),
            attacker: None,
            attacker_kid: format!(
                "attacker-{}",
                &uuid::Uuid::new_v4().simple().to_string()[..12]
            ),
            marker: format!("xauthMarker{}", uuid::Uuid::new_v4().simple()),
            secrets,
            scenario: None,
            state: ScenarioState::default(),
            info: None,
            keys: None,
        })
    }

    /// Fails the current step with the full evidence: expectation, token recipe and the given
    /// exchanges (default: the last one).
    pub fn fail(&self, expectation: &str, exchanges: &[&Exchange]) -> ! {
        let recipe = self
            .token
            .as_ref()
            .map(|t| t.recipe.clone())
            .unwrap_or_default();
        let last;
        let shown: &[&Exchange] = if exchanges.is_empty() {
            match self.exchanges.last() {
                Some(e) => {
                    last = [e];
                    &last
                }
                None => &[],
            }
        } else {
            exchanges
        };
        // The answer that contradicts the expectation: the last exchange shown.
        let observed = shown.last().map(|ex| {
            crate::failure::Observed::of_exchange(ex, &self.ctx.profile.error_code_pointer)
        });
        let mut message = evidence::failure_report(expectation, &recipe, shown, &self.secrets);
        if let Some(contacts) = self.attacker_contacts() {
            message = format!("{contacts}\n\n{message}");
        }
        crate::failure::StepFailure::verdict(expectation, message, observed).raise()
    }

    /// Fails because the harness itself could not do what a step asks (not a verdict on the
    /// target).
    pub fn harness_error(&self, what: impl std::fmt::Display) -> ! {
        crate::failure::StepFailure::suite_error(format!(
            "suite error (not a verdict on the target): {what}"
        ))
        .raise()
    }

    /// The token under construction, or a harness error.
    pub fn current(&self) -> &CurrentToken {
        match &self.token {
            Some(t) => t,
            None => self.harness_error("no token: a step must create one first"),
        }
    }

    /// Replaces the current token's text and records how.
    pub fn set_token_text(&mut self, compact: String, how: impl Into<String>, keep_origin: bool) {
        let mut t = self.token.take().unwrap_or(CurrentToken {
            compact: String::new(),
            recipe: Vec::new(),
            origin: None,
        });
        t.compact = compact;
        t.recipe.push(how.into());
        if !keep_origin {
            t.origin = None;
        }
        self.token = Some(t);
    }

    /// `GET /info` (cached for the scenario).
    pub async fn info(&mut self) -> Info {
        if self.info.is_none() {
            match self.issuer.info().await {
                Ok(i) => {
                    if let Some(s) = &i.jwt_secret {
                        self.secrets.add(s, "XAUTH_JWT_SECRET");
                    }
                    self.info = Some(i);
                }
                Err(e) => self.harness_error(e),
            }
        }
        self.info
            .clone()
            .unwrap_or_else(|| self.harness_error("no issuer info"))
    }

    /// The issuer's `iss`.
    pub async fn issuer_iss(&mut self) -> String {
        self.info().await.issuer
    }

    /// The legacy HS256 secret, if the issuer has one.
    pub async fn legacy_secret(&mut self) -> Option<String> {
        if let Some(s) = &self.ctx.issuer.jwt_secret {
            return Some(s.clone());
        }
        self.info().await.jwt_secret
    }

    /// A published (non-revoked) issuer key for `alg` (`ES256` or `RS256`), preferring the
    /// current key, then standby, then previous.
    pub async fn issuer_key(&mut self, alg: &str) -> KeyInfo {
        if self.keys.is_none() {
            match self.issuer.keys().await {
                Ok(k) => self.keys = Some(k),
                Err(e) => self.harness_error(e),
            }
        }
        let best = alg.parse::<KeyAlg>().ok().and_then(|alg| {
            crate::net::control::published_keys(self.keys.as_deref().unwrap_or_default(), alg)
                .first()
                .map(|k| (*k).clone())
        });
        best.unwrap_or_else(|| self.harness_error(format!("the issuer publishes no {alg} key")))
    }

    /// The mint `key` selector for a key family: an ES256/RS256 kid, or `legacy` for HS256.
    pub async fn key_selector(&mut self, family: Family) -> String {
        match family {
            Family::Hs256 => "legacy".to_owned(),
            _ => self.issuer_key(family.as_str()).await.kid,
        }
    }

    /// `POST /mint`, or a harness error.
    pub async fn mint(&self, req: &MintRequest) -> Minted {
        match self.issuer.mint(req).await {
            Ok(m) => m,
            Err(e) => self.harness_error(e),
        }
    }

    /// Mints a GoTrue access token for this scenario's subject with the `family` key
    /// (`ES256`, `RS256`, `HS256`=legacy), signing algorithm `alg` (default: the key's), and
    /// `claims` merged over the template. Becomes the current token.
    pub async fn mint_user_token(
        &mut self,
        family: Family,
        alg: Option<&str>,
        claims: Map<String, Value>,
        how: String,
    ) {
        let key = self.key_selector(family).await;
        let mut merged = Map::new();
        merged.insert("sub".into(), Value::String(self.subject.clone()));
        merged.extend(claims);
        let req = MintRequest {
            key: Some(key.clone()),
            alg: alg.map(str::to_owned),
            claims: Some(merged),
            ..MintRequest::default()
        };
        let minted = self.mint(&req).await;
        let header = minted.header.as_object().cloned().unwrap_or_default();
        let claims = minted.claims.as_object().cloned().unwrap_or_default();
        let alg = alg
            .map(str::to_owned)
            .or_else(|| header.get("alg").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| family.as_str().to_owned());
        self.token = Some(CurrentToken {
            compact: minted.token,
            recipe: vec![how],
            origin: Some(Origin {
                key,
                alg,
                header,
                claims,
            }),
        });
    }

    /// The origin of the current token, or a harness error (the token is no longer re-mintable).
    pub fn origin(&self) -> Origin {
        match self.current().origin.clone() {
            Some(o) => o,
            None => self.harness_error("the current token does not come straight from the issuer"),
        }
    }

    /// Re-mints the current token's origin with exact header and payload texts.
    pub async fn remint_raw(&mut self, header_text: String, claims_text: String, how: String) {
        let origin = self.origin();
        let req = MintRequest {
            key: Some(origin.key.clone()),
            alg: Some(origin.alg.clone()),
            header_raw: Some(header_text),
            claims_raw: Some(claims_text),
            ..MintRequest::default()
        };
        let minted = self.mint(&req).await;
        self.set_token_text(minted.token, how, true);
    }

    /// Starts the attacker listener (serving the attacker's ES256 JWKS) if not running.
    pub async fn attacker(&mut self) -> &AttackerListener {
        if self.attacker.is_none() {
            let jwk = crate::forge::sign::attacker_public_jwk("ES256", &self.attacker_kid)
                .unwrap_or_else(|e| self.harness_error(e));
            let body = serde_json::json!({"keys": [jwk]}).to_string();
            match AttackerListener::start(body).await {
                Ok(l) => self.attacker = Some(l),
                Err(e) => self.harness_error(format!("cannot start the attacker listener: {e}")),
            }
        }
        self.attacker
            .as_ref()
            .unwrap_or_else(|| self.harness_error("no attacker listener"))
    }

    /// What the attacker listener received, when this scenario started one and it was
    /// contacted: a failure reports it even when the failing step came before the scenario's
    /// own "the attacker listener received no request" check (a fetch of an attacker URL is
    /// the worse finding, and it must not hide behind an earlier one).
    pub fn attacker_contacts(&self) -> Option<String> {
        let l = self.attacker.as_ref()?;
        let n = l.connections();
        (n > 0).then(|| {
            format!(
                "ALSO: the attacker listener received {n} request(s) during this scenario (a correct implementation never contacts it): {}",
                l.request_lines().join(" | ")
            )
        })
    }

    /// The last exchange, or a harness error.
    pub fn last_exchange(&self) -> &Exchange {
        self.exchanges
            .last()
            .unwrap_or_else(|| self.harness_error("no request was sent yet"))
    }
}

impl XauthWorld {
    /// Clears the issuer's faults (JWKS and token endpoint), its clock offset and any extra
    /// JWKS entries.
    pub async fn clear_issuer_state(&self) -> Result<(), crate::net::control::ControlError> {
        self.issuer.clear_faults().await?;
        self.issuer.set_clock_offset(0).await?;
        self.issuer.clear_extra_jwks().await?;
        Ok(())
    }

    /// Undoes a rotation this scenario made (the key that was current before becomes current
    /// again), so that an implementation that cannot pick up a new key fails this scenario only,
    /// not every later scenario that mints with the current key.
    async fn roll_back_rotation(&mut self) -> Result<(), crate::net::control::ControlError> {
        let Some(previous) = self.state.rotation.rollback.take() else {
            return Ok(());
        };
        self.issuer.standby(&previous).await?;
        self.issuer.rotate(Some(&previous)).await?;
        Ok(())
    }
}

impl SharedState for XauthWorld {
    fn restore_shared_state(&mut self, failed: bool) -> LocalBoxFuture<'_, ()> {
        Box::pin(async move {
            if let Err(e) = self.clear_issuer_state().await {
                tracing::warn!("could not restore the issuer's state: {e}");
            }
            if failed && let Err(e) = self.roll_back_rotation().await {
                tracing::warn!("could not roll the issuer's key rotation back: {e}");
            }
        })
    }
}

/// Unix time now, from the suite's clock.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// JSON object text from `base` with `overrides` applied in order: every overridden name is
/// dropped from `base`, then each override with `Some(raw JSON text)` is appended (so a name may
/// appear twice on purpose); `None` only removes.
pub fn object_text(base: &Map<String, Value>, overrides: &[(String, Option<String>)]) -> String {
    let mut parts = Vec::new();
    for (k, v) in base {
        if overrides.iter().any(|(n, _)| n == k) {
            continue;
        }
        parts.push(format!("{}:{}", Value::String(k.clone()), v));
    }
    for (k, raw) in overrides {
        if let Some(raw) = raw {
            parts.push(format!("{}:{}", Value::String(k.clone()), raw));
        }
    }
    format!("{{{}}}", parts.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_text_overrides_and_duplicates() {
        let mut base = Map::new();
        base.insert("a".into(), Value::from(1));
        base.insert("b".into(), Value::from("x"));
        let text = object_text(
            &base,
            &[
                ("b".into(), None),
                ("c".into(), Some("2".into())),
                ("c".into(), Some("3".into())),
            ],
        );
        assert_eq!(text, r#"{"a":1,"c":2,"c":3}"#);
    }
}
