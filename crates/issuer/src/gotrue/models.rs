//! Users, identities, sessions and refresh tokens, and their GoTrue JSON shapes. (Over 500
//! lines: GoTrue's JSON shapes are wide, and each sits next to the model it renders.)

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// GoTrue's `time.Time` JSON: RFC 3339 with the fraction trimmed of trailing zeros (Postgres
/// keeps microseconds).
pub fn timestamp(t: &DateTime<Utc>) -> String {
    let text = t.to_rfc3339_opts(SecondsFormat::Micros, true);
    // "...:SS.ffffffZ" → trim zeros in the fraction, and the dot if nothing is left.
    match text.rfind('.') {
        Some(dot) => {
            let fraction = text[dot + 1..text.len() - 1].trim_end_matches('0');
            if fraction.is_empty() {
                format!("{}Z", &text[..dot])
            } else {
                format!("{}.{}Z", &text[..dot], fraction)
            }
        }
        None => text,
    }
}

/// Truncates a time to microseconds, as Postgres stores it.
pub fn db_time(t: DateTime<Utc>) -> DateTime<Utc> {
    let micros = t.timestamp_micros();
    DateTime::from_timestamp_micros(micros).unwrap_or(t)
}

mod ts_serde {
    use chrono::{DateTime, Utc};
    use serde::{Serialize, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        super::timestamp(t).serialize(s)
    }

    pub fn option<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::timestamp(t).serialize(s),
            None => s.serialize_none(),
        }
    }
}

/// A salted SHA-256 password hash (a fast hash is right for a test double).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash {
    salt: [u8; 16],
    hash: [u8; 32],
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

impl PasswordHash {
    fn digest(salt: &[u8; 16], password: &str) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(salt);
        hasher.update(password.as_bytes());
        hasher.finalize().into()
    }

    /// Hashes `password` with a fresh random salt.
    pub fn new(password: &str) -> Self {
        let mut salt = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut salt);
        Self {
            hash: Self::digest(&salt, password),
            salt,
        }
    }

    /// Constant-time comparison of `password` against the stored hash.
    pub fn verify(&self, password: &str) -> bool {
        bool::from(Self::digest(&self.salt, password).ct_eq(&self.hash))
    }

    fn encode(&self) -> String {
        format!(
            "sha256${}${}",
            STANDARD_NO_PAD.encode(self.salt),
            STANDARD_NO_PAD.encode(self.hash)
        )
    }

    fn decode(text: &str) -> Option<Self> {
        let mut parts = text.split('$');
        if parts.next()? != "sha256" {
            return None;
        }
        let salt = STANDARD_NO_PAD.decode(parts.next()?).ok()?;
        let hash = STANDARD_NO_PAD.decode(parts.next()?).ok()?;
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            salt: salt.try_into().ok()?,
            hash: hash.try_into().ok()?,
        })
    }
}

impl Serialize for PasswordHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.encode().serialize(s)
    }
}

impl<'de> Deserialize<'de> for PasswordHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::decode(&text).ok_or_else(|| serde::de::Error::custom("bad password hash"))
    }
}

/// One identity of a user (GoTrue's `auth.identities` row).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdentityRecord {
    /// The identity row's own id.
    pub identity_id: Uuid,
    /// The user's id at the provider (for `email` and `phone`, the user id as text).
    pub provider_id: String,
    /// The provider: `email` or `phone`.
    pub provider: String,
    /// What the provider says about the user (`sub`, `email`, `phone`, `*_verified`).
    pub identity_data: Map<String, Value>,
    /// The identity's email address (email identities only).
    pub email: Option<String>,
    /// The last sign-in through this identity.
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// When the identity was linked.
    pub created_at: DateTime<Utc>,
    /// When the identity last changed.
    pub updated_at: DateTime<Utc>,
}

