//! The admin user API: `GET/POST /admin/users`, `GET/DELETE /admin/users/{user_id}`, with the
//! service_role key (or any JWT with an admin role) as the bearer.

use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::auth::{request_aud, require_admin};
use super::errors::ApiError;
use super::extract::{ApiKey, parse_json, read_body};
use super::models::UserRecord;
use super::store::{NewUser, validate_email, validate_phone};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct AdminUserParams {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    aud: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    password_hash: Option<String>,
    #[serde(default)]
    email_confirm: Option<bool>,
    #[serde(default)]
    phone_confirm: Option<bool>,
    #[serde(default)]
    user_metadata: Option<Map<String, Value>>,
    #[serde(default)]
    app_metadata: Option<Map<String, Value>>,
    #[serde(default)]
    ban_duration: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct DeleteParams {
    #[serde(default)]
    #[allow(dead_code)]
    should_soft_delete: Option<bool>,
}

fn user_response(user: &UserRecord) -> Response {
    axum::Json(user.to_json()).into_response()
}

/// Go's `time.ParseDuration`, in seconds.
pub fn parse_go_duration(text: &str) -> Option<f64> {
    let (sign, mut rest) = match text.as_bytes().first()? {
        b'-' => (-1.0, &text[1..]),
        b'+' => (1.0, &text[1..]),
        _ => (1.0, text),
    };
    if rest == "0" {
        return Some(0.0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..number_len];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return None;
        }
        let value: f64 = number.parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += value * scale;
    }
    (total.is_finite() && total.abs() < 9.2e9).then_some(sign * total)
}

/// `POST /admin/users`.
pub async fn create(
    _key: ApiKey,
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, ApiError> {
    let claims = require_admin(&state, &headers)?;
    let bytes = read_body(request.into_body(), state.config.max_body_bytes).await?;
    let params: AdminUserParams = parse_json(&bytes)?;
    let aud = params
        .aud
        .clone()
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| request_aud(&headers, Some(&claims)));
    let email = params.email.unwrap_or_default();
    let phone = params.phone.unwrap_or_default();
    if email.is_empty() && phone.is_empty() {
        return Err(ApiError::bad_request(
            "validation_failed",
            "Cannot create a user without either an email or phone",
        ));
    }
    let email = if email.is_empty() {
        email
    } else {
        validate_email(&email)?
    };
    let phone = if phone.is_empty() {
        phone
    } else {
        validate_phone(&phone)?
    };
    let password_hash = params.password_hash.unwrap_or_default();
    if params.password.is_some() && !password_hash.is_empty() {
        return Err(ApiError::bad_request(
            "validation_failed",
            "Only a password or a password hash should be provided",
        ));
    }
    if !password_hash.is_empty() {
        return Err(ApiError::bad_request(
            "validation_failed",
            "password_hash is not supported by this issuer; send password instead",
        ));
    }
    let password = match params.password.filter(|p| !p.is_empty()) {
        Some(p) if p.len() > 72 => {
            return Err(ApiError::bad_request(
                "validation_failed",
                "bcrypt: password length exceeds 72 bytes",
            ));
        }
        Some(p) => p,
        None => {
            let mut rng = rand::thread_rng();
            (0..64)
                .map(|_| char::from(rng.sample(rand::distributions::Alphanumeric)))
                .collect()
        }
    };
    let id = match params.id.filter(|i| !i.is_empty()) {
        Some(text) => {
            let id = Uuid::parse_str(&text).map_err(|_| {
                ApiError::bad_request("validation_failed", "ID must conform to the uuid v4 format")
            })?;
            if id.is_nil() {
                return Err(ApiError::bad_request(
                    "validation_failed",
                    "ID cannot be a nil uuid",
                ));
            }
            Some(id)
        }
        None => None,
    };
    let now = state.clock.now();
    let banned_until = match params.ban_duration.filter(|d| !d.is_empty()) {
        None => None,
        Some(d) if d == "none" => None,
        Some(d) => {
            let seconds = parse_go_duration(&d).ok_or_else(|| {
                ApiError::bad_request(
                    "validation_failed",
                    format!("invalid format for ban duration: time: invalid duration {d:?}"),
                )
            })?;
            let micros = (seconds * 1e6) as i64;
            Some(now + chrono::Duration::microseconds(micros))
        }
    };
    let user = state.auth.admin_create(
        NewUser {
            id,
            aud,
            role: params.role,
            email,
            phone,
            password: Some(password),
            email_confirm: params.email_confirm.unwrap_or(false),
            phone_confirm: params.phone_confirm.unwrap_or(false),
            user_metadata: params.user_metadata,
            app_metadata: params.app_metadata,
            banned_until,
        },
        now,
    )?;
    Ok(user_response(&user))
}

