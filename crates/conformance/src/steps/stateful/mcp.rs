//! Steps of `mcp.feature`: an MCP server (Streamable HTTP) as an OAuth 2.1 resource server on
//! the issuer's tokens. Tokens are minted by the issuer with the claims its OAuth server puts in
//! an MCP client's access token (`client_id`, and `aud` as the profile's audience mode says);
//! requests are JSON-RPC `initialize` calls ([`crate::net::mcp_client`]), so a token is judged
//! before any MCP processing; the no-passthrough check calls a tool that reaches the suite's
//! canary upstream ([`crate::net::canary`]).

use cucumber::{given, then, when};
use serde_json::{Map, Value};

use super::{is_accepted, response};
use crate::net::evidence::Exchange;
use crate::net::mcp_client::{self, McpRequest};
use crate::profile::mcp::AudienceMode;
use crate::scenario::params::{Family, McpToken};
use crate::scenario::world::{XauthWorld, now_unix, object_text};

/// An `aud` that names some other MCP server.
const OTHER_RESOURCE: &str = "https://other-mcp.example/mcp";
/// The client an ID token is issued to when the profile allows none by name.
const DEFAULT_CLIENT: &str = "xauth-mcp-client";
/// A `client_id` no profile allows.
const FOREIGN_CLIENT: &str = "xauth-foreign-client";
/// An `Origin` no MCP server may accept (DNS rebinding from a web page).
const FOREIGN_ORIGIN: &str = "http://rebind.attacker.example";

fn endpoint(w: &XauthWorld) -> url::Url {
    w.ctx.target_url(&w.ctx.profile.mcp.path)
}

fn resource(w: &XauthWorld) -> String {
    w.ctx.profile.mcp.resource_for(&w.ctx.target)
}

/// The claims of a valid MCP access token for this server.
fn valid_claims(w: &XauthWorld) -> Map<String, Value> {
    let mcp = &w.ctx.profile.mcp;
    let mut claims = Map::new();
    let aud = match mcp.audience_mode {
        AudienceMode::Supabase => "authenticated".to_owned(),
        AudienceMode::Resource => resource(w),
    };
    claims.insert("aud".into(), Value::String(aud));
    if let Some(c) = mcp.client_id() {
        claims.insert("client_id".into(), Value::String(c.to_owned()));
    }
    claims
}

async fn mint(w: &mut XauthWorld, claims: Map<String, Value>, how: String) {
    w.mint_user_token(Family::Es256, None, claims, how).await;
}

#[given(regex = r"^a valid MCP access token for a fresh user$")]
async fn valid_token(w: &mut XauthWorld) {
    let claims = valid_claims(w);
    mint(
        w,
        claims,
        "a valid ES256 MCP access token (the issuer's, with this server's audience and an allowed client_id)".into(),
    )
    .await;
}

#[given(expr = "an MCP access token for a fresh user {mcp_token}")]
async fn variant_token(w: &mut XauthWorld, variant: McpToken) {
    let mut claims = valid_claims(w);
    let how = format!("an ES256 MCP access token {variant:?}");
    match variant {
        McpToken::OtherResource => {
            claims.insert("aud".into(), OTHER_RESOURCE.into());
        }
        McpToken::Authenticated => {
            claims.insert("aud".into(), "authenticated".into());
        }
        McpToken::Resource => {
            claims.insert("aud".into(), resource(w).into());
        }
        McpToken::ForeignClient => {
            claims.insert("client_id".into(), FOREIGN_CLIENT.into());
        }
        McpToken::NoAudience | McpToken::NoClientId => {}
    }
    mint(w, claims, how.clone()).await;
    let removed = match variant {
        McpToken::NoAudience => Some("aud"),
        McpToken::NoClientId => Some("client_id"),
        _ => None,
    };
    if let Some(member) = removed {
        let origin = w.origin();
        let header = Value::Object(origin.header.clone()).to_string();
        let payload = object_text(&origin.claims, &[(member.to_owned(), None)]);
        w.remint_raw(
            header,
            payload,
            format!("re-signed by the issuer without {member:?}"),
        )
        .await;
    }
}

#[given(regex = r"^an expired MCP access token for a fresh user$")]
async fn expired_token(w: &mut XauthWorld) {
    let mut claims = valid_claims(w);
    let now = now_unix();
    claims.insert("iat".into(), (now - 7200).into());
    claims.insert("exp".into(), (now - 3600).into());
    mint(
        w,
        claims,
        "a valid MCP access token that expired an hour ago".into(),
    )
    .await;
}

