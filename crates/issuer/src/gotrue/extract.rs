//! Request extractors: the gateway's `apikey` gate and GoTrue's JSON body parsing.

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use super::errors::ApiError;
use crate::state::AppState;

/// The API gateway's key check (Supabase's Kong `key-auth`): the request must carry the anon
/// or the service_role key in the `apikey` header or query parameter. Relaxed when
/// `require_apikey` is off. Rejections use the gateway's shape, not GoTrue's.
#[derive(Debug, Clone, Copy)]
pub struct ApiKey;

/// Why the gateway refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKeyRejection {
    /// No `apikey` header or query parameter.
    Missing,
    /// A key that is neither the anon nor the service_role key.
    Invalid,
}

impl IntoResponse for ApiKeyRejection {
    fn into_response(self) -> Response {
        let body = match self {
            Self::Missing => serde_json::json!({
                "message": "No API key found in request",
                "hint": "No `apikey` request header or url param was found."
            }),
            Self::Invalid => serde_json::json!({
                "message": "Invalid API key",
                "hint": "Double check your Supabase `anon` or `service_role` API key."
            }),
        };
        (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response()
    }
}

/// The `apikey` a request carries: header first, then the query string.
fn presented_key(parts: &Parts) -> Option<String> {
    if let Some(value) = parts.headers.get("apikey") {
        return Some(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    let query = parts.uri.query()?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "apikey")
        .map(|(_, value)| value.into_owned())
}

fn same(a: &str, b: &str) -> bool {
    !b.is_empty() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

impl FromRequestParts<AppState> for ApiKey {
    type Rejection = ApiKeyRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if !state.config.require_apikey {
            return Ok(ApiKey);
        }
        let key = presented_key(parts).ok_or(ApiKeyRejection::Missing)?;
        if key.is_empty() {
            return Err(ApiKeyRejection::Missing);
        }
        let known = same(&key, &state.config.anon_key) | same(&key, &state.config.service_role_key);
        if known {
            Ok(ApiKey)
        } else {
            Err(ApiKeyRejection::Invalid)
        }
    }
}

/// The request body parsed as JSON into `T`, the way GoTrue's `retrieveRequestParams` does:
/// bodies over `max_body_bytes` are 413, anything that does not decode into `T` (empty body,
/// bad syntax, wrong types) is 400 `bad_json`; unknown fields are ignored and a JSON `null`
/// body counts as `{}`.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

/// 413 in GoTrue's shape (`retrieveRequestParams` on `http.MaxBytesError`).
pub fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "request_entity_too_large",
        format!("Request body too large (max {limit} bytes)"),
    )
}

/// Reads at most `limit` bytes of `body`.
pub async fn read_body(body: Body, limit: usize) -> Result<bytes::Bytes, ApiError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => Err(too_large(limit)),
        Err(_) => Err(ApiError::bad_request("bad_json", "Could not read body")),
    }
}

/// Parses `bytes` like Go's `json.Unmarshal` into a params struct.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_json("unexpected end of JSON input"));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(ApiError::bad_json)?;
    let value = match value {
        serde_json::Value::Null => serde_json::Value::Object(serde_json::Map::new()),
        serde_json::Value::Object(_) => value,
        other => {
            let kind = match other {
                serde_json::Value::Array(_) => "array",
                serde_json::Value::String(_) => "string",
                serde_json::Value::Number(_) => "number",
                _ => "bool",
            };
            return Err(ApiError::bad_json(format_args!(
                "json: cannot unmarshal {kind} into Go value of type object"
            )));
        }
    };
    serde_json::from_value(value).map_err(ApiError::bad_json)
}

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let limit = state.config.max_body_bytes;
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(too_large(limit));
        }
        let bytes = read_body(request.into_body(), limit).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct P {
        #[serde(default)]
        email: Option<String>,
    }

    #[test]
    fn json_parsing_never_panics_and_matches_go() {
        assert!(parse_json::<P>(b"").is_err());
        assert!(parse_json::<P>(b"[]").is_err());
        assert!(parse_json::<P>(b"[\"a@b.c\"]").is_err());
        assert!(parse_json::<P>(b"\"x\"").is_err());
        assert!(parse_json::<P>(b"{\"email\":5}").is_err());
        assert_eq!(parse_json::<P>(b"null").unwrap().email, None);
        assert_eq!(
            parse_json::<P>(b"{\"email\":\"a@b.c\",\"x\":1}")
                .unwrap()
                .email
                .as_deref(),
            Some("a@b.c")
        );
        let err = parse_json::<P>(b"{").unwrap_err();
        assert_eq!(err.code, "bad_json");
    }
}
