//! Steps of `personal_access_tokens.feature`: an owner created at the issuer with a session,
//! PATs created, listed, revoked and rotated through the implementation's management API as the
//! profile's `[pat]` section declares it, and the checks that follow a state change on every
//! instance of the run (the target and its replicas).
//!
//! Every wait is a bounded poll derived from the profile (`revocation_propagation_seconds`,
//! `owner_check_seconds`, the token's own lifetime) plus [`super::MARGIN`], measured from the
//! state change, so a slow replica gets no more time than the declaration gives it.

use std::time::{Duration, Instant};

use cucumber::{given, then, when};
use serde_json::{Map, Value};

use super::{MARGIN, derived_wait, is_accepted, response, send_bearer};
use crate::forge::pat::{PatVariant, PatWrapping};
use crate::net::evidence::Exchange;
use crate::net::pat_api::{self, IssuedPat, PatApi, TokenRequest};
use crate::profile::pat::Call;
use crate::scenario::params::{ManagementCall, Route};
use crate::scenario::poll::{self, Attempt};
use crate::scenario::state::PatOwner;
use crate::scenario::world::XauthWorld;

/// The lifetime of the PATs the scenarios create when the lifetime does not matter: one day,
/// within the declared bounds.
fn everyday_ttl(p: &crate::profile::Pat) -> u64 {
    86_400
        .min(p.max_ttl_seconds.get())
        .max(p.min_ttl_seconds.get())
}

fn api<'a>(w: &'a XauthWorld, base: &'a url::Url) -> PatApi<'a> {
    PatApi {
        client: &w.http,
        base,
        pat: &w.ctx.profile.pat,
    }
}

fn owner(w: &XauthWorld) -> PatOwner {
    w.state
        .pat
        .owner
        .clone()
        .unwrap_or_else(|| w.harness_error("no PAT owner: a step must create the user first"))
}

fn latest(w: &XauthWorld) -> IssuedPat {
    w.state
        .pat
        .tokens
        .last()
        .cloned()
        .unwrap_or_else(|| w.harness_error("no PAT: a step must create one first"))
}

fn scope(w: &XauthWorld, route: Route) -> String {
    match route {
        Route::Protected => w.ctx.profile.pat.protected_scope.clone(),
        Route::Permission => w.ctx.profile.pat.permission_scope.clone(),
    }
}

fn route_url(w: &XauthWorld, base: &url::Url, route: Route) -> url::Url {
    let path = match route {
        Route::Protected => w.ctx.profile.routes.protected.as_str(),
        Route::Permission => w.ctx.profile.routes.permission.path.as_str(),
    };
    crate::net::urls::join(base, path)
}

/// Records a management answer as the scenario's last exchange.
fn record(w: &mut XauthWorld, ex: Exchange) {
    w.state.pat.management = Some(ex.clone());
    w.exchanges.push(ex);
}

/// A management request built from the profile's template, or a harness error naming it.
fn rendered(
    w: &XauthWorld,
    ex: Result<Exchange, crate::profile::pat::TemplateError>,
    field: &str,
) -> Exchange {
    ex.unwrap_or_else(|e| w.harness_error(format!("{field}: {e}")))
}

/// Records a create or rotate answer: the token it issued as declared, or a verdict.
fn expect_issued(w: &mut XauthWorld, ex: Exchange, call: &Call, what: &str) -> IssuedPat {
    let issued = pat_api::issued(&ex, call);
    record(w, ex);
    issued.unwrap_or_else(|| {
        w.fail(
            &format!(
                "2xx from the declared {what} call ({} {}) with the new token at {} and its id at {}",
                call.method,
                call.path,
                call.token_pointer.as_str(),
                call.id_pointer.as_str()
            ),
            &[],
        )
    })
}

/// Makes `pat` the token the generic steps send.
fn make_current(w: &mut XauthWorld, pat: &IssuedPat, how: String) {
    w.token = None;
    w.set_token_text(pat.secret.clone(), how, false);
}

// ---- the owner ----------------------------------------------------------------------------

