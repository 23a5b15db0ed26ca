//! The OAuth server's access token: exactly the claims GoTrue's sessions carry (built by the
//! one claim builder, [`crate::gotrue::claims`]), plus `client_id` and `scope` after them, as
//! GoTrue's `AccessTokenClaims` orders them. Signed with the current key like every access
//! token. With the control API's access-token hook switch on, `aud` becomes the authorization
//! request's RFC 8707 `resource` (when one was given), as a Custom Access Token Hook would.

use serde_json::Value;

use super::SessionBinding;
use crate::gotrue::claims::{AccessTokenClaims, ordered_json};
use crate::gotrue::store::Grant;
use crate::state::AppState;

/// A signed OAuth access token and its lifetime.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The JWT.
    pub token: String,
    /// Seconds until it expires (GoTrue's `JWT_EXP`).
    pub expires_in: i64,
}

/// The claims of an OAuth access token for `grant` in the session `binding`, at `now`.
pub fn claims(
    state: &AppState,
    grant: &Grant,
    binding: &SessionBinding,
    now: i64,
) -> serde_json::Map<String, Value> {
    let issuer = state.config.issuer();
    let mut map =
        AccessTokenClaims::for_grant(&issuer, grant, now, state.config.access_token_ttl).to_map();
    map.insert(
        "client_id".into(),
        Value::String(binding.client_id.to_string()),
    );
    if !binding.scope.is_empty() {
        map.insert("scope".into(), Value::String(binding.scope.clone()));
    }
    if state.oauth.settings.get().access_token_hook
        && let Some(resource) = &binding.resource
    {
        map.insert("aud".into(), Value::String(resource.clone()));
    }
    map
}

/// Signs an OAuth access token for `grant`.
pub fn issue(state: &AppState, grant: &Grant, binding: &SessionBinding) -> Issued {
    let now = state.clock.now_unix();
    let payload = ordered_json(&claims(state, grant, binding, now));
    Issued {
        token: state.keys.sign_access_token(&payload),
        expires_in: state.config.access_token_ttl,
    }
}
