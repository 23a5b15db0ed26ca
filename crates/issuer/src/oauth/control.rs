//! The OAuth part of the control API (`/_control/v1/oauth`, service_role key like the rest):
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `GET /oauth` | | [`OAuthSettings`](super::settings::OAuthSettings) |
//! | `PUT /oauth` | [`OAuthSettingsUpdate`] | [`OAuthSettings`](super::settings::OAuthSettings) |
//! | `DELETE /oauth` | | 204; defaults back (on, registration on, hook off, no auto-approve) |
//! | `POST /oauth/auto-approve` | [`AutoApprove`]: `{"user_id"}` or `{"email"}` | [`OAuthSettings`](super::settings::OAuthSettings); 404 when no such user |
//! | `DELETE /oauth/auto-approve` | | 204; `/authorize` goes to the consent page again |

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::settings::{AutoApprove, OAuthSettingsUpdate};
use crate::gotrue::errors::ApiError;
use crate::gotrue::store::validate_email;
use crate::state::AppState;

fn body<T: DeserializeOwned + Default>(bytes: &Bytes) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(ApiError::bad_json)
}

/// `GET /_control/v1/oauth`.
pub async fn get_settings(State(state): State<AppState>) -> Response {
    axum::Json(state.oauth.settings.get()).into_response()
}

/// `PUT /_control/v1/oauth`.
pub async fn put_settings(
    State(state): State<AppState>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let update: OAuthSettingsUpdate = body(&bytes)?;
    let settings = state.oauth.settings.update(update);
    tracing::info!(?settings, "OAuth server settings changed");
    Ok(axum::Json(settings).into_response())
}

/// `DELETE /_control/v1/oauth`.
pub async fn reset_settings(State(state): State<AppState>) -> StatusCode {
    state.oauth.settings.reset();
    StatusCode::NO_CONTENT
}

/// `POST /_control/v1/oauth/auto-approve`.
pub async fn set_auto_approve(
    State(state): State<AppState>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let request: AutoApprove = body(&bytes)?;
    let user_id = match (request.user_id, request.email) {
        (Some(id), None) => state.auth.get_user(id).map(|u| u.id),
        (None, Some(email)) => {
            let email = validate_email(&email)?;
            state
                .auth
                .admin_list("authenticated")
                .into_iter()
                .find(|u| u.email == email)
                .map(|u| u.id)
        }
        _ => {
            return Err(ApiError::bad_request(
                "validation_failed",
                "give exactly one of user_id and email",
            ));
        }
    };
    let user_id = user_id.ok_or_else(|| ApiError::not_found("user_not_found", "User not found"))?;
    let settings = state.oauth.settings.set_auto_approve(Some(user_id));
    tracing::info!(%user_id, "OAuth authorize auto-approves");
    Ok(axum::Json(settings).into_response())
}

/// `DELETE /_control/v1/oauth/auto-approve`.
pub async fn clear_auto_approve(State(state): State<AppState>) -> StatusCode {
    state.oauth.settings.set_auto_approve(None);
    StatusCode::NO_CONTENT
}
