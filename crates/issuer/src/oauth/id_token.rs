//! The OIDC ID token GoTrue's code grant adds when `openid` was granted (`GenerateIDToken`):
//! `aud` = the client id, one hour, `auth_time`, `nonce` when the request had one, and the
//! claims of the granted `email` / `phone` / `profile` scopes. Signed with the key that signs
//! access tokens, so it verifies against the same JWKS.

use serde_json::{Value, json};

use crate::gotrue::claims::object_text;
use crate::gotrue::models::UserRecord;
use crate::state::AppState;

/// ID-token lifetime (GoTrue: one hour, whatever `JWT_EXP` is).
pub const ID_TOKEN_TTL: i64 = 3600;

/// What one ID token says.
#[derive(Debug, Clone, Copy)]
pub struct IdTokenInput<'a> {
    /// The signed-in user.
    pub user: &'a UserRecord,
    /// The client (`aud` and `client_id`).
    pub client_id: uuid::Uuid,
    /// The request's `nonce`, if any.
    pub nonce: Option<&'a str>,
    /// The granted scopes.
    pub scopes: &'a [&'a str],
}

fn text(s: &str) -> Value {
    Value::String(s.to_owned())
}

/// The payload, in the member order of GoTrue's `IDTokenClaims` (with its `omitempty`s).
pub fn payload(state: &AppState, input: &IdTokenInput<'_>, now: i64) -> String {
    let user = input.user;
    let has = |s: &str| input.scopes.contains(&s);
    let meta = |k: &str| {
        user.user_metadata
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let auth_time = user.last_sign_in_at.map_or(now, |t| t.timestamp());
    let mut members: Vec<(&str, Value)> = vec![
        ("iss", text(&state.config.issuer())),
        ("sub", text(&user.id.to_string())),
        ("aud", text(&input.client_id.to_string())),
        ("exp", json!(now.saturating_add(ID_TOKEN_TTL))),
        ("iat", json!(now)),
    ];
    if let Some(nonce) = input.nonce.filter(|n| !n.is_empty()) {
        members.push(("nonce", text(nonce)));
    }
    members.push(("auth_time", json!(auth_time)));
    if has("email") && !user.email.is_empty() {
        members.push(("email", text(&user.email)));
    }
    members.push((
        "email_verified",
        json!(has("email") && user.email_confirmed_at.is_some()),
    ));
    if has("phone") && !user.phone.is_empty() {
        members.push(("phone_number", text(&user.phone)));
    }
    members.push((
        "phone_number_verified",
        json!(has("phone") && user.phone_confirmed_at.is_some()),
    ));
    if has("profile") {
        let name = meta("name").or((!user.email.is_empty()).then_some(user.email.as_str()));
        if let Some(name) = name {
            members.push(("name", text(name)));
        }
        if let Some(picture) = meta("picture").or_else(|| meta("avatar_url")) {
            members.push(("picture", text(picture)));
        }
        if user.updated_at.timestamp() > 0 {
            members.push(("updated_at", json!(user.updated_at.timestamp())));
        }
        if let Some(username) = meta("preferred_username").or_else(|| meta("username")) {
            members.push(("preferred_username", text(username)));
        }
    }
    members.push(("client_id", text(&input.client_id.to_string())));
    object_text(members)
}

/// A signed ID token.
pub fn issue(state: &AppState, input: &IdTokenInput<'_>) -> String {
    let now = state.clock.now_unix();
    state.keys.sign_access_token(&payload(state, input, now))
}