/// A user (GoTrue's `auth.users` row).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserRecord {
    /// The user id (the access token's `sub`).
    pub id: Uuid,
    /// The audience the user belongs to (`authenticated` by default).
    pub aud: String,
    /// The Postgres role the user's tokens carry (`authenticated` by default).
    pub role: String,
    /// The lowercased email address (empty: none).
    pub email: String,
    /// The phone number in E.164 digits (empty: none).
    pub phone: String,
    /// The salted password hash; `None`: no password sign-in.
    pub password: Option<PasswordHash>,
    /// When the email was confirmed; `None`: unconfirmed.
    pub email_confirmed_at: Option<DateTime<Utc>>,
    /// When the phone was confirmed; `None`: unconfirmed.
    pub phone_confirmed_at: Option<DateTime<Utc>>,
    /// The last successful password grant or signup.
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// Server-controlled metadata (`provider`, `providers`, admin-set members).
    pub app_metadata: Map<String, Value>,
    /// User-controlled metadata (signup `data`, `PUT /user`, identity data).
    pub user_metadata: Map<String, Value>,
    /// The user's identities, in the order they were linked.
    pub identities: Vec<IdentityRecord>,
    /// When the user was created.
    pub created_at: DateTime<Utc>,
    /// When the user last changed.
    pub updated_at: DateTime<Utc>,
    /// Until when the user is banned; `None` or past: not banned.
    pub banned_until: Option<DateTime<Utc>>,
    /// Whether the user is anonymous (false for every user this issuer creates).
    pub is_anonymous: bool,
    /// A requested email change awaiting confirmation (`PUT /user`), GoTrue's `email_change`.
    #[serde(default)]
    pub email_change: String,
    /// When that change was requested.
    #[serde(default)]
    pub email_change_sent_at: Option<DateTime<Utc>>,
}

impl UserRecord {
    /// A new, unconfirmed user with GoTrue's defaults for `provider` ("email" or "phone").
    pub fn new(
        email: &str,
        phone: &str,
        password: Option<&str>,
        aud: &str,
        user_metadata: Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: Uuid::new_v4(),
            aud: aud.to_owned(),
            role: "authenticated".to_owned(),
            email: email.to_lowercase(),
            phone: phone.to_owned(),
            password: password.filter(|p| !p.is_empty()).map(PasswordHash::new),
            email_confirmed_at: None,
            phone_confirmed_at: None,
            last_sign_in_at: None,
            app_metadata: Map::new(),
            user_metadata,
            identities: Vec::new(),
            created_at: now,
            updated_at: now,
            banned_until: None,
            is_anonymous: false,
            email_change: String::new(),
            email_change_sent_at: None,
        }
    }

    /// GoTrue's `UpdateUserMetaData`: each key of `updates` is set, or removed when null.
    pub fn merge_user_metadata(&mut self, updates: Map<String, Value>) {
        for (key, value) in updates {
            if value.is_null() {
                self.user_metadata.remove(&key);
            } else {
                self.user_metadata.insert(key, value);
            }
        }
    }

    /// Adds the identity GoTrue's `createNewIdentity` makes for `provider`, and merges its
    /// data into `user_metadata` as GoTrue does.
    pub fn add_identity(&mut self, provider: &str, now: DateTime<Utc>) {
        let mut data = Map::new();
        if provider == "email" {
            data.insert("email".into(), Value::String(self.email.clone()));
        }
        data.insert("email_verified".into(), Value::Bool(false));
        if provider == "phone" {
            data.insert("phone".into(), Value::String(self.phone.clone()));
        }
        data.insert("phone_verified".into(), Value::Bool(false));
        data.insert("sub".into(), Value::String(self.id.to_string()));
        for (k, v) in &data {
            self.user_metadata.insert(k.clone(), v.clone());
        }
        self.identities.push(IdentityRecord {
            identity_id: Uuid::new_v4(),
            provider_id: self.id.to_string(),
            provider: provider.to_owned(),
            email: (provider == "email").then(|| self.email.clone()),
            identity_data: data,
            last_sign_in_at: Some(now),
            created_at: now,
            updated_at: now,
        });
        let providers: Vec<Value> = self
            .identities
            .iter()
            .map(|i| Value::String(i.provider.clone()))
            .collect();
        if let Some(Value::String(first)) = providers.first() {
            self.app_metadata
                .insert("provider".into(), Value::String(first.clone()));
        }
        self.app_metadata
            .insert("providers".into(), Value::Array(providers));
    }

    /// GoTrue's `Confirm`: sets `email_confirmed_at` and `user_metadata.email_verified`.
    pub fn confirm_email(&mut self, now: DateTime<Utc>) {
        self.email_confirmed_at = Some(now);
        self.user_metadata
            .insert("email_verified".into(), Value::Bool(true));
        self.updated_at = now;
    }

    /// GoTrue's `ConfirmPhone`.
    pub fn confirm_phone(&mut self, now: DateTime<Utc>) {
        self.phone_confirmed_at = Some(now);
        self.updated_at = now;
    }

    /// Whether the user is banned at `now`.
    pub fn is_banned(&self, now: DateTime<Utc>) -> bool {
        self.banned_until.is_some_and(|until| until > now)
    }

    /// The GoTrue User JSON.
    pub fn to_json(&self) -> UserJson<'_> {
        let confirmed_at = match (self.email_confirmed_at, self.phone_confirmed_at) {
            (Some(e), Some(p)) => Some(e.min(p)),
            (e, p) => e.or(p),
        };
        UserJson {
            id: self.id,
            aud: &self.aud,
            role: &self.role,
            email: &self.email,
            email_confirmed_at: self.email_confirmed_at,
            phone: &self.phone,
            phone_confirmed_at: self.phone_confirmed_at,
            confirmed_at,
            new_email: (!self.email_change.is_empty()).then_some(self.email_change.as_str()),
            email_change_sent_at: self.email_change_sent_at,
            last_sign_in_at: self.last_sign_in_at,
            app_metadata: &self.app_metadata,
            user_metadata: &self.user_metadata,
            identities: self
                .identities
                .iter()
                .map(|i| IdentityJson {
                    identity_id: i.identity_id,
                    id: &i.provider_id,
                    user_id: self.id,
                    identity_data: &i.identity_data,
                    provider: &i.provider,
                    last_sign_in_at: i.last_sign_in_at,
                    created_at: i.created_at,
                    updated_at: i.updated_at,
                    email: i.email.as_deref(),
                })
                .collect(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            banned_until: self.banned_until,
            is_anonymous: self.is_anonymous,
        }
    }
}