#[given(regex = r"^(a|a privileged) user with a session at the issuer$")]
async fn owner_with_session(w: &mut XauthWorld, which: String) {
    let extra = if which == "a privileged" {
        w.ctx.profile.pat.privileged_owner.clone()
    } else {
        Map::new()
    };
    let email = format!("xauth-pat-{}@example.test", uuid::Uuid::new_v4().simple());
    let password = format!("Pw-{}", uuid::Uuid::new_v4().simple());
    let user = match w.issuer.create_user_with(&email, &password, &extra).await {
        Ok(u) => u,
        Err(e) => w.harness_error(e),
    };
    let Some(user_id) = user.get("id").and_then(Value::as_str).map(str::to_owned) else {
        w.harness_error(format!(
            "the issuer's admin API answered a user without an id: {user}"
        ))
    };
    let session = match w.issuer.sign_in_with_password(&email, &password).await {
        Ok(s) => s,
        Err(e) => w.harness_error(e),
    };
    let Some(access) = session
        .get("access_token")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        w.harness_error("the issuer's password grant answered no access_token")
    };
    w.subject = user_id.clone();
    w.state.pat.owner = Some(PatOwner {
        user_id,
        session: access,
    });
}

#[when(regex = r"^the user is deleted at the issuer$")]
async fn delete_owner(w: &mut XauthWorld) {
    let id = owner(w).user_id;
    if let Err(e) = w.issuer.delete_user(&id).await {
        w.harness_error(e);
    }
    w.state.pat.changed_at = Some(Instant::now());
}

// ---- creating -----------------------------------------------------------------------------

/// Creates a PAT for `route` with the session; a call that does not issue one as declared
/// fails the step.
async fn create(w: &mut XauthWorld, route: Route, ttl: u64) -> IssuedPat {
    let scope = scope(w, route);
    create_scoped(w, scope, ttl).await
}

/// Creates a PAT with `scope` (living a day) with the session: the MCP family's PATs.
pub async fn create_with_scope(w: &mut XauthWorld, scope: &str) -> IssuedPat {
    let ttl = everyday_ttl(&w.ctx.profile.pat);
    create_scoped(w, scope.to_owned(), ttl).await
}

async fn create_scoped(w: &mut XauthWorld, scope: String, ttl: u64) -> IssuedPat {
    let session = owner(w).session;
    let name = format!("xauth-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let target = w.ctx.target.clone();
    let req = TokenRequest {
        name: &name,
        scopes: &[scope.as_str()],
        ttl_seconds: ttl,
    };
    let ex = api(w, &target).create(Some(&session), &req).await;
    let ex = rendered(w, ex, "pat.create.body");
    let call = w.ctx.profile.pat.create.clone();
    let pat = expect_issued(w, ex, &call, "create");
    if !pat.secret.starts_with(&w.ctx.profile.pat.prefix) {
        w.fail(
            &format!(
                "a new token that starts with the declared prefix {:?}",
                w.ctx.profile.pat.prefix
            ),
            &[],
        );
    }
    w.state.pat.tokens.push(pat.clone());
    w.state.pat.ttl_seconds = Some(ttl);
    w.state.pat.created_at = Some(Instant::now());
    w.state.pat.created_unix = Some(crate::scenario::world::now_unix());
    make_current(
        w,
        &pat,
        format!(
            "the PAT {} created with the scope {scope:?}, living {ttl} s",
            pat.id
        ),
    );
    pat
}

#[given(expr = "the user created a PAT with the {route} scope")]
async fn created(w: &mut XauthWorld, route: Route) {
    let ttl = everyday_ttl(&w.ctx.profile.pat);
    create(w, route, ttl).await;
}

#[given(expr = "the user created another PAT with the {route} scope")]
async fn created_another(w: &mut XauthWorld, route: Route) {
    created(w, route).await;
}

#[given(
    regex = r"^the user created a PAT with the protected scope that lives the shortest declared lifetime$"
)]
async fn created_short(w: &mut XauthWorld) {
    let Some(ttl) = w.ctx.profile.pat.short_ttl() else {
        w.harness_error("the profile declares no short PAT lifetime (@needs-pat-short-ttl)")
    };
    create(w, Route::Protected, ttl).await;
}

/// Asks for a PAT and records the answer, whatever it is.
async fn ask(w: &mut XauthWorld, route: Route, ttl: u64) {
    let session = owner(w).session;
    let scope = scope(w, route);
    let target = w.ctx.target.clone();
    let req = TokenRequest {
        name: "xauth-asked",
        scopes: &[scope.as_str()],
        ttl_seconds: ttl,
    };
    let ex = api(w, &target).create(Some(&session), &req).await;
    let ex = rendered(w, ex, "pat.create.body");
    if let Some(pat) = pat_api::issued(&ex, &w.ctx.profile.pat.create) {
        make_current(
            w,
            &pat,
            format!("the PAT {} created with the scope {scope:?}", pat.id),
        );
        w.state.pat.tokens.push(pat);
    }
    record(w, ex);
}