#[given(regex = r"^an ID token for a fresh user, issued to an allowed MCP client$")]
async fn id_token(w: &mut XauthWorld) {
    // An allowed client's ID token is the hard case; with no allow-list (resource mode), any
    // client's.
    let client = w
        .ctx
        .profile
        .mcp
        .client_id()
        .unwrap_or(DEFAULT_CLIENT)
        .to_owned();
    let mut claims = Map::new();
    // An OpenID Connect ID token: for the client, not for any resource server.
    claims.insert("aud".into(), Value::String(client.clone()));
    claims.insert("azp".into(), Value::String(client));
    claims.insert("nonce".into(), "xauth-nonce".into());
    mint(
        w,
        claims,
        "an ID token signed by the issuer (aud = the allowed MCP client's id)".into(),
    )
    .await;
}

// ---- requests -----------------------------------------------------------------------------

async fn call(
    w: &mut XauthWorld,
    bearer: Option<String>,
    url: url::Url,
    headers: Vec<(String, String)>,
) {
    let req = McpRequest {
        url,
        bearer: bearer.as_deref(),
        headers,
    };
    let ex = mcp_client::post(&w.http, &req, None, &mcp_client::initialize(1)).await;
    w.exchanges.push(ex);
}

#[when(regex = r"^I call the MCP endpoint with it$")]
async fn call_with_it(w: &mut XauthWorld) {
    let token = w.current().compact.clone();
    let url = endpoint(w);
    call(w, Some(token), url, Vec::new()).await;
}

#[when(regex = r"^I call the MCP endpoint without credentials$")]
async fn call_without(w: &mut XauthWorld) {
    let url = endpoint(w);
    call(w, None, url, Vec::new()).await;
}

#[when(regex = r"^I call the MCP endpoint with it in the access_token query parameter only$")]
async fn call_with_query(w: &mut XauthWorld) {
    let token = w.current().compact.clone();
    let mut url = endpoint(w);
    url.query_pairs_mut().append_pair("access_token", &token);
    let req = McpRequest {
        url,
        bearer: None,
        headers: Vec::new(),
    };
    let mut ex = mcp_client::post(&w.http, &req, None, &mcp_client::initialize(1)).await;
    ex.token = Some(token);
    w.exchanges.push(ex);
}

#[when(regex = r"^I call the MCP endpoint with it from a web page of another origin$")]
async fn call_with_foreign_origin(w: &mut XauthWorld) {
    let token = w.current().compact.clone();
    let url = endpoint(w);
    call(
        w,
        Some(token),
        url,
        vec![("origin".into(), FOREIGN_ORIGIN.into())],
    )
    .await;
}

// ---- answers ------------------------------------------------------------------------------

fn last(w: &XauthWorld) -> Exchange {
    w.last_exchange().clone()
}

#[then(regex = r"^the MCP answer is (401|403)$")]
async fn answer_is(w: &mut XauthWorld, status: String) {
    let ex = last(w);
    let expected: u16 = status.parse().unwrap_or(401);
    if response(&ex).map(|r| r.status) != Some(expected) {
        w.fail(&format!("{expected} from the MCP endpoint"), &[&ex]);
    }
}

#[then(regex = r"^the MCP request is accepted$")]
async fn mcp_accepted(w: &mut XauthWorld) {
    let ex = last(w);
    let ok = response(&ex).is_some_and(|r| {
        (200..300).contains(&r.status)
            && mcp_client::rpc_message(&r.body, 1).is_some_and(|m| m.get("result").is_some())
    });
    if !ok {
        w.fail(
            "2xx with the JSON-RPC result of initialize (the token was issued for this server)",
            &[&ex],
        );
    }
}

/// The `WWW-Authenticate` Bearer challenge's parameters (lower-cased names), if any.
fn bearer_challenge(ex: &Exchange) -> Option<Vec<(String, String)>> {
    crate::net::challenge::first_bearer(&response(ex)?.headers)
}

#[then(regex = r"^the 401 challenge names the protected resource metadata$")]
async fn challenge_names_metadata(w: &mut XauthWorld) {
    let ex = last(w);
    let url = bearer_challenge(&ex).and_then(|p| {
        p.into_iter()
            .find(|(n, _)| n == "resource_metadata")
            .map(|(_, v)| v)
    });
    match url.as_deref().map(url::Url::parse) {
        Some(Ok(u)) if matches!(u.scheme(), "http" | "https") => {
            w.state.mcp.metadata_url = Some(u);
        }
        _ => w.fail(
            "401 with WWW-Authenticate: Bearer resource_metadata=\"<URL of the protected resource metadata>\" (MCP authorization, RFC 9728 §5.1)",
            &[&ex],
        ),
    }
}