/// GoTrue's `models.Identity` JSON.
#[derive(Debug, Serialize)]
pub struct IdentityJson<'a> {
    /// `identity_id`: the identity row's UUID.
    pub identity_id: Uuid,
    /// `id`: the user's id at the provider (the user id for email and phone).
    pub id: &'a str,
    /// `user_id`: the owning user's UUID.
    pub user_id: Uuid,
    /// `identity_data`: the provider's claims about the user (`sub`, `email`, `*_verified`).
    pub identity_data: &'a Map<String, Value>,
    /// `provider`: `email` or `phone`.
    pub provider: &'a str,
    /// `last_sign_in_at`: RFC 3339 time of the last sign-in through this identity; omitted
    /// when never.
    #[serde(
        serialize_with = "ts_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// `created_at`: RFC 3339 time the identity was linked.
    #[serde(serialize_with = "ts_serde::serialize")]
    pub created_at: DateTime<Utc>,
    /// `updated_at`: RFC 3339 time the identity last changed.
    #[serde(serialize_with = "ts_serde::serialize")]
    pub updated_at: DateTime<Utc>,
    /// `email`: the identity's email address; omitted for phone identities.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<&'a str>,
}

/// GoTrue's `models.User` JSON, fields in GoTrue's order; null fields omitted.
#[derive(Debug, Serialize)]
pub struct UserJson<'a> {
    /// `id`: the user's UUID (the access token's `sub`).
    pub id: Uuid,
    /// `aud`: the audience the user belongs to.
    pub aud: &'a str,
    /// `role`: the Postgres role the user's tokens carry.
    pub role: &'a str,
    /// `email`: the lowercased email address (`""` when none).
    pub email: &'a str,
    /// `email_confirmed_at`: RFC 3339 confirmation time; omitted while unconfirmed.
    #[serde(
        serialize_with = "ts_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub email_confirmed_at: Option<DateTime<Utc>>,
    /// `phone`: the phone number in E.164 digits (`""` when none).
    pub phone: &'a str,
    /// `phone_confirmed_at`: RFC 3339 confirmation time; omitted while unconfirmed.
    #[serde(
        serialize_with = "ts_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub phone_confirmed_at: Option<DateTime<Utc>>,
    /// `confirmed_at`: the earlier of the email and phone confirmation times; omitted if neither.
    #[serde(
        serialize_with = "ts_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub confirmed_at: Option<DateTime<Utc>>,
    /// `new_email`: an email change awaiting confirmation; omitted when none is pending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_email: Option<&'a str>,
    /// `email_change_sent_at`: RFC 3339 time the pending email change was requested.
    #[serde(
        serialize_with = "ts_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub email_change_sent_at: Option<DateTime<Utc>>,
    /// `last_sign_in_at`: RFC 3339 time of the last sign-in; omitted when never.
    #[serde(
        serialize_with = "ts_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// `app_metadata`: server-controlled metadata (`provider`, `providers`, ...).
    pub app_metadata: &'a Map<String, Value>,
    /// `user_metadata`: user-controlled metadata.
    pub user_metadata: &'a Map<String, Value>,
    /// `identities`: the user's linked identities.
    pub identities: Vec<IdentityJson<'a>>,
    /// `created_at`: RFC 3339 creation time.
    #[serde(serialize_with = "ts_serde::serialize")]
    pub created_at: DateTime<Utc>,
    /// `updated_at`: RFC 3339 time of the last change.
    #[serde(serialize_with = "ts_serde::serialize")]
    pub updated_at: DateTime<Utc>,
    /// `banned_until`: RFC 3339 end of the ban; omitted when no ban is set.
    #[serde(
        serialize_with = "ts_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub banned_until: Option<DateTime<Utc>>,
    /// `is_anonymous`: whether the user is anonymous (false for every user this issuer creates).
    pub is_anonymous: bool,
}