#[when(expr = "the user asks for a PAT with the {route} scope")]
async fn asks(w: &mut XauthWorld, route: Route) {
    let ttl = everyday_ttl(&w.ctx.profile.pat);
    ask(w, route, ttl).await;
}

#[when(
    regex = r"^the user asks for a PAT with the protected scope living one day longer than the declared maximum$"
)]
async fn asks_too_long(w: &mut XauthWorld) {
    let ttl = w
        .ctx
        .profile
        .pat
        .max_ttl_seconds
        .get()
        .saturating_add(86_400);
    ask(w, Route::Protected, ttl).await;
}

// ---- listing, revoking, rotating ----------------------------------------------------------

async fn list(w: &mut XauthWorld) -> Value {
    let session = owner(w).session;
    let target = w.ctx.target.clone();
    let ex = api(w, &target).list(Some(&session)).await;
    let body = response(&ex)
        .filter(|r| (200..300).contains(&r.status))
        .and_then(|r| r.json());
    record(w, ex);
    match body {
        Some(b) if pat_api::listed(&b, &w.ctx.profile.pat).is_some() => b,
        _ => w.fail(
            &format!(
                "2xx from the declared list call (GET {}) with an array of tokens at {}",
                w.ctx.profile.pat.list.path,
                w.ctx.profile.pat.list.items_pointer.as_str()
            ),
            &[],
        ),
    }
}

#[when(regex = r"^the user lists their PATs$")]
async fn lists(w: &mut XauthWorld) {
    list(w).await;
}

#[then(regex = r"^the list answer names both PATs and contains neither secret$")]
async fn list_has_no_secret(w: &mut XauthWorld) {
    let Some(ex) = w.state.pat.management.clone() else {
        w.harness_error("no list answer")
    };
    let text = response(&ex)
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .unwrap_or_default();
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let prefix = w.ctx.profile.pat.prefix.clone();
    for pat in w.state.pat.tokens.clone() {
        let secret_part = pat.secret.strip_prefix(&prefix).unwrap_or(&pat.secret);
        if text.contains(&pat.secret) || (secret_part.len() >= 16 && text.contains(secret_part)) {
            w.fail(
                &format!(
                    "a list answer without any token's secret (it carries the secret of {})",
                    pat.id
                ),
                &[&ex],
            );
        }
        if pat_api::listed_item(&body, &w.ctx.profile.pat, &pat.id).is_none() {
            w.fail(
                &format!(
                    "the token {} listed (an object whose {} is its id)",
                    pat.id,
                    w.ctx.profile.pat.list.id_pointer.as_str()
                ),
                &[&ex],
            );
        }
    }
}

#[when(regex = r"^the user revokes the PAT$")]
async fn revokes(w: &mut XauthWorld) {
    let session = owner(w).session;
    let pat = latest(w);
    let target = w.ctx.target.clone();
    let ex = api(w, &target).revoke(Some(&session), &pat.id).await;
    let ex = rendered(w, ex, "pat.revoke.body");
    let ok = is_accepted(&ex);
    record(w, ex);
    if !ok {
        w.fail(
            &format!(
                "2xx from the declared revoke call ({} {})",
                w.ctx.profile.pat.revoke.method, w.ctx.profile.pat.revoke.path
            ),
            &[],
        );
    }
    w.state.pat.changed_at = Some(Instant::now());
}

#[when(regex = r"^the user rotates the PAT$")]
async fn rotates(w: &mut XauthWorld) {
    let session = owner(w).session;
    let old = latest(w);
    let scope = w.ctx.profile.pat.protected_scope.clone();
    let ttl = everyday_ttl(&w.ctx.profile.pat);
    let target = w.ctx.target.clone();
    let req = TokenRequest {
        name: "xauth-rotated",
        scopes: &[scope.as_str()],
        ttl_seconds: ttl,
    };
    let ex = api(w, &target).rotate(Some(&session), &old.id, &req).await;
    let ex = rendered(w, ex, "pat.rotate.body");
    let call = w.ctx.profile.pat.rotate.clone();
    let new = expect_issued(w, ex, &call, "rotate");
    if new.secret == old.secret {
        w.fail(
            "a new secret from the rotation (it answered the old one)",
            &[],
        );
    }
    w.state.pat.changed_at = Some(Instant::now());
    w.state.pat.previous = Some(old);
    make_current(
        w,
        &new,
        format!("the PAT {} from rotating the previous one", new.id),
    );
    w.state.pat.tokens.push(new);
}