#[then(
    regex = r"^the MCP answer is 403 with an insufficient_scope challenge naming the MCP scope$"
)]
async fn insufficient_scope(w: &mut XauthWorld) {
    let ex = last(w);
    let scope = w.ctx.profile.mcp.scope.clone();
    let ok = response(&ex).is_some_and(|r| r.status == 403)
        && bearer_challenge(&ex).is_some_and(|p| {
            p.iter()
                .any(|(n, v)| n == "error" && v == "insufficient_scope")
                && p.iter()
                    .any(|(n, v)| n == "scope" && v.split(' ').any(|s| s == scope))
        });
    if !ok {
        w.fail(
            &format!(
                "403 with WWW-Authenticate: Bearer error=\"insufficient_scope\", scope=\"{scope}\" (RFC 6750 §3.1; MCP 2025-11-25)"
            ),
            &[&ex],
        );
    }
}

// ---- metadata -----------------------------------------------------------------------------

async fn fetch_json(w: &mut XauthWorld, url: url::Url) -> Option<Value> {
    let ex = w
        .http
        .send(reqwest::Method::GET, url, Vec::new(), None)
        .await;
    let body = response(&ex)
        .filter(|r| r.status == 200)
        .and_then(|r| r.json());
    w.exchanges.push(ex);
    body
}

#[when(
    regex = r"^I fetch the protected resource metadata (it names|at the well-known URL of the MCP path|at the root well-known URL)$"
)]
async fn fetch_metadata(w: &mut XauthWorld, which: String) {
    let url = match which.as_str() {
        "it names" => w
            .state
            .mcp
            .metadata_url
            .clone()
            .unwrap_or_else(|| w.harness_error("no resource_metadata URL was read")),
        "at the root well-known URL" => w.ctx.target_url("/.well-known/oauth-protected-resource"),
        _ => {
            // RFC 9728 §3.1: the well-known segment inserted before the resource's path.
            let path = format!(
                "/.well-known/oauth-protected-resource{}",
                w.ctx.profile.mcp.path
            );
            w.ctx.target_url(&path)
        }
    };
    let body = fetch_json(w, url.clone()).await;
    match body {
        Some(b @ Value::Object(_)) => w.state.mcp.metadata = Some(b),
        _ => w.fail(&format!("200 with a JSON object at {url}"), &[]),
    }
}

#[when(
    regex = r"^I discover the protected resource metadata from the 401 challenge, or else at the well-known URL of the MCP path$"
)]
async fn discover_metadata(w: &mut XauthWorld) {
    let url = endpoint(w);
    call(w, None, url, Vec::new()).await;
    let named = bearer_challenge(&last(w)).and_then(|p| {
        p.into_iter()
            .find(|(n, _)| n == "resource_metadata")
            .and_then(|(_, v)| url::Url::parse(&v).ok())
    });
    w.state.mcp.metadata_url = named;
    let which = if w.state.mcp.metadata_url.is_some() {
        "it names"
    } else {
        "at the well-known URL of the MCP path"
    };
    fetch_metadata(w, which.to_owned()).await;
}

#[then(
    regex = r"^the metadata names this resource exactly and the issuer among its authorization servers$"
)]
async fn metadata_names(w: &mut XauthWorld) {
    let Some(meta) = w.state.mcp.metadata.clone() else {
        w.harness_error("no metadata was fetched")
    };
    let resource = resource(w);
    if meta.get("resource").and_then(Value::as_str) != Some(resource.as_str()) {
        w.fail(
            &format!(
                "\"resource\": \"{resource}\" exactly (RFC 9728 §3.3: a client must refuse metadata whose resource differs)"
            ),
            &[],
        );
    }
    let issuer = w.issuer_iss().await;
    let listed = meta
        .get("authorization_servers")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .any(|s| s.trim_end_matches('/') == issuer.trim_end_matches('/'))
        });
    if !listed {
        w.fail(
            &format!("\"authorization_servers\" listing the issuer {issuer}"),
            &[],
        );
    }
}

#[when(regex = r"^I fetch the authorization server metadata of the issuer it lists$")]
async fn fetch_as_metadata(w: &mut XauthWorld) {
    let issuer = w.issuer_iss().await;
    let Ok(iss) = url::Url::parse(&issuer) else {
        w.harness_error(format!("the issuer {issuer:?} is not a URL"))
    };
    // RFC 8414 §3.1: the well-known segment inserted before the issuer's path.
    let mut url = iss.clone();
    url.set_path(&format!(
        "/.well-known/oauth-authorization-server{}",
        iss.path().trim_end_matches('/')
    ));
    let body = fetch_json(w, url.clone()).await;
    match body {
        Some(b @ Value::Object(_)) => w.state.mcp.as_metadata = Some(b),
        _ => w.fail(&format!("200 with a JSON object at {url}"), &[]),
    }
}

