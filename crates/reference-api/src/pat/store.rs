//! The token table, through sqlx's `Any` driver: one code path for SQLite and PostgreSQL, runtime
//! queries with `$N` placeholders (both drivers accept them), no compile-time database.
//!
//! Nothing here caches: every lookup reads the database, so a revocation written by any process
//! sharing the database is seen by the next request everywhere.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Row, SqlSafeStr};

/// The migrations, embedded in the binary (no `sqlx-macros`: `migrate!` would pull a second
/// build of sqlx into every compile).
const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "personal access tokens",
    include_str!("../../migrations/0001_personal_access_tokens.sql"),
)];

/// A database failure (answered 503; details only in the log).
#[derive(Debug, thiserror::Error)]
#[error("PAT database: {0}")]
pub struct StoreError(String);

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError(e.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError(e.to_string())
    }
}

/// One row of `pat_tokens`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    /// Token id (UUID).
    pub id: String,
    /// The owner's user id (the JWT `sub` that created it).
    pub owner_id: String,
    /// Rotation family: the id of the first token of the chain.
    pub family_id: String,
    /// The owner's label.
    pub name: String,
    /// Hex digest of the token.
    pub token_digest: String,
    /// Last characters of the token, for display.
    pub last_chars: String,
    /// Space-separated scopes.
    pub scopes: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; expired iff `now >= expires_at`.
    pub expires_at: i64,
    /// Unix seconds of the last recorded use.
    pub last_used_at: Option<i64>,
    /// Unix seconds of the revocation.
    pub revoked_at: Option<i64>,
    /// The token that replaced this one by rotation.
    pub replaced_by: Option<String>,
}

const COLUMNS: &str = "id, owner_id, family_id, name, token_digest, last_chars, scopes, \
                       created_at, expires_at, last_used_at, revoked_at, replaced_by";

fn row(r: &AnyRow) -> Result<TokenRow, sqlx::Error> {
    Ok(TokenRow {
        id: r.try_get("id")?,
        owner_id: r.try_get("owner_id")?,
        family_id: r.try_get("family_id")?,
        name: r.try_get("name")?,
        token_digest: r.try_get("token_digest")?,
        last_chars: r.try_get("last_chars")?,
        scopes: r.try_get("scopes")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        last_used_at: r.try_get("last_used_at")?,
        revoked_at: r.try_get("revoked_at")?,
        replaced_by: r.try_get("replaced_by")?,
    })
}

/// The PAT store.
#[derive(Debug)]
pub struct Store {
    pool: AnyPool,
    queries: AtomicU64,
}

/// The outcome of a rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The old token is revoked and the new one stored.
    Rotated,
    /// The old token was already revoked (reuse): its whole family is now revoked.
    FamilyRevoked,
}

impl Store {
    /// Connects (creating the SQLite file when the URL says `mode=rwc`) and migrates.
    pub async fn open(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        let migrator = Migrator::with_migrations(
            MIGRATIONS
                .iter()
                .map(|(version, description, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(*description),
                        MigrationType::Simple,
                        sql.into_sql_str(),
                        false,
                    )
                })
                .collect(),
        );
        // Two processes migrating one fresh SQLite file race (SQLite has no advisory lock); the
        // loser fails on the bookkeeping row, and its retry finds the migration applied.
        let mut attempt = 0;
        loop {
            match migrator.run(&pool).await {
                Ok(()) => break,
                Err(e) if attempt < 4 => {
                    attempt += 1;
                    tracing::debug!(error = %e, attempt, "PAT migration failed; retrying");
                    tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Store {
            pool,
            queries: AtomicU64::new(0),
        })
    }

    /// Statements sent to the database since start (tests prove the offline checks with it).
    pub fn queries(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }

    fn count(&self) {
        self.queries.fetch_add(1, Ordering::Relaxed);
    }

    /// Stores a new token.
    pub async fn insert(&self, t: &TokenRow) -> Result<(), StoreError> {
        self.count();
        insert_query(t).execute(&self.pool).await?;
        Ok(())
    }

    /// The token with this digest, if any.
    pub async fn find_by_digest(&self, digest: &str) -> Result<Option<TokenRow>, StoreError> {
        self.count();
        let sql = format!("SELECT {COLUMNS} FROM pat_tokens WHERE token_digest = $1");
        let found = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(digest)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.as_ref().map(row).transpose()?)
    }