// ---- checks on every instance -------------------------------------------------------------

#[given(regex = r"^the PAT is accepted on the protected route of every replica$")]
#[then(regex = r"^the PAT is accepted on the protected route of every replica$")]
async fn accepted_everywhere(w: &mut XauthWorld) {
    let pat = latest(w);
    let instances: Vec<url::Url> = w.ctx.instances().cloned().collect();
    for base in instances {
        let ex = send_bearer(&w.http, route_url(w, &base, Route::Protected), &pat.secret).await;
        let ok = is_accepted(&ex);
        w.exchanges.push(ex);
        if !ok {
            w.fail(&format!("2xx for the live PAT at {base}"), &[]);
        }
    }
}

/// Which token a "refused everywhere" step is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Latest,
    Previous,
}

/// Polls every instance until the token is refused (a 4xx other than 429), within `declared`
/// (plus the margin when it is not zero) from the state change.
async fn refused_everywhere(w: &mut XauthWorld, which: Which, declared: Duration, what: &str) {
    let pat = match which {
        Which::Latest => latest(w),
        Which::Previous => w
            .state
            .pat
            .previous
            .clone()
            .unwrap_or_else(|| w.harness_error("no rotated PAT")),
    };
    let bound = if declared.is_zero() {
        Duration::ZERO
    } else {
        derived_wait(w, what, declared).await
    };
    let since = w.state.pat.changed_at.unwrap_or_else(Instant::now);
    let instances: Vec<url::Url> = w.ctx.instances().cloned().collect();
    for base in instances {
        let url = route_url(w, &base, Route::Protected);
        let left = bound.saturating_sub(since.elapsed());
        let mut last = None;
        let http = w.http.clone();
        let polled = poll::until(left, Duration::from_millis(250), async || {
            let ex = send_bearer(&http, url.clone(), &pat.secret).await;
            let refused =
                response(&ex).is_some_and(|r| (400..500).contains(&r.status) && r.status != 429);
            last = Some(ex);
            if refused {
                Attempt::Reached
            } else {
                Attempt::NotYet
            }
        })
        .await;
        let Some(ex) = last else {
            w.harness_error("no request was sent")
        };
        w.exchanges.push(ex);
        if !polled.reached {
            w.fail(
                &format!(
                    "the token refused (401) at {base} within {} s of the {what} ({} s declared); it was still not refused after {} request(s)",
                    bound.as_secs(),
                    declared.as_secs(),
                    polled.attempts
                ),
                &[],
            );
        }
    }
}

#[then(
    regex = r"^the (PAT|previous PAT) is refused on every replica within the declared (revocation propagation|owner check)$"
)]
async fn refused_within(w: &mut XauthWorld, which: String, bound: String) {
    let p = &w.ctx.profile.pat;
    let (declared, what) = if bound == "owner check" {
        (p.owner_check_seconds, "owner deletion")
    } else {
        (p.revocation_propagation_seconds, "revocation")
    };
    let which = if which == "PAT" {
        Which::Latest
    } else {
        Which::Previous
    };
    refused_everywhere(w, which, Duration::from_secs(declared), what).await;
}

// ---- lifetime -----------------------------------------------------------------------------

/// Polls the protected route with the latest PAT until it is refused, within its lifetime plus
/// the margin from its creation; `true` when it was refused.
async fn outlive(w: &mut XauthWorld) -> bool {
    let pat = latest(w);
    let ttl = Duration::from_secs(w.state.pat.ttl_seconds.unwrap_or(0));
    let bound = derived_wait(w, "PAT lifetime", ttl).await;
    let since = w.state.pat.created_at.unwrap_or_else(Instant::now);
    let url = route_url(w, &w.ctx.target.clone(), Route::Protected);
    let http = w.http.clone();
    let mut last = None;
    let polled = poll::until(
        bound.saturating_sub(since.elapsed()),
        Duration::from_millis(500),
        async || {
            let ex = send_bearer(&http, url.clone(), &pat.secret).await;
            let refused =
                response(&ex).is_some_and(|r| r.status != 429 && !(200..300).contains(&r.status));
            last = Some(ex);
            if refused {
                Attempt::Reached
            } else {
                Attempt::NotYet
            }
        },
    )
    .await;
    if let Some(ex) = last {
        w.exchanges.push(ex);
    }
    polled.reached
}