fn parse_page(query: &Option<String>, name: &str, default: u64) -> Result<u64, ApiError> {
    let value = query.as_deref().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    });
    match value {
        None => Ok(default),
        Some(v) if v.is_empty() => Ok(default),
        Some(v) => v.parse::<u64>().map_err(|_| {
            ApiError::bad_request(
                "validation_failed",
                format!(
                    "Bad Pagination Parameters: strconv.ParseUint: parsing {v:?}: invalid syntax"
                ),
            )
        }),
    }
}

/// `GET /admin/users?page=&per_page=`: `{"users":[…],"aud":…}` with `X-Total-Count` and `Link`.
pub async fn list(
    _key: ApiKey,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let claims = require_admin(&state, &headers)?;
    let aud = request_aud(&headers, Some(&claims));
    let page = parse_page(&query, "page", 1)?.max(1);
    let per_page = parse_page(&query, "per_page", 50)?.clamp(1, 1000);
    let users = state.auth.admin_list(&aud);
    let total = users.len() as u64;
    let start = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
    let end = start.saturating_add(usize::try_from(per_page).unwrap_or(usize::MAX));
    let slice: Vec<_> = users
        .iter()
        .skip(start)
        .take(end - start)
        .map(UserRecord::to_json)
        .collect();
    let mut response = axum::Json(json!({"users": slice, "aud": aud})).into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&total.to_string()) {
        h.insert("x-total-count", v);
    }
    let mut links = Vec::new();
    if total > 0 {
        let last = total.div_ceil(per_page);
        let base = format!("{}/admin/users", state.config.issuer());
        if page < last {
            links.push(format!(
                "<{base}?page={}&per_page={per_page}>; rel=\"next\"",
                page + 1
            ));
        }
        links.push(format!(
            "<{base}?page={last}&per_page={per_page}>; rel=\"last\""
        ));
    }
    if let Ok(v) = HeaderValue::from_str(&links.join(", ")) {
        h.insert("link", v);
    }
    Ok(response)
}

fn load_user(state: &AppState, id: &str) -> Result<UserRecord, ApiError> {
    let id = Uuid::parse_str(id)
        .map_err(|_| ApiError::not_found("validation_failed", "user_id must be an UUID"))?;
    state
        .auth
        .get_user(id)
        .ok_or_else(|| ApiError::not_found("user_not_found", "User not found"))
}

/// `GET /admin/users/{user_id}`.
pub async fn get(
    _key: ApiKey,
    State(state): State<AppState>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require_admin(&state, &headers)?;
    let user = load_user(&state, &user_id)?;
    Ok(user_response(&user))
}

/// `DELETE /admin/users/{user_id}`: 200 `{}`; the user's sessions go with it.
pub async fn delete(
    _key: ApiKey,
    State(state): State<AppState>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, ApiError> {
    require_admin(&state, &headers)?;
    let user = load_user(&state, &user_id)?;
    let bytes = read_body(request.into_body(), state.config.max_body_bytes).await?;
    if !bytes.is_empty() {
        let _: DeleteParams = parse_json(&bytes)?;
    }
    state.auth.delete_user(user.id);
    Ok(axum::Json(json!({})).into_response())
}

#[cfg(test)]
mod tests {
    use super::parse_go_duration;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("24h"), Some(86400.0));
        assert_eq!(parse_go_duration("1h30m"), Some(5400.0));
        assert_eq!(parse_go_duration("1.5s"), Some(1.5));
        assert_eq!(parse_go_duration("0"), Some(0.0));
        assert_eq!(parse_go_duration("-1m"), Some(-60.0));
        assert_eq!(parse_go_duration("abc"), None);
        assert_eq!(parse_go_duration("10"), None);
        assert_eq!(parse_go_duration(""), None);
        assert_eq!(parse_go_duration("1x"), None);
    }
}
