//! The auth store: users, sessions and refresh tokens, in memory and optionally persisted.
//! (Past 500 lines on purpose: each GoTrue transaction is one method under the one lock, and
//! together they read as GoTrue's check order top to bottom.)
//!
//! Every operation takes one lock, so each GoTrue transaction is atomic. With a state
//! directory the whole store is written to `<state_dir>/auth.json` after every change
//! (atomically, through [`crate::state_dir::write_private_atomic`], the writer keys use too).

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::errors::ApiError;
use super::models::{
    AmrEntry, PasswordHash, RefreshTokenRecord, SessionRecord, UserRecord, db_time,
    new_refresh_token,
};
use crate::config::IssuerConfig;
use crate::state_dir::write_private_atomic;

/// File name of the persisted store inside the state directory.
pub const STATE_FILE: &str = "auth.json";

/// Minimum password length (GoTrue's default `PASSWORD_MIN_LENGTH`).
pub const PASSWORD_MIN_LENGTH: usize = 6;

/// Why seeding a user failed.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The email is not a valid address.
    #[error("invalid email address {0:?}")]
    InvalidEmail(String),
    /// The password is empty or longer than 72 bytes.
    #[error("invalid password for {0}: {1}")]
    InvalidPassword(String, &'static str),
    /// Persisting the store failed.
    #[error("persisting the auth store: {0}")]
    Io(#[from] io::Error),
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Inner {
    users: HashMap<Uuid, UserRecord>,
    sessions: HashMap<Uuid, SessionRecord>,
    refresh_tokens: HashMap<String, RefreshTokenRecord>,
    /// `(aud, lowercased email)` → user; rebuilt on load, never persisted.
    #[serde(skip)]
    by_email: HashMap<(String, String), Uuid>,
}

/// Users, sessions and refresh tokens.
///
/// ```
/// use xauth_issuer::gotrue::AuthStore;
///
/// let store = AuthStore::default();
/// let id = store.seed_user("alice@example.com", "password123").unwrap();
/// assert_eq!(store.seed_user("ALICE@example.com", "other-pass").unwrap(), id);
/// assert_eq!(store.user_count(), 1);
/// ```
#[derive(Debug, Default)]
pub struct AuthStore {
    inner: Mutex<Inner>,
    persist: Option<Persister>,
}

#[derive(Debug)]
struct Persister {
    path: PathBuf,
    changed: AtomicU64,
    written: Mutex<u64>,
}

/// What a successful grant hands to the token response.
#[derive(Debug, Clone)]
pub struct Grant {
    /// The signed-in user, as stored after the grant.
    pub user: UserRecord,
    /// The session the grant created or refreshed.
    pub session_id: Uuid,
    /// The session's authenticator assurance level (`aal1`).
    pub aal: String,
    /// The session's authentication methods, for the `amr` claim.
    pub amr: Vec<AmrEntry>,
    /// The refresh token to hand out: a fresh one, or the active child of a reused parent.
    pub refresh_token: String,
}

/// Identifies a user at the password grant.
#[derive(Debug, Clone)]
pub enum Login<'a> {
    /// By email address (matched case-insensitively within the audience).
    Email(&'a str),
    /// By phone number (E.164 digits, matched exactly within the audience).
    Phone(&'a str),
}

/// Logout scopes of `POST /logout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoutScope {
    /// `scope=global` (the default): every session of the user.
    Global,
    /// `scope=local`: only the token's own session.
    Local,
    /// `scope=others`: every session of the user except the token's own.
    Others,
}

/// What `PUT /user` changes (already validated by the handler).
#[derive(Debug, Default, Clone)]
pub struct UserUpdate {
    /// A new email address (lowercased); a change is recorded as pending (`new_email`).
    pub email: Option<String>,
    /// A new password (strength already checked).
    pub password: Option<String>,
    /// `user_metadata` updates (null removes a key).
    pub data: Option<Map<String, Value>>,
}

/// Fields an admin may set when creating a user.
#[derive(Debug, Default, Clone)]
pub struct NewUser {
    /// The user id to use; absent: a fresh random UUID.
    pub id: Option<Uuid>,
    /// The audience the user belongs to.
    pub aud: String,
    /// The Postgres role; absent or empty: `authenticated`.
    pub role: Option<String>,
    /// The email address, validated and lowercased (empty: none).
    pub email: String,
    /// The phone number in E.164 digits (empty: none).
    pub phone: String,
    /// The password to hash; absent: the user cannot sign in with a password.
    pub password: Option<String>,
    /// Create the email as already confirmed.
    pub email_confirm: bool,
    /// Create the phone as already confirmed.
    pub phone_confirm: bool,
    /// The initial `user_metadata`.
    pub user_metadata: Option<Map<String, Value>>,
    /// Members merged into `app_metadata` (null removes one).
    pub app_metadata: Option<Map<String, Value>>,
    /// When the ban (from `ban_duration`) ends; absent: not banned.
    pub banned_until: Option<DateTime<Utc>>,
}

fn invalid_login() -> ApiError {
    ApiError::bad_request("invalid_credentials", "Invalid login credentials")
}

/// GoTrue's `validateEmail` (checkmail's format check, lowercased).
pub fn validate_email(email: &str) -> Result<String, ApiError> {
    if email.is_empty() {
        return Err(ApiError::bad_request(
            "validation_failed",
            "An email address is required",
        ));
    }
    if email.len() > 255 {
        return Err(ApiError::bad_request(
            "validation_failed",
            "An email address is too long",
        ));
    }
    let valid = match email.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && local.len() <= 64
                && !domain.is_empty()
                && !local.chars().any(|c| c.is_whitespace() || c.is_control())
                && domain.split('.').all(|label| {
                    !label.is_empty() && label.chars().all(|c| c.is_alphanumeric() || c == '-')
                })
                && !local.contains('@')
        }
        None => false,
    };
    if !valid {
        return Err(ApiError::bad_request(
            "validation_failed",
            "Unable to validate email address: invalid format",
        ));
    }
    Ok(email.to_lowercase())
}