#[then(regex = r"^after its lifetime has passed the PAT is refused on the protected route$")]
async fn refused_after_lifetime(w: &mut XauthWorld) {
    if !outlive(w).await {
        let ttl = w.state.pat.ttl_seconds.unwrap_or(0);
        w.fail(
            &format!(
                "the PAT refused once its lifetime of {ttl} s has passed (still accepted {} s after its creation)",
                ttl + MARGIN.as_secs()
            ),
            &[],
        );
    }
}

#[when(regex = r"^its lifetime has passed$")]
async fn lifetime_passed(w: &mut XauthWorld) {
    // Whether it is refused is the next steps' verdict; this only waits, bounded.
    outlive(w).await;
}

#[then(regex = r"^the response is 401 with the declared expired-PAT code$")]
async fn expired_code(w: &mut XauthWorld) {
    let code = w.ctx.profile.pat.expired_code.clone();
    let ex = w.last_exchange().clone();
    if !super::is_error(w, &ex, 401, &code) {
        w.fail(
            &format!(
                "401 with error code {code} at {} (pat.expired_code)",
                w.ctx.profile.error_code_pointer.as_str()
            ),
            &[&ex],
        );
    }
}

// ---- management answers -------------------------------------------------------------------

fn management_status(w: &XauthWorld) -> (Exchange, Option<u16>) {
    let ex = w
        .state
        .pat
        .management
        .clone()
        .unwrap_or_else(|| w.harness_error("no management call was made"));
    let status = response(&ex).map(|r| r.status);
    (ex, status)
}

#[then(regex = r"^the management call is refused with (400|401|401 or 403)$")]
async fn management_refused(w: &mut XauthWorld, expected: String) {
    let (ex, status) = management_status(w);
    let ok = match expected.as_str() {
        "400" => status == Some(400),
        "401" => status == Some(401),
        _ => matches!(status, Some(401 | 403)),
    };
    if !ok {
        w.fail(
            &format!("the management call refused with {expected}"),
            &[&ex],
        );
    }
}

#[then(regex = r"^if the PAT was created, it is not accepted on the permission route$")]
async fn outranking_refused(w: &mut XauthWorld) {
    let (ex, status) = management_status(w);
    match status {
        Some(s) if (400..500).contains(&s) => {} // never created: nothing can outrank
        Some(s) if (200..300).contains(&s) => {
            if w.state.pat.tokens.is_empty() {
                w.fail(
                    "either a refusal (4xx) or the new token at the declared pointers",
                    &[&ex],
                );
            }
            let pat = latest(w);
            let url = route_url(w, &w.ctx.target.clone(), Route::Permission);
            let use_ex = send_bearer(&w.http, url, &pat.secret).await;
            let accepted = is_accepted(&use_ex);
            w.exchanges.push(use_ex);
            if accepted {
                w.fail(
                    "the plain user's PAT refused on the permission route (a token never grants more than its owner)",
                    &[],
                );
            }
        }
        _ => w.fail(
            "a 4xx refusal or a 2xx creation, never a server error",
            &[&ex],
        ),
    }
}

#[when(expr = "I {management_call} with the PAT as bearer")]
async fn manage_with_pat(w: &mut XauthWorld, call: ManagementCall) {
    let pat = latest(w);
    manage(w, call, Some(pat.secret.clone()), &pat.id).await;
}

#[when(regex = r"^I create a PAT without credentials$")]
async fn create_without(w: &mut XauthWorld) {
    manage(w, ManagementCall::Create, None, "").await;
}

