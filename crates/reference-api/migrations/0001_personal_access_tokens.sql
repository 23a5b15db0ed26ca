-- Personal access tokens. One migration for SQLite and PostgreSQL: only TEXT and BIGINT, times
-- as Unix seconds, digests as lowercase hex. IF NOT EXISTS makes a race between two processes
-- applying it to one fresh SQLite file harmless (the loser retries and finds it applied).
CREATE TABLE IF NOT EXISTS pat_tokens (
    id           TEXT PRIMARY KEY,
    owner_id     TEXT NOT NULL,
    family_id    TEXT NOT NULL,
    name         TEXT NOT NULL,
    token_digest TEXT NOT NULL UNIQUE,
    last_chars   TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT,
    replaced_by  TEXT
);
CREATE INDEX IF NOT EXISTS pat_tokens_owner ON pat_tokens (owner_id);
CREATE INDEX IF NOT EXISTS pat_tokens_family ON pat_tokens (family_id);
