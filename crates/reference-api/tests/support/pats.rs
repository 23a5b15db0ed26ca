//! Personal-access-token helpers: the issuer and the API with PATs on, an SQLite file in a temp
//! directory (or a fresh PostgreSQL database, [`postgres`]), a fake PAT clock, users created at
//! the issuer's admin API, and the management calls.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use governor::clock::FakeRelativeClock;
use serde_json::{Value, json};
use sqlx::Connection;
use xauth_issuer::{Issuer, MintRequest};
use xauth_reference::pat::{PatConfig, PatDefect, PatDefects, PatService};
use xauth_reference::{Config, RateClock, ServerHandle};

use super::{Env, as_map, client};

/// The PostgreSQL server the `postgres_*` tests run on: `postgres://USER:PASS@HOST:PORT/DB`, a
/// database USER can connect to, USER with CREATEDB (`.ci/run` starts such a server).
pub const DATABASE_URL_VAR: &str = "XAUTH_TEST_DATABASE_URL";

/// A PostgreSQL database of one test's own, `xauth_test_<uuid>`, created on the server named
/// by [`DATABASE_URL_VAR`] and dropped (its connections closed) when this is dropped, also
/// when the test panics. A database per test, rather than one shared database and fresh
/// owners: tests stay independent and parallel whatever they count or list, and each one also
/// runs the migration on an empty PostgreSQL database.
pub struct PgDatabase {
    /// The URL of the new database.
    pub url: String,
    admin_url: String,
    name: String,
}

/// A fresh database for `test`, or `None` after printing that `test` is skipped when
/// [`DATABASE_URL_VAR`] is unset. The line goes to the process's stderr, not through the test
/// harness's capture, so `cargo test` shows it although the test passes.
pub async fn postgres(test: &str) -> Option<PgDatabase> {
    let Ok(admin_url) = std::env::var(DATABASE_URL_VAR) else {
        let _ = writeln!(
            std::io::stderr(),
            "{test}: skipped: {DATABASE_URL_VAR} unset (PostgreSQL)"
        );
        return None;
    };
    let name = format!("xauth_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("{DATABASE_URL_VAR}: cannot connect: {e}"));
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("{DATABASE_URL_VAR}: CREATE DATABASE (needs CREATEDB): {e}"));
    let _ = admin.close().await;
    let mut url = url::Url::parse(&admin_url).unwrap();
    url.set_path(&name);
    Some(PgDatabase {
        url: url.to_string(),
        admin_url,
        name,
    })
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime, which cannot block on a future: a thread of its
        // own with a runtime of its own. WITH (FORCE) closes connections still open.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await?;
                admin.close().await?;
                Ok::<_, anyhow::Error>(())
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            let _ = writeln!(std::io::stderr(), "could not drop {}: {e}", self.name);
        }
    }
}

/// A clock the tests move by hand.
#[derive(Debug)]
pub struct FakeClock(AtomicI64);

impl FakeClock {
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
    pub fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl xauth_verifier::Clock for FakeClock {
    fn now_unix(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A user at the issuer with a session JWT.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub jwt: String,
}

pub struct PatEnv {
    pub env: Env,
    pub pats: Arc<PatService>,
    pub pat_clock: Arc<FakeClock>,
    pub dir: tempfile::TempDir,
    pub db_url: String,
    pub service_key: String,
    pub config: Config,
    pub pat_config: PatConfig,
}

/// Starts the issuer and the API with PATs on (SQLite in a fresh temp dir), `defects` switched
/// on, and `tweak` applied to both configurations.
pub async fn start_pats(
    defects: &[PatDefect],
    tweak: impl FnOnce(&mut Config, &mut PatConfig),
) -> PatEnv {
    start_pats_on(None, defects, tweak).await
}

/// [`start_pats`] on the database `db_url` (`None`: SQLite in a fresh temp dir).
pub async fn start_pats_on(
    db_url: Option<String>,
    defects: &[PatDefect],
    tweak: impl FnOnce(&mut Config, &mut PatConfig),
) -> PatEnv {
    let issuer = Issuer::builder()
        .port(0)
        .spawn()
        .await
        .expect("issuer starts");
    let info = issuer.info();
    let clock = FakeRelativeClock::default();
    let mut config = Config::new(issuer.base_url()).unwrap();
    config.jwt_secret = Some(info.jwt_secret.clone());
    config.rate_clock = RateClock::Fake(clock.clone());
    let dir = tempfile::tempdir().unwrap();
    let db_url = db_url.unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("pats.db").to_str().unwrap()
        )
    });
    let pat_clock = Arc::new(FakeClock(AtomicI64::new(chrono::Utc::now().timestamp())));
    let mut pat_config = PatConfig::new(db_url.clone(), info.service_role_key.clone());
    pat_config.clock = pat_clock.clone();
    pat_config.defects = PatDefects::from_names(defects.iter().map(|d| d.name()));
    tweak(&mut config, &mut pat_config);
    let pats = PatService::open(&config.supabase_url, pat_config.clone())
        .await
        .expect("PAT store opens");
    let api = xauth_reference::spawn_with(config.clone(), Some(pats.clone()))
        .await
        .expect("api starts");
    PatEnv {
        env: Env {
            issuer,
            api,
            clock,
            http: client(),
        },
        pats,
        pat_clock,
        dir,
        db_url,
        service_key: info.service_role_key,
        config,
        pat_config,
    }
}