async fn manage(w: &mut XauthWorld, call: ManagementCall, bearer: Option<String>, id: &str) {
    let scope = w.ctx.profile.pat.protected_scope.clone();
    let ttl = everyday_ttl(&w.ctx.profile.pat);
    let req = TokenRequest {
        name: "xauth-by-pat",
        scopes: &[scope.as_str()],
        ttl_seconds: ttl,
    };
    let target = w.ctx.target.clone();
    let a = api(w, &target);
    let bearer = bearer.as_deref();
    let ex = match call {
        ManagementCall::Create => a.create(bearer, &req).await,
        ManagementCall::List => Ok(a.list(bearer).await),
        ManagementCall::Rotate => a.rotate(bearer, id, &req).await,
        ManagementCall::Revoke => a.revoke(bearer, id).await,
    };
    match ex {
        Ok(ex) => record(w, ex),
        Err(e) => w.harness_error(e),
    }
}

// ---- tokens built from a PAT --------------------------------------------------------------

#[when(expr = "the token is the PAT with {pat_variant}")]
async fn variant(w: &mut XauthWorld, v: PatVariant) {
    let pat = latest(w);
    let text = v.apply(&pat.secret, &w.ctx.profile.pat.prefix);
    w.set_token_text(text, format!("the PAT with {}", v.phrase()), false);
}

#[when(regex = r"^the token is the PAT prefix followed by the user's session JWT$")]
async fn prefix_and_jwt(w: &mut XauthWorld) {
    let text = format!("{}{}", w.ctx.profile.pat.prefix, owner(w).session);
    w.token = None;
    w.set_token_text(
        text,
        "the PAT prefix followed by the user's valid session JWT",
        false,
    );
}

#[when(
    regex = r"^the token is the PAT prefix followed by the issuer's (anon|service_role) API key$"
)]
async fn prefix_and_api_key(w: &mut XauthWorld, which: String) {
    let key = if which == "anon" {
        w.ctx.issuer.anon_key.clone()
    } else {
        w.ctx.issuer.service_role_key.clone()
    };
    let text = format!("{}{key}", w.ctx.profile.pat.prefix);
    w.token = None;
    w.set_token_text(
        text,
        format!("the PAT prefix followed by the issuer's {which} API key"),
        false,
    );
}

#[when(expr = "the token is the PAT wrapped as {pat_wrapping}")]
async fn wrapped(w: &mut XauthWorld, wrapping: PatWrapping) {
    let pat = latest(w);
    let claims = crate::forge::jws::Jws::parse(&owner(w).session)
        .and_then(|j| j.payload_text())
        .unwrap_or_else(|e| w.harness_error(e));
    let text = wrapping.apply(&pat.secret, &claims);
    w.set_token_text(text, "the PAT wrapped in a JWT", false);
}

// ---- rate limit ---------------------------------------------------------------------------

/// Trials of the shared-budget check: a fixed-window limiter whose window happens to roll over
/// right after the first token's 429 gives the new token a full budget once by chance; three
/// times in a row does not happen by chance, while a budget per token does it every time.
const BUDGET_TRIALS: usize = 3;

/// Concurrent bursts sent to spend an owner's budget before giving up.
const SPEND_ROUNDS: usize = 3;

/// Sends with `secret` until a 429 (bounded); `false` when none came.
async fn spend(w: &mut XauthWorld, base: &url::Url, secret: &str) -> bool {
    let limit = w.ctx.profile.rate_limit.requests.get() as usize;
    let url = route_url(w, base, Route::Protected);
    // Concurrent bursts of the declared limit plus ten: faster than any limiter refills, even
    // on a loaded machine (sequential requests could be refilled one by one).
    for _ in 0..SPEND_ROUNDS {
        let client = w.http.clone();
        let answers: Vec<Exchange> = futures::future::join_all(
            (0..limit + 10).map(|_| send_bearer(&client, url.clone(), secret)),
        )
        .await;
        let mut limited = false;
        for ex in answers {
            match response(&ex).map(|r| r.status) {
                Some(429) => limited = true,
                Some(s) if (200..300).contains(&s) => {}
                _ => {
                    w.exchanges.push(ex);
                    w.fail(
                        "2xx for the live PAT until its owner's budget is spent, then 429",
                        &[],
                    )
                }
            }
            w.exchanges.push(ex);
        }
        if limited {
            return true;
        }
    }
    false
}

