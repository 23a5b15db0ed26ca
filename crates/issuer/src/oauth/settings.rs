//! The OAuth server's switches (what the Supabase dashboard would configure) and the control
//! API's non-interactive consent: the wire types of `/_control/v1/oauth` and their store.

use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `GET /_control/v1/oauth` answer (and `PUT`'s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthSettings {
    /// The OAuth server answers at all (GoTrue's `OAUTH_SERVER_ENABLED`); off: every
    /// `/oauth/*` route and the RFC 8414 metadata are 404 `feature_disabled`. Default on.
    pub enabled: bool,
    /// `POST /auth/v1/oauth/clients/register` works and the metadata advertises it
    /// (`OAUTH_SERVER_ALLOW_DYNAMIC_REGISTRATION`); off: 403. Default on.
    pub dynamic_registration: bool,
    /// Imitates a Custom Access Token Hook that sets `aud` to the authorization request's RFC
    /// 8707 `resource` (when one was given). Off (the default): `aud` stays `authenticated`.
    pub access_token_hook: bool,
    /// The user `/oauth/authorize` signs in and approves at once; `None`: the request goes to
    /// the consent page like on the hosted server.
    pub auto_approve_user_id: Option<Uuid>,
}

impl Default for OAuthSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            dynamic_registration: true,
            access_token_hook: false,
            auto_approve_user_id: None,
        }
    }
}

/// `PUT /_control/v1/oauth` body: each switch present is set, the others kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthSettingsUpdate {
    /// See [`OAuthSettings::enabled`].
    #[serde(default)]
    pub enabled: Option<bool>,
    /// See [`OAuthSettings::dynamic_registration`].
    #[serde(default)]
    pub dynamic_registration: Option<bool>,
    /// See [`OAuthSettings::access_token_hook`].
    #[serde(default)]
    pub access_token_hook: Option<bool>,
}

/// `POST /_control/v1/oauth/auto-approve` body: exactly one of the two.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoApprove {
    /// The user's id.
    #[serde(default)]
    pub user_id: Option<Uuid>,
    /// The user's email address (audience `authenticated`, case-insensitive).
    #[serde(default)]
    pub email: Option<String>,
}

/// The live switches. Cheap to read on every request.
#[derive(Debug, Default)]
pub struct SettingsStore {
    inner: RwLock<OAuthSettings>,
}

impl SettingsStore {
    /// A copy of the current switches.
    pub fn get(&self) -> OAuthSettings {
        *self.inner.read()
    }

    /// Applies `update` and returns the result.
    pub fn update(&self, update: OAuthSettingsUpdate) -> OAuthSettings {
        let mut s = self.inner.write();
        if let Some(v) = update.enabled {
            s.enabled = v;
        }
        if let Some(v) = update.dynamic_registration {
            s.dynamic_registration = v;
        }
        if let Some(v) = update.access_token_hook {
            s.access_token_hook = v;
        }
        *s
    }

    /// Sets or clears the auto-approved user.
    pub fn set_auto_approve(&self, user: Option<Uuid>) -> OAuthSettings {
        let mut s = self.inner.write();
        s.auto_approve_user_id = user;
        *s
    }

    /// Back to the defaults (on, registration on, no hook, no auto-approve).
    pub fn reset(&self) -> OAuthSettings {
        let mut s = self.inner.write();
        *s = OAuthSettings::default();
        *s
    }
}