/// One `amr` entry of a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmrEntry {
    /// How the session was authenticated (`password`).
    pub method: String,
    /// When, in Unix seconds.
    pub timestamp: i64,
}

/// A session (GoTrue's `auth.sessions` row) with its refresh tokens, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The session id (the access token's `session_id`).
    pub id: Uuid,
    /// The user the session belongs to.
    pub user_id: Uuid,
    /// When the session was created (sign-in).
    pub created_at: DateTime<Utc>,
    /// When the session was last refreshed.
    pub updated_at: DateTime<Utc>,
    /// The session's authenticator assurance level (`aal1`).
    pub aal: String,
    /// How the session was authenticated (the tokens' `amr`).
    pub amr: Vec<AmrEntry>,
    /// Every refresh token issued in this session, oldest first.
    pub refresh_tokens: Vec<String>,
}

/// A v1 refresh token (GoTrue's `auth.refresh_tokens` row).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshTokenRecord {
    /// The opaque 12-character v1 token string the client presents.
    pub token: String,
    /// The user the token refreshes.
    pub user_id: Uuid,
    /// The session the token belongs to.
    pub session_id: Uuid,
    /// The token this one was exchanged for; `None` for a session's first token.
    pub parent: Option<String>,
    /// Whether the token was already exchanged or revoked by reuse detection (it then still
    /// refreshes only while its child is the active token or within the reuse interval).
    pub revoked: bool,
    /// When the token was issued.
    pub created_at: DateTime<Utc>,
    /// Last change; for a revoked token, when it was revoked (the reuse interval counts from here).
    pub updated_at: DateTime<Utc>,
}

/// Alphabet of GoTrue's v1 refresh tokens (lowercase base32).
const BASE32_LOWER: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// A fresh 12-character v1 refresh token.
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| BASE32_LOWER[usize::from(b & 31)] as char)
        .collect()
}

/// GoTrue's refresh-token format check: a 12-character `[a-z0-9]` v1 token or a well-formed
/// v2 token (version 0, session UUID, uvarint counter, 16-byte HMAC, 4-byte SHA-256 checksum).
pub fn refresh_token_well_formed(token: &str) -> bool {
    match token.len() {
        0..=11 => false,
        12 => token
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
        13..=128 => v2_well_formed(token),
        _ => false,
    }
}

fn v2_well_formed(token: &str) -> bool {
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token) else {
        return false;
    };
    if !(38..=46).contains(&bytes.len()) || bytes[0] != 0 {
        return false;
    }
    let (body, checksum) = bytes.split_at(bytes.len() - 4);
    let digest = Sha256::digest(body);
    if digest[..4] != *checksum {
        return false;
    }
    // body = version(1) + uuid(16) + uvarint + hmac(16)
    let varint = &body[17..body.len() - 16];
    !varint.is_empty()
        && varint.len() <= 10
        && varint[..varint.len() - 1].iter().all(|b| b & 0x80 != 0)
        && varint[varint.len() - 1] & 0x80 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_trim_like_go() {
        let t = DateTime::from_timestamp(1_700_000_000, 120_000_000).unwrap();
        assert_eq!(timestamp(&t), "2023-11-14T22:13:20.12Z");
        let t = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(timestamp(&t), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn password_hash_roundtrip() {
        let h = PasswordHash::new("hunter22");
        assert!(h.verify("hunter22"));
        assert!(!h.verify("hunter23"));
        let text = serde_json::to_string(&h).unwrap();
        let back: PasswordHash = serde_json::from_str(&text).unwrap();
        assert!(back.verify("hunter22"));
        assert_ne!(PasswordHash::new("x"), PasswordHash::new("x"));
    }

    #[test]
    fn refresh_token_formats() {
        let t = new_refresh_token();
        assert_eq!(t.len(), 12);
        assert!(refresh_token_well_formed(&t));
        assert!(!refresh_token_well_formed("short"));
        assert!(!refresh_token_well_formed("ABCDEFGHIJKL"));
        assert!(!refresh_token_well_formed("abcdefghijklm"));
        // A hand-built v2 token: version 0, nil uuid, counter 1, zero hmac, checksum.
        let mut bytes = vec![0u8; 17];
        bytes.push(1);
        bytes.extend_from_slice(&[0u8; 16]);
        let digest = Sha256::digest(&bytes);
        bytes.extend_from_slice(&digest[..4]);
        let v2 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
        assert_eq!(v2.len(), 51);
        assert!(refresh_token_well_formed(&v2));
    }
}