/// GoTrue's `validatePhone`: strips formatting, then requires E.164 digits.
pub fn validate_phone(phone: &str) -> Result<String, ApiError> {
    let digits: String = phone
        .chars()
        .filter(|c| !matches!(c, ' ' | '+' | '-' | '(' | ')'))
        .collect();
    let ok = (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if ok {
        Ok(digits)
    } else {
        Err(ApiError::bad_request(
            "validation_failed",
            "Invalid phone number format (E.164 required)",
        ))
    }
}

/// GoTrue's `checkPasswordStrength` with the default policy (minimum 6, no character sets).
pub fn check_password_strength(password: &str) -> Result<(), ApiError> {
    if password.len() > 72 {
        return Err(ApiError::bad_request(
            "validation_failed",
            "Password cannot be longer than 72 characters",
        ));
    }
    if password.len() < PASSWORD_MIN_LENGTH {
        return Err(ApiError::weak_password(
            format!("Password should be at least {PASSWORD_MIN_LENGTH} characters."),
            vec!["length".to_owned()],
        ));
    }
    Ok(())
}

impl Inner {
    fn find_user(&self, login: &Login<'_>, aud: &str) -> Option<Uuid> {
        match login {
            Login::Email("") => None,
            Login::Email(e) => self
                .by_email
                .get(&(aud.to_owned(), e.to_lowercase()))
                .copied(),
            Login::Phone(p) => self
                .users
                .values()
                .find(|u| u.aud == aud && !u.phone.is_empty() && u.phone == *p)
                .map(|u| u.id),
        }
    }

    fn insert_user(&mut self, user: UserRecord) {
        if !user.email.is_empty() {
            self.by_email
                .insert((user.aud.clone(), user.email.clone()), user.id);
        }
        self.users.insert(user.id, user);
    }

    fn remove_user(&mut self, id: Uuid) -> bool {
        match self.users.remove(&id) {
            Some(user) => {
                self.by_email.remove(&(user.aud, user.email));
                true
            }
            None => false,
        }
    }

    fn reindex(&mut self) {
        self.by_email = self
            .users
            .values()
            .filter(|u| !u.email.is_empty())
            .map(|u| ((u.aud.clone(), u.email.clone()), u.id))
            .collect();
    }

    /// GoTrue's `issueRefreshToken`: a new session with one refresh token.
    fn new_session(&mut self, user_id: Uuid, method: &str, now: DateTime<Utc>) -> Grant {
        let session_id = Uuid::new_v4();
        let token = self.mint_refresh_token(user_id, session_id, None, now);
        let amr = vec![AmrEntry {
            method: method.to_owned(),
            timestamp: now.timestamp(),
        }];
        self.sessions.insert(
            session_id,
            SessionRecord {
                id: session_id,
                user_id,
                created_at: now,
                updated_at: now,
                aal: "aal1".to_owned(),
                amr: amr.clone(),
                refresh_tokens: vec![token.clone()],
            },
        );
        let user = self.users.get(&user_id).cloned();
        Grant {
            // The caller holds the user; this cannot be missing inside one lock.
            user: user.unwrap_or_else(|| UserRecord::new("", "", None, "", Map::new(), now)),
            session_id,
            aal: "aal1".to_owned(),
            amr,
            refresh_token: token,
        }
    }

    fn mint_refresh_token(
        &mut self,
        user_id: Uuid,
        session_id: Uuid,
        parent: Option<String>,
        now: DateTime<Utc>,
    ) -> String {
        let mut token = new_refresh_token();
        while self.refresh_tokens.contains_key(&token) {
            token = new_refresh_token();
        }
        self.refresh_tokens.insert(
            token.clone(),
            RefreshTokenRecord {
                token: token.clone(),
                user_id,
                session_id,
                parent,
                revoked: false,
                created_at: now,
                updated_at: now,
            },
        );
        token
    }

    fn delete_session(&mut self, session_id: Uuid) {
        if let Some(session) = self.sessions.remove(&session_id) {
            for token in session.refresh_tokens {
                self.refresh_tokens.remove(&token);
            }
        }
    }

    fn sign_in(&mut self, user_id: Uuid, now: DateTime<Utc>) -> Grant {
        if let Some(user) = self.users.get_mut(&user_id) {
            user.last_sign_in_at = Some(now);
            user.updated_at = now;
            for identity in &mut user.identities {
                identity.last_sign_in_at = Some(now);
            }
        }
        self.new_session(user_id, "password", now)
    }
}

impl AuthStore {
    /// Opens the store for `config`: loads `<state_dir>/auth.json` when a state directory is
    /// set (creating the directory if needed), else an empty in-memory store.
    pub fn open(config: &IssuerConfig) -> io::Result<AuthStore> {
        let Some(dir) = &config.state_dir else {
            return Ok(AuthStore::default());
        };
        std::fs::create_dir_all(dir)?;
        let path = dir.join(STATE_FILE);
        let mut inner: Inner = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {e}", path.display()),
                )
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Inner::default(),
            Err(e) => return Err(e),
        };
        inner.reindex();
        Ok(AuthStore {
            inner: Mutex::new(inner),
            persist: Some(Persister {
                path,
                changed: AtomicU64::new(0),
                written: Mutex::new(0),
            }),
        })
    }

    /// Number of users.
    pub fn user_count(&self) -> usize {
        self.inner.lock().users.len()
    }

    /// Number of live sessions.
    pub fn session_count(&self) -> usize {
        self.inner.lock().sessions.len()
    }

    /// Creates (or, if the email exists, resets the password of) an auto-confirmed email user,
    /// for `--user EMAIL:PASSWORD` and users files. Returns the user's id.
    pub fn seed_user(&self, email: &str, password: &str) -> Result<Uuid, SeedError> {
        let email = validate_email(email).map_err(|_| SeedError::InvalidEmail(email.to_owned()))?;
        if password.is_empty() {
            return Err(SeedError::InvalidPassword(email, "empty"));
        }
        if password.len() > 72 {
            return Err(SeedError::InvalidPassword(email, "longer than 72 bytes"));
        }
        let now = db_time(Utc::now());
        let id = {
            let mut inner = self.inner.lock();
            match inner.find_user(&Login::Email(&email), "authenticated") {
                Some(id) => {
                    if let Some(user) = inner.users.get_mut(&id) {
                        user.password = Some(super::models::PasswordHash::new(password));
                        if user.email_confirmed_at.is_none() {
                            user.confirm_email(now);
                        }
                    }
                    id
                }
                None => {
                    let mut user = UserRecord::new(
                        &email,
                        "",
                        Some(password),
                        "authenticated",
                        Map::new(),
                        now,
                    );
                    user.add_identity("email", now);
                    user.confirm_email(now);
                    let id = user.id;
                    inner.insert_user(user);
                    id
                }
            }
        };
        self.changed()?;
        Ok(id)
    }

    /// Records a change and writes the store when persistent.
    fn changed(&self) -> io::Result<()> {
        let Some(persist) = &self.persist else {
            return Ok(());
        };
        let generation = persist.changed.fetch_add(1, Ordering::SeqCst) + 1;
        let mut written = persist.written.lock();
        if *written >= generation {
            return Ok(()); // a later writer already wrote our change
        }
        let (bytes, snapshot_generation) = {
            let inner = self.inner.lock();
            let generation = persist.changed.load(Ordering::SeqCst);
            (
                serde_json::to_vec(&*inner).map_err(io::Error::other)?,
                generation,
            )
        };
        write_private_atomic(&persist.path, &bytes)?;
        *written = snapshot_generation;
        Ok(())
    }

    /// Persists after a change; a failed write is logged, the request still succeeds.
    fn save(&self) {
        if let Err(error) = self.changed() {
            tracing::error!(%error, "could not persist the auth store");
        }
    }

    /// The password grant, checks in GoTrue's order. Returns the grant and whether the
    /// password is weak under the current policy.
    pub fn password_grant(
        &self,
        login: Login<'_>,
        password: &str,
        aud: &str,
        now: DateTime<Utc>,
    ) -> Result<(Grant, Option<ApiError>), ApiError> {
        let now = db_time(now);
        let grant = {
            let mut inner = self.inner.lock();
            let id = inner.find_user(&login, aud).ok_or_else(invalid_login)?;
            let user = inner.users.get(&id).ok_or_else(invalid_login)?;
            let Some(hash) = &user.password else {
                return Err(invalid_login());
            };
            if user.is_banned(now) {
                return Err(ApiError::bad_request("user_banned", "User is banned"));
            }
            if password.is_empty() || !hash.verify(password) {
                return Err(invalid_login());
            }
            match login {
                Login::Email(_) if user.email_confirmed_at.is_none() => {
                    return Err(ApiError::bad_request(
                        "email_not_confirmed",
                        "Email not confirmed",
                    ));
                }
                Login::Phone(_) if user.phone_confirmed_at.is_none() => {
                    return Err(ApiError::bad_request(
                        "phone_not_confirmed",
                        "Phone not confirmed",
                    ));
                }
                _ => {}
            }
            inner.sign_in(id, now)
        };
        self.save();
        Ok((grant, check_password_strength(password).err()))
    }

    /// A new session for a user who authenticated elsewhere (GoTrue's `IssueRefreshToken` with
    /// another authentication `method`, e.g. the OAuth server's code grant): the user must exist
    /// and not be banned; `last_sign_in_at` moves to `now`.
    pub fn issue_session(
        &self,
        user_id: Uuid,
        method: &str,
        now: DateTime<Utc>,
    ) -> Result<Grant, ApiError> {
        let now = db_time(now);
        let grant = {
            let mut inner = self.inner.lock();
            let user = inner
                .users
                .get_mut(&user_id)
                .ok_or_else(|| ApiError::not_found("user_not_found", "User not found"))?;
            if user.is_banned(now) {
                return Err(ApiError::bad_request("user_banned", "User is banned"));
            }
            user.last_sign_in_at = Some(now);
            user.updated_at = now;
            inner.new_session(user_id, method, now)
        };
        self.save();
        Ok(grant)
    }

    /// The session a refresh token belongs to, if the token is known (revoked ones included).
    pub fn refresh_token_session(&self, token: &str) -> Option<Uuid> {
        self.inner
            .lock()
            .refresh_tokens
            .get(token)
            .map(|r| r.session_id)
    }

    /// The refresh-token grant with GoTrue's v1 rotation and reuse rules.
    pub fn refresh_grant(
        &self,
        token: &str,
        now: DateTime<Utc>,
        reuse_interval: i64,
    ) -> Result<Grant, ApiError> {
        let now = db_time(now);
        let result = {
            let mut inner = self.inner.lock();
            Self::refresh_locked(&mut inner, token, now, reuse_interval)
        };
        // A detected reuse revokes the family (and an orphan token is dropped): those changes
        // are committed too; lookups that found nothing changed nothing.
        let changed = match &result {
            Ok(_) => true,
            Err(e) => matches!(e.code, "refresh_token_already_used" | "session_not_found"),
        };
        if changed {
            self.save();
        }
        result
    }

    fn refresh_locked(
        inner: &mut Inner,
        token: &str,
        now: DateTime<Utc>,
        reuse_interval: i64,
    ) -> Result<Grant, ApiError> {
        let not_found = || {
            ApiError::bad_request(
                "refresh_token_not_found",
                "Invalid Refresh Token: Refresh Token Not Found",
            )
        };
        let record = inner
            .refresh_tokens
            .get(token)
            .cloned()
            .ok_or_else(not_found)?;
        let user = inner
            .users
            .get(&record.user_id)
            .cloned()
            .ok_or_else(not_found)?;
        if user.is_banned(now) {
            return Err(ApiError::bad_request(
                "user_banned",
                "Invalid Refresh Token: User Banned",
            ));
        }
        let Some(session) = inner.sessions.get(&record.session_id).cloned() else {
            inner.refresh_tokens.remove(token);
            return Err(ApiError::bad_request(
                "session_not_found",
                "Invalid Refresh Token: No Valid Session Found",
            ));
        };
        let mut issued = None;
        if record.revoked {
            let active = session
                .refresh_tokens
                .iter()
                .rev()
                .filter_map(|t| inner.refresh_tokens.get(t))
                .find(|t| !t.revoked);
            if active.is_some_and(|a| a.parent.as_deref() == Some(token)) {
                issued = active.map(|a| a.token.clone());
            } else if now > record.updated_at + chrono::Duration::seconds(reuse_interval) {
                for t in &session.refresh_tokens {
                    if let Some(r) = inner.refresh_tokens.get_mut(t)
                        && !r.revoked
                    {
                        r.revoked = true;
                        r.updated_at = now;
                    }
                }
                return Err(ApiError::bad_request(
                    "refresh_token_already_used",
                    "Invalid Refresh Token: Already Used",
                ));
            }
        }
        let issued = match issued {
            Some(active) => active,
            None => {
                if let Some(r) = inner.refresh_tokens.get_mut(token)
                    && !r.revoked
                {
                    r.revoked = true;
                    r.updated_at = now;
                }
                let child =
                    inner.mint_refresh_token(user.id, session.id, Some(token.to_owned()), now);
                if let Some(s) = inner.sessions.get_mut(&session.id) {
                    s.refresh_tokens.push(child.clone());
                }
                child
            }
        };
        if let Some(s) = inner.sessions.get_mut(&session.id) {
            s.updated_at = now;
        }
        Ok(Grant {
            user,
            session_id: session.id,
            aal: session.aal,
            amr: session.amr,
            refresh_token: issued,
        })
    }

    /// GoTrue's `maybeLoadUserOrSession` after the JWT checks: the user must exist, the
    /// session (when given) must exist, and the user must not be banned.
    pub fn load_user_and_session(
        &self,
        user_id: Uuid,
        session_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<UserRecord, ApiError> {
        let inner = self.inner.lock();
        let user = inner.users.get(&user_id).cloned().ok_or_else(|| {
            ApiError::forbidden(
                "user_not_found",
                "User from sub claim in JWT does not exist",
            )
        })?;
        if let Some(session_id) = session_id
            && !inner.sessions.contains_key(&session_id)
        {
            return Err(ApiError::forbidden(
                "session_not_found",
                "Session from session_id claim in JWT does not exist",
            ));
        }
        if user.is_banned(db_time(now)) {
            return Err(ApiError::forbidden("user_banned", "User is banned"));
        }
        Ok(user)
    }

    /// Deletes sessions for `POST /logout` (their refresh tokens go with them). Without a
    /// session every scope logs out everywhere, as in GoTrue.
    pub fn logout(&self, user_id: Uuid, session_id: Option<Uuid>, scope: LogoutScope) {
        {
            let mut inner = self.inner.lock();
            let doomed: Vec<Uuid> = inner
                .sessions
                .values()
                .filter(|s| s.user_id == user_id)
                .filter(|s| match (scope, session_id) {
                    (LogoutScope::Local, Some(current)) => s.id == current,
                    (LogoutScope::Others, Some(current)) => s.id != current,
                    _ => true,
                })
                .map(|s| s.id)
                .collect();
            for id in doomed {
                inner.delete_session(id);
            }
        }
        self.save();
    }

    /// `PUT /user`, in GoTrue's order: a taken email is 422 `email_exists`, the current
    /// password again is 422 `same_password`; a new password signs out every other session of
    /// the user (all of them without `session_id`); an email change waits for confirmation.
    pub fn update_user(
        &self,
        user_id: Uuid,
        session_id: Option<Uuid>,
        update: UserUpdate,
        now: DateTime<Utc>,
    ) -> Result<UserRecord, ApiError> {
        let now = db_time(now);
        let user = {
            let mut inner = self.inner.lock();
            let Some(current) = inner.users.get(&user_id).cloned() else {
                return Err(ApiError::forbidden(
                    "user_not_found",
                    "User from sub claim in JWT does not exist",
                ));
            };
            let new_email = update.email.filter(|e| *e != current.email);
            if let Some(email) = &new_email
                && inner
                    .find_user(&Login::Email(email), &current.aud)
                    .is_some_and(|other| other != user_id)
            {
                return Err(ApiError::unprocessable(
                    "email_exists",
                    "A user with this email address has already been registered",
                ));
            }
            if let Some(password) = &update.password
                && !password.is_empty()
                && current
                    .password
                    .as_ref()
                    .is_some_and(|h| h.verify(password))
            {
                return Err(ApiError::unprocessable(
                    "same_password",
                    "New password should be different from the old password.",
                ));
            }
            if update.password.is_some() {
                let others: Vec<Uuid> = inner
                    .sessions
                    .values()
                    .filter(|s| s.user_id == user_id && Some(s.id) != session_id)
                    .map(|s| s.id)
                    .collect();
                for id in others {
                    inner.delete_session(id);
                }
            }
            let Some(user) = inner.users.get_mut(&user_id) else {
                return Err(ApiError::forbidden(
                    "user_not_found",
                    "User from sub claim in JWT does not exist",
                ));
            };
            if let Some(password) = &update.password {
                user.password = (!password.is_empty()).then(|| PasswordHash::new(password));
            }
            if let Some(data) = update.data {
                user.merge_user_metadata(data);
            }
            if let Some(email) = new_email {
                user.email_change = email;
                user.email_change_sent_at = Some(now);
            }
            user.updated_at = now;
            user.clone()
        };
        self.save();
        Ok(user)
    }

    /// `POST /signup` with auto-confirm: a new confirmed user and a session.
    pub fn signup(
        &self,
        email: Option<&str>,
        phone: Option<&str>,
        password: &str,
        data: Map<String, Value>,
        aud: &str,
        now: DateTime<Utc>,
    ) -> Result<Grant, ApiError> {
        let now = db_time(now);
        let grant = {
            let mut inner = self.inner.lock();
            let (login, provider) = match (email, phone) {
                (Some(e), _) => (Login::Email(e), "email"),
                (None, Some(p)) => (Login::Phone(p), "phone"),
                (None, None) => {
                    return Err(ApiError::bad_request(
                        "validation_failed",
                        "Sign up only available with email or phone provider",
                    ));
                }
            };
            let id = match inner.find_user(&login, aud) {
                Some(id) => {
                    let user = inner.users.get_mut(&id).ok_or_else(invalid_login)?;
                    let confirmed = match provider {
                        "email" => user.email_confirmed_at.is_some(),
                        _ => user.phone_confirmed_at.is_some(),
                    };
                    if confirmed {
                        return Err(ApiError::unprocessable(
                            "user_already_exists",
                            "User already registered",
                        ));
                    }
                    if !user.identities.iter().any(|i| i.provider == provider) {
                        user.add_identity(provider, now);
                    }
                    id
                }
                None => {
                    let mut user = UserRecord::new(
                        email.unwrap_or(""),
                        phone.unwrap_or(""),
                        Some(password),
                        aud,
                        data,
                        now,
                    );
                    user.add_identity(provider, now);
                    let id = user.id;
                    inner.insert_user(user);
                    id
                }
            };
            if let Some(user) = inner.users.get_mut(&id) {
                match provider {
                    "email" => user.confirm_email(now),
                    _ => user.confirm_phone(now),
                }
            }
            inner.sign_in(id, now)
        };
        self.save();
        Ok(grant)
    }

    /// `POST /admin/users`.
    pub fn admin_create(&self, new: NewUser, now: DateTime<Utc>) -> Result<UserRecord, ApiError> {
        let now = db_time(now);
        let user = {
            let mut inner = self.inner.lock();
            if !new.email.is_empty()
                && inner
                    .find_user(&Login::Email(&new.email), &new.aud)
                    .is_some()
            {
                return Err(ApiError::unprocessable(
                    "email_exists",
                    "A user with this email address has already been registered",
                ));
            }
            if !new.phone.is_empty()
                && inner
                    .find_user(&Login::Phone(&new.phone), &new.aud)
                    .is_some()
            {
                return Err(ApiError::unprocessable(
                    "phone_exists",
                    "Phone number already registered by another user",
                ));
            }
            if let Some(id) = new.id
                && inner.users.contains_key(&id)
            {
                return Err(ApiError::unprocessable(
                    "email_exists",
                    "A user with this email address has already been registered",
                ));
            }
            let mut user = UserRecord::new(
                &new.email,
                &new.phone,
                new.password.as_deref(),
                &new.aud,
                new.user_metadata.unwrap_or_default(),
                now,
            );
            if let Some(id) = new.id {
                user.id = id;
            }
            if !user.email.is_empty() {
                user.add_identity("email", now);
            }
            if !user.phone.is_empty() {
                user.add_identity("phone", now);
            }
            if let Some(role) = new.role.filter(|r| !r.is_empty()) {
                role.trim().clone_into(&mut user.role);
            }
            if let Some(app) = new.app_metadata {
                for (k, v) in app {
                    if v.is_null() {
                        user.app_metadata.remove(&k);
                    } else {
                        user.app_metadata.insert(k, v);
                    }
                }
            }
            if new.email_confirm {
                user.confirm_email(now);
            }
            if new.phone_confirm {
                user.confirm_phone(now);
            }
            user.banned_until = new.banned_until;
            inner.insert_user(user.clone());
            user
        };
        self.save();
        Ok(user)
    }

    /// All users of `aud`, newest first.
    pub fn admin_list(&self, aud: &str) -> Vec<UserRecord> {
        let inner = self.inner.lock();
        let mut users: Vec<UserRecord> = inner
            .users
            .values()
            .filter(|u| u.aud == aud)
            .cloned()
            .collect();
        users.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        users
    }

    /// One user by id.
    pub fn get_user(&self, id: Uuid) -> Option<UserRecord> {
        self.inner.lock().users.get(&id).cloned()
    }

    /// Deletes a user with its sessions and refresh tokens. Returns whether it existed.
    pub fn delete_user(&self, id: Uuid) -> bool {
        let existed = {
            let mut inner = self.inner.lock();
            let existed = inner.remove_user(id);
            let sessions: Vec<Uuid> = inner
                .sessions
                .values()
                .filter(|s| s.user_id == id)
                .map(|s| s.id)
                .collect();
            for s in sessions {
                inner.delete_session(s);
            }
            existed
        };
        if existed {
            self.save();
        }
        existed
    }
}