#[when(
    regex = r"^I spend the owner's budget with that PAT, then send the declared limit's worth of requests at once with a new PAT of the same owner$"
)]
async fn spend_then_burst(w: &mut XauthWorld) {
    let first = latest(w);
    let limit = w.ctx.profile.rate_limit.requests.get() as usize;
    let target = w.ctx.target.clone();
    // With a limit declared shared across replicas, the new token's burst goes to a replica:
    // one budget per owner across tokens and instances.
    let burst_base = match (
        w.ctx.profile.rate_limit.shared_across_replicas,
        w.ctx.replicas.first(),
    ) {
        (true, Some(r)) => r.clone(),
        _ => target.clone(),
    };
    // Created before any budget is spent: the management calls count against the owner too.
    let mut fresh_tokens = Vec::new();
    for _ in 0..BUDGET_TRIALS {
        fresh_tokens.push(create(w, Route::Protected, everyday_ttl(&w.ctx.profile.pat)).await);
    }
    let mut accepted_per_trial = Vec::new();
    for fresh in fresh_tokens {
        if !spend(w, &target, &first.secret).await {
            w.fail(
                &format!(
                    "429 RATE_LIMITED within {SPEND_ROUNDS} concurrent bursts of {} requests (declared: {limit} per {} s)",
                    limit + 10,
                    w.ctx.profile.rate_limit.window_seconds
                ),
                &[],
            );
        }
        let url = route_url(w, &burst_base, Route::Protected);
        let client = w.http.clone();
        let answers: Vec<Exchange> = futures::future::join_all(
            (0..limit).map(|_| send_bearer(&client, url.clone(), &fresh.secret)),
        )
        .await;
        let accepted = answers.iter().filter(|ex| is_accepted(ex)).count();
        if let Some(last) = answers.into_iter().last() {
            w.exchanges.push(last);
        }
        accepted_per_trial.push(accepted);
        if accepted < limit {
            break;
        }
    }
    w.state.pat.budget_trials = accepted_per_trial;
}

#[then(regex = r"^fewer than the declared limit of the new PAT's requests are accepted$")]
async fn new_pat_limited(w: &mut XauthWorld) {
    let limit = w.ctx.profile.rate_limit.requests.get() as usize;
    let trials = w.state.pat.budget_trials.clone();
    if trials.last().is_none_or(|&a| a >= limit) {
        w.fail(
            &format!(
                "one budget per owner: right after the first PAT got 429, fewer than {limit} of {limit} concurrent requests with a new PAT of the same owner accepted; in {} trial(s) all were (accepted per trial: {trials:?}), so every new token buys a new budget",
                trials.len()
            ),
            &[],
        );
    }
}

// ---- last use -----------------------------------------------------------------------------

async fn last_used(w: &mut XauthWorld) -> Option<i64> {
    let pat = latest(w);
    let body = list(w).await;
    let item = pat_api::listed_item(&body, &w.ctx.profile.pat, &pat.id).cloned();
    let Some(item) = item else {
        w.fail(&format!("the token {} in the list", pat.id), &[])
    };
    match pat_api::last_used(&item, &w.ctx.profile.pat) {
        Ok(t) => t,
        Err(e) => w.fail(
            &format!(
                "a time at {} (RFC 3339, Unix seconds or null): {e}",
                w.ctx.profile.pat.list.last_used_pointer.as_str()
            ),
            &[],
        ),
    }
}

#[given(regex = r"^the list shows the PAT as never used$")]
async fn never_used(w: &mut XauthWorld) {
    if let Some(t) = last_used(w).await {
        w.fail(
            &format!("no last use before the first request (the list says {t})"),
            &[],
        );
    }
}

#[then(regex = r"^the list shows the PAT as used since it was created$")]
async fn used_since(w: &mut XauthWorld) {
    let created = w.state.pat.created_unix.unwrap_or(0);
    match last_used(w).await {
        // whole-second clocks on both sides
        Some(t) if t >= created - 2 => {}
        other => w.fail(
            &format!(
                "a last use at or after the creation (Unix {created}); the list says {other:?}"
            ),
            &[],
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU64;

    use super::*;

    #[test]
    fn the_everyday_lifetime_is_one_day_within_the_declared_bounds() {
        let mut p = crate::profile::Pat::default();
        assert_eq!(everyday_ttl(&p), 86_400);
        p.max_ttl_seconds = NonZeroU64::new(3_600).unwrap();
        assert_eq!(everyday_ttl(&p), 3_600);
        p.max_ttl_seconds = NonZeroU64::new(400 * 86_400).unwrap();
        p.min_ttl_seconds = NonZeroU64::new(172_800).unwrap();
        assert_eq!(everyday_ttl(&p), 172_800);
    }
}