#[then(regex = r"^it names the issuer and advertises PKCE with S256$")]
async fn as_metadata_ok(w: &mut XauthWorld) {
    let Some(meta) = w.state.mcp.as_metadata.clone() else {
        w.harness_error("no authorization server metadata was fetched")
    };
    let issuer = w.issuer_iss().await;
    let s256 = meta
        .get("code_challenge_methods_supported")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|m| m == "S256"));
    if meta.get("issuer").and_then(Value::as_str) != Some(issuer.as_str()) || !s256 {
        w.fail(
            &format!(
                "\"issuer\": \"{issuer}\" and \"code_challenge_methods_supported\" containing \"S256\" (MCP clients refuse an authorization server without PKCE S256)"
            ),
            &[],
        );
    }
}

// ---- no passthrough -----------------------------------------------------------------------

/// Calls `tool` with the current token (the full handshake); its answer goes to the state.
async fn call_tool(w: &mut XauthWorld, tool: &str) {
    let token = w.current().compact.clone();
    let req = McpRequest {
        url: endpoint(w),
        bearer: Some(&token),
        headers: Vec::new(),
    };
    let call = mcp_client::call_tool(&w.http, &req, tool).await;
    w.exchanges.extend(call.exchanges);
    w.state.mcp.tool_answer = call.message;
}

#[when(regex = r"^I call the declared harmless tool with it$")]
async fn call_harmless_tool(w: &mut XauthWorld) {
    let tool = w.ctx.profile.mcp.tool.clone();
    call_tool(w, &tool).await;
}

#[then(regex = r"^the tool answered with a result$")]
async fn tool_answered(w: &mut XauthWorld) {
    let ok = w
        .state
        .mcp
        .tool_answer
        .as_ref()
        .and_then(|m| m.get("result"))
        .is_some_and(|r| r.get("isError") != Some(&Value::Bool(true)));
    if !ok {
        w.fail(
            &format!(
                "a JSON-RPC result of tools/call {:?} (mcp.tool) that is not an error: a token issued for this server may use its tools",
                w.ctx.profile.mcp.tool
            ),
            &[],
        );
    }
}

#[when(regex = r"^I call the tool that reaches the upstream with it$")]
async fn call_upstream_tool(w: &mut XauthWorld) {
    let tool = w.ctx.profile.mcp.upstream_tool.clone();
    w.state.mcp.canary_before = w.ctx.canary.as_ref().map_or(0, |c| c.requests().len());
    call_tool(w, &tool).await;
}

#[then(regex = r"^the canary upstream was called, and never with the client's token$")]
async fn no_passthrough(w: &mut XauthWorld) {
    let Some(canary) = w.ctx.canary.clone() else {
        w.harness_error("no canary upstream is running")
    };
    let token = w.current().compact.clone();
    let carrying = canary.carrying(&token);
    if !carrying.is_empty() {
        w.fail(
            &format!(
                "the upstream never receiving the client's token (MCP: no token passthrough; the server must use its own credential); the canary received it {} time(s): {}",
                carrying.len(),
                carrying.iter().map(|r| r.line.as_str()).collect::<Vec<_>>().join(", ")
            ),
            &[],
        );
    }
    if canary.requests().len() <= w.state.mcp.canary_before {
        // Not a verdict: nothing shows the token would be passed through, or not.
        w.harness_error(format!(
            "cannot judge passthrough: the tool {:?} (mcp.upstream_tool) did not call the canary upstream {} (start the server with MCP_UPSTREAM_URL set to it: --spawn does; with --target, see --canary-addr); it answered {}",
            w.ctx.profile.mcp.upstream_tool,
            canary.url(),
            w.state
                .mcp
                .tool_answer
                .as_ref()
                .map_or("nothing".to_owned(), Value::to_string)
        ));
    }
}

// ---- key rotation and rate limits on the MCP endpoint ------------------------------------

