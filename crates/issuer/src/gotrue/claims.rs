//! GoTrue's access-token claims: the member order ([`CLAIM_ORDER`]) and the one builder
//! ([`AccessTokenClaims`]).
//!
//! Both the real grants (`token.rs`) and the `mint` template (`crate::mint`) build their claims
//! here, so a minted token carries exactly the claim names, in exactly the order, of a token the
//! password grant issues; only the values (a fresh user, or the signed-in one) differ.

use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::models::AmrEntry;
use super::store::Grant;

/// GoTrue's access-token claim order (Go struct order); other members follow in map order.
pub const CLAIM_ORDER: [&str; 16] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "email",
    "phone",
    "app_metadata",
    "user_metadata",
    "role",
    "aal",
    "amr",
    "session_id",
    "is_anonymous",
];

/// Everything one GoTrue access token says: who, for which session, issued when.
#[derive(Debug, Clone)]
pub struct AccessTokenClaims<'a> {
    /// `iss`: `<public_url>/auth/v1`.
    pub issuer: &'a str,
    /// `sub`: the user's id.
    pub sub: Uuid,
    /// `aud`: the user's audience (`authenticated` by default).
    pub aud: &'a str,
    /// `iat`, unix seconds (the issuer's clock).
    pub issued_at: i64,
    /// Seconds from `iat` to `exp` (may be negative for a minted token).
    pub ttl: i64,
    /// `email`: the user's email address (empty for a phone-only user).
    pub email: &'a str,
    /// `phone`: the user's phone number in E.164 digits (empty for an email-only user).
    pub phone: &'a str,
    /// `app_metadata`: provider information only the server sets (`provider`, `providers`).
    pub app_metadata: &'a Map<String, Value>,
    /// `user_metadata`: the user's own data from signup and `PUT /user`.
    pub user_metadata: &'a Map<String, Value>,
    /// `role`: the Postgres role requests run as (`authenticated` by default).
    pub role: &'a str,
    /// `aal`: the session's authenticator assurance level (`aal1`).
    pub aal: &'a str,
    /// `amr`: how and when the session was authenticated.
    pub amr: &'a [AmrEntry],
    /// `session_id`: the session the token belongs to.
    pub session_id: Uuid,
    /// `is_anonymous`: whether the user signed in anonymously.
    pub is_anonymous: bool,
}

impl<'a> AccessTokenClaims<'a> {
    /// The claims GoTrue issues for `grant` at `now` (unix seconds) with lifetime `ttl`.
    pub fn for_grant(issuer: &'a str, grant: &'a Grant, now: i64, ttl: i64) -> Self {
        let user = &grant.user;
        Self {
            issuer,
            sub: user.id,
            aud: &user.aud,
            issued_at: now,
            ttl,
            email: &user.email,
            phone: &user.phone,
            app_metadata: &user.app_metadata,
            user_metadata: &user.user_metadata,
            role: &user.role,
            aal: &grant.aal,
            amr: &grant.amr,
            session_id: grant.session_id,
            is_anonymous: user.is_anonymous,
        }
    }

    /// The claim set (a JSON object; [`ordered_json`] / [`ordered_members`] give its order).
    pub fn to_map(&self) -> Map<String, Value> {
        let claims = json!({
            "iss": self.issuer,
            "sub": self.sub.to_string(),
            "aud": self.aud,
            "exp": self.issued_at.saturating_add(self.ttl),
            "iat": self.issued_at,
            "email": self.email,
            "phone": self.phone,
            "app_metadata": self.app_metadata,
            "user_metadata": self.user_metadata,
            "role": self.role,
            "aal": self.aal,
            "amr": self.amr,
            "session_id": self.session_id.to_string(),
            "is_anonymous": self.is_anonymous,
        });
        match claims {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    /// The payload text of the token: the claims in GoTrue's order.
    pub fn payload(&self) -> String {
        ordered_json(&self.to_map())
    }
}

/// The members of `claims` in GoTrue's order: [`CLAIM_ORDER`] first, then the rest in map order.
pub fn ordered_members(claims: &Map<String, Value>) -> Vec<(&str, &Value)> {
    let known = CLAIM_ORDER.iter().filter_map(|k| claims.get_key_value(*k));
    let others = claims
        .iter()
        .filter(|(k, _)| !CLAIM_ORDER.contains(&k.as_str()));
    known.chain(others).map(|(k, v)| (k.as_str(), v)).collect()
}

/// Serializes `claims` as compact JSON in GoTrue's member order.
pub fn ordered_json(claims: &Map<String, Value>) -> String {
    object_text(ordered_members(claims))
}

/// Compact JSON object text of `members`, in the order given.
pub fn object_text<K: AsRef<str>, V: std::borrow::Borrow<Value>>(
    members: impl IntoIterator<Item = (K, V)>,
) -> String {
    let mut out = String::with_capacity(512);
    out.push('{');
    for (i, (k, v)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&Value::String(k.as_ref().to_string()).to_string());
        out.push(':');
        out.push_str(&v.borrow().to_string());
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gotrue::models::UserRecord;

    /// The payload the grants produced before the claim builder moved here (captured from the
    /// old `token::access_token_claims` + `keys::gotrue_ordered_json`), byte for byte.
    const BEFORE: &str = r#"{"iss":"http://127.0.0.1:1/auth/v1","sub":"00000000-0000-0000-0000-000000000001","aud":"authenticated","exp":1700003600,"iat":1700000000,"email":"alice@example.com","phone":"+15550001","app_metadata":{"provider":"email","providers":["email"]},"user_metadata":{"alpha":{"a":[1,"x\"y"],"b":2},"zeta":1},"role":"authenticated","aal":"aal1","amr":[{"method":"password","timestamp":1699999999}],"session_id":"00000000-0000-0000-0000-000000000002","is_anonymous":false}"#;

    #[test]
    fn a_grant_gives_the_same_payload_bytes_as_before() {
        let t = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let mut meta = Map::new();
        meta.insert("zeta".into(), json!(1));
        meta.insert("alpha".into(), json!({"b": 2, "a": [1, "x\"y"]}));
        let mut user = UserRecord::new(
            "Alice@Example.com",
            "+15550001",
            None,
            "authenticated",
            meta,
            t,
        );
        user.id = Uuid::from_u128(1);
        user.app_metadata
            .insert("providers".into(), json!(["email"]));
        user.app_metadata.insert("provider".into(), json!("email"));
        let grant = Grant {
            user,
            session_id: Uuid::from_u128(2),
            aal: "aal1".into(),
            amr: vec![AmrEntry {
                method: "password".into(),
                timestamp: 1_699_999_999,
            }],
            refresh_token: "x".into(),
        };
        let claims =
            AccessTokenClaims::for_grant("http://127.0.0.1:1/auth/v1", &grant, 1_700_000_000, 3600);
        assert_eq!(claims.payload(), BEFORE);
    }

    #[test]
    fn unknown_members_follow_the_known_ones_and_keep_map_order() {
        let claims = json!({"zz": 1, "role": "r", "aa": 2, "iss": "i", "nbf": 3});
        let Value::Object(map) = claims else {
            unreachable!()
        };
        assert_eq!(
            ordered_json(&map),
            r#"{"iss":"i","nbf":3,"role":"r","aa":2,"zz":1}"#
        );
    }
}