    /// One of `owner`'s tokens.
    pub async fn get(&self, owner: &str, id: &str) -> Result<Option<TokenRow>, StoreError> {
        self.count();
        let sql = format!("SELECT {COLUMNS} FROM pat_tokens WHERE id = $1 AND owner_id = $2");
        let found = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(owner)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.as_ref().map(row).transpose()?)
    }

    /// `owner`'s most recent tokens (at most `limit`), newest first.
    pub async fn list(&self, owner: &str, limit: i64) -> Result<Vec<TokenRow>, StoreError> {
        self.count();
        let sql = format!(
            "SELECT {COLUMNS} FROM pat_tokens WHERE owner_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(owner)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(row).collect::<Result<_, _>>()?)
    }

    /// How many of `owner`'s tokens are neither revoked nor expired at `now`.
    pub async fn count_active(&self, owner: &str, now: i64) -> Result<i64, StoreError> {
        self.count();
        let r = sqlx::query(
            "SELECT COUNT(*) AS n FROM pat_tokens \
             WHERE owner_id = $1 AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(owner)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(r.try_get("n")?)
    }

    /// Records a use at `now` unless one was recorded after `stale_before` (so each token is
    /// written at most once per interval, whatever the traffic).
    pub async fn touch(&self, id: &str, now: i64, stale_before: i64) -> Result<(), StoreError> {
        self.count();
        sqlx::query(
            "UPDATE pat_tokens SET last_used_at = $1 \
             WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)",
        )
        .bind(now)
        .bind(id)
        .bind(stale_before)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Revokes one of `owner`'s tokens; `false` when there is no such token. Idempotent.
    pub async fn revoke(&self, owner: &str, id: &str, now: i64) -> Result<bool, StoreError> {
        self.count();
        sqlx::query(
            "UPDATE pat_tokens SET revoked_at = $1 \
             WHERE id = $2 AND owner_id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(self.get(owner, id).await?.is_some())
    }

    /// Rotates `old` (read by the caller) into `new` in one transaction: the old token is revoked and points at
    /// the new one. When the old token was already revoked, nothing is issued and the whole
    /// family is revoked instead (a revoked token being rotated means it leaked).
    pub async fn rotate(
        &self,
        old: &TokenRow,
        new: &TokenRow,
        now: i64,
    ) -> Result<Rotation, StoreError> {
        let (owner, old_id) = (old.owner_id.as_str(), old.id.as_str());
        self.count();
        let mut tx = self.pool.begin().await?;
        let claimed = sqlx::query(
            "UPDATE pat_tokens SET revoked_at = $1, replaced_by = $2 \
             WHERE id = $3 AND owner_id = $4 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(new.id.as_str())
        .bind(old_id)
        .bind(owner)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 1 {
            insert_query(new).execute(&mut *tx).await?;
            tx.commit().await?;
            return Ok(Rotation::Rotated);
        }
        sqlx::query(
            "UPDATE pat_tokens SET revoked_at = $1 \
             WHERE family_id = $2 AND owner_id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(old.family_id.as_str())
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Rotation::FamilyRevoked)
    }
}

fn insert_query(t: &TokenRow) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(
        "INSERT INTO pat_tokens (id, owner_id, family_id, name, token_digest, last_chars, \
         scopes, created_at, expires_at, last_used_at, revoked_at, replaced_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL, NULL)",
    )
    .bind(t.id.as_str())
    .bind(t.owner_id.as_str())
    .bind(t.family_id.as_str())
    .bind(t.name.as_str())
    .bind(t.token_digest.as_str())
    .bind(t.last_chars.as_str())
    .bind(t.scopes.as_str())
    .bind(t.created_at)
    .bind(t.expires_at)
}