#[when(
    regex = r"^I call the MCP endpoint with valid MCP access tokens signed by the new key until one is accepted$"
)]
async fn until_new_key_accepted(w: &mut XauthWorld) {
    let Some(kid) = w.state.rotation.new.clone() else {
        w.harness_error("no new key: a step must rotate the issuer's key first")
    };
    let bound =
        super::derived_wait(w, "jwks.refetch_cooldown_seconds", 2 * super::cooldown(w)).await;
    let claims = valid_claims(w);
    let url = endpoint(w);
    let mut last = None;
    let world = &*w;
    let polled =
        crate::scenario::poll::until(bound, std::time::Duration::from_millis(100), async || {
            // a fresh subject per token (mint_fresh), so no per-subject limit interferes
            let token = super::mint_fresh(world, &kid, claims.clone()).await;
            let req = McpRequest {
                url: url.clone(),
                bearer: Some(&token),
                headers: Vec::new(),
            };
            let ex = mcp_client::post(&world.http, &req, None, &mcp_client::initialize(1)).await;
            let accepted = is_accepted(&ex);
            last = Some(ex);
            if accepted {
                crate::scenario::poll::Attempt::Reached
            } else {
                crate::scenario::poll::Attempt::NotYet
            }
        })
        .await;
    if let Some(ex) = last {
        w.exchanges.push(ex);
    }
    w.state.poll = Some(crate::scenario::state::PollResult {
        reached: polled.reached,
        elapsed: polled.elapsed,
        bound,
        fetches: 0,
        requests: polled.attempts,
    });
}

#[then(
    regex = r"^an MCP access token signed by the new key was accepted within two declared cooldowns plus the margin$"
)]
async fn new_key_accepted(w: &mut XauthWorld) {
    let Some(p) = w.state.poll.clone() else {
        w.harness_error("no poll ran before this step")
    };
    if !p.reached {
        let kid = w.state.rotation.new.clone().unwrap_or_default();
        w.fail(
            &format!(
                "an MCP access token signed by the newly rotated key {kid} accepted within two declared cooldowns ({} s each) plus {} s ({} requests over {:.1} s were refused)",
                super::cooldown(w).as_secs(),
                super::MARGIN.as_secs(),
                p.requests,
                p.elapsed.as_secs_f64()
            ),
            &[],
        );
    }
}

#[when(
    regex = r"^I send it to the MCP endpoint in a concurrent burst of 3 times the declared limit plus 10$"
)]
async fn mcp_burst(w: &mut XauthWorld) {
    let limit = u64::from(w.ctx.profile.rate_limit.requests.get());
    let n = 3 * limit + 10;
    if n > super::rate_limit::MAX_BURST {
        w.harness_error(format!(
            "the declared limit {limit} needs a burst of {n} requests, more than this suite sends"
        ));
    }
    let token = w.current().compact.clone();
    let req = McpRequest {
        url: endpoint(w),
        bearer: Some(&token),
        headers: Vec::new(),
    };
    let body = mcp_client::initialize(1);
    let client = w.http.clone();
    let answers: Vec<Exchange> =
        futures::future::join_all((0..n).map(|_| mcp_client::post(&client, &req, None, &body)))
            .await;
    w.state.series = answers;
}

#[then(
    regex = r"^some requests of the MCP burst were answered 429 RATE_LIMITED and every other one was accepted$"
)]
async fn mcp_burst_limited(w: &mut XauthWorld) {
    let answers = std::mem::take(&mut w.state.series);
    let limited = answers
        .iter()
        .filter(|ex| response(ex).is_some_and(|r| r.status == 429))
        .count();
    let other = answers
        .iter()
        .find(|ex| !is_accepted(ex) && response(ex).is_none_or(|r| r.status != 429))
        .cloned();
    if let Some(ex) = other {
        w.fail(
            "2xx or 429 for every request of a valid token's burst",
            &[&ex],
        );
    }
    if limited == 0 {
        let last = answers.last().cloned();
        w.fail(
            &format!(
                "429 RATE_LIMITED for some of {} concurrent requests (declared: {} per {} s): the MCP endpoint is guarded by the same limits as the API",
                answers.len(),
                w.ctx.profile.rate_limit.requests,
                w.ctx.profile.rate_limit.window_seconds
            ),
            last.as_ref().map(|e| vec![e]).unwrap_or_default().as_slice(),
        );
    }
}

// ---- PATs on the MCP endpoint -------------------------------------------------------------

#[given(regex = r"^the user created a PAT (with|without) the MCP scope$")]
async fn pat_for_mcp(w: &mut XauthWorld, with: String) {
    let scope = if with == "with" {
        w.ctx.profile.mcp.scope.clone()
    } else {
        w.ctx.profile.pat.protected_scope.clone()
    };
    super::pat::create_with_scope(w, &scope).await;
}

#[then(regex = r"^the MCP request is not accepted$")]
async fn mcp_not_accepted(w: &mut XauthWorld) {
    let ex = last(w);
    if is_accepted(&ex) {
        w.fail(
            "anything but a 2xx: the token must not open the MCP endpoint",
            &[&ex],
        );
    }
}