pub struct Replica {
    pub api: ServerHandle,
    pub pats: Arc<PatService>,
}

impl Replica {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.api.url(), path)
    }
}

impl PatEnv {
    /// A second API process-alike on the same database and issuer, with its own PAT service
    /// (own pool, own caches) and `defects`.
    pub async fn replica(&self, defects: &[PatDefect]) -> Replica {
        let mut pat_config = self.pat_config.clone();
        pat_config.defects = PatDefects::from_names(defects.iter().map(|d| d.name()));
        let pats = PatService::open(&self.config.supabase_url, pat_config)
            .await
            .expect("replica store opens");
        let api = xauth_reference::spawn_with(self.config.clone(), Some(pats.clone()))
            .await
            .expect("replica starts");
        Replica { api, pats }
    }

    fn admin_url(&self, path: &str) -> String {
        format!("{}/auth/v1/admin/users{path}", self.env.issuer.base_url())
    }

    /// Creates a user at the issuer (role `authenticated` unless given) and mints their session.
    pub async fn user_with_role(&self, role: Option<&str>) -> User {
        let mut body = json!({
            "email": format!("{}@example.com", uuid::Uuid::new_v4()),
            "password": "correct-horse-battery",
            "email_confirm": true,
        });
        if let Some(r) = role {
            body["role"] = json!(r);
        }
        let resp = self
            .env
            .http
            .post(self.admin_url(""))
            .header("apikey", &self.service_key)
            .bearer_auth(&self.service_key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "admin create user");
        let v: Value = resp.json().await.unwrap();
        let id = v["id"].as_str().unwrap().to_owned();
        let claims = json!({"sub": id, "role": role.unwrap_or("authenticated")});
        let jwt = self
            .env
            .issuer
            .mint(&MintRequest {
                claims: Some(as_map(claims)),
                ..Default::default()
            })
            .unwrap()
            .token;
        User { id, jwt }
    }

    pub async fn user(&self) -> User {
        self.user_with_role(None).await
    }

    pub async fn delete_user(&self, id: &str) {
        let resp = self
            .env
            .http
            .delete(self.admin_url(&format!("/{id}")))
            .header("apikey", &self.service_key)
            .bearer_auth(&self.service_key)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "admin delete user");
    }

    pub fn tokens_url(&self, rest: &str) -> String {
        self.env.url(&format!("/api/account/tokens{rest}"))
    }

    /// `POST /api/account/tokens` with `body`, authenticated by `bearer`.
    pub async fn create_raw(&self, bearer: &str, body: &Value) -> reqwest::Response {
        self.env
            .http
            .post(self.tokens_url(""))
            .bearer_auth(bearer)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Creates a token and returns `(id, token)`.
    pub async fn create(&self, user: &User, scopes: &[&str], days: u32) -> (String, String) {
        let resp = self
            .create_raw(
                &user.jwt,
                &json!({"name": "ci", "scopes": scopes, "expires_in_days": days}),
            )
            .await;
        assert_eq!(resp.status(), 201, "create");
        let v: Value = resp.json().await.unwrap();
        (
            v["data"]["id"].as_str().unwrap().to_owned(),
            v["data"]["token"].as_str().unwrap().to_owned(),
        )
    }

    /// The list answer's text (to search for secrets) and JSON.
    pub async fn list(&self, bearer: &str) -> (u16, String) {
        let resp = self
            .env
            .http
            .get(self.tokens_url(""))
            .bearer_auth(bearer)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    pub async fn revoke(&self, bearer: &str, id: &str) -> u16 {
        self.env
            .http
            .delete(self.tokens_url(&format!("/{id}")))
            .bearer_auth(bearer)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    pub async fn rotate(&self, bearer: &str, id: &str) -> reqwest::Response {
        self.env
            .http
            .post(self.tokens_url(&format!("/{id}/rotate")))
            .bearer_auth(bearer)
            .send()
            .await
            .unwrap()
    }

    /// Status of `GET path` with `bearer`.
    pub async fn status(&self, path: &str, bearer: &str) -> u16 {
        self.env.get(path, Some(bearer)).await.status().as_u16()
    }

    /// Refills every rate-limit budget.
    pub fn refill(&self) {
        self.env.clock.advance(Duration::from_secs(3600));
    }

    pub async fn shutdown(self) {
        self.env.shutdown().await;
    }
}
