-- authgate schema for SQLite.
--
-- Conventions (src/sqlite/codec.rs):
--   * ids are UUIDs as lower-case hyphenated TEXT, so text order is UUID
--     order (UUID v7: registration order) and rows are readable in the shell;
--   * times are INTEGER microseconds since the Unix epoch, UTC: exact,
--     compared as integers, and the same precision as PostgreSQL timestamptz
--     (read one with `datetime(col / 1000000, 'unixepoch')`);
--   * hashes are 32-byte BLOBs; sealed material is an opaque BLOB.
-- STRICT tables make SQLite refuse values of the wrong type.

CREATE TABLE users (
    id            TEXT    NOT NULL PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,          -- lower-cased by the caller
    username      TEXT             UNIQUE,          -- lower-cased; NULLs never collide
    name          TEXT,
    password_hash TEXT    NOT NULL,                 -- argon2id PHC string
    roles         TEXT    NOT NULL DEFAULT '[]',    -- JSON array of role names
    is_active     INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
    id           TEXT    NOT NULL PRIMARY KEY,      -- the `sid` claim
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    ip           TEXT,
    user_agent   TEXT,
    audience     TEXT    NOT NULL,                  -- the aud chosen at login, kept by refreshes
    revoked_at   INTEGER                            -- set once, never unset
) STRICT;

CREATE INDEX sessions_user_id ON sessions (user_id);
-- revoked_since() at start-up: only revoked rows are indexed.
CREATE INDEX sessions_revoked_at ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
-- count_live_sessions(): only unrevoked rows are indexed.
CREATE INDEX sessions_live_expires_at ON sessions (expires_at) WHERE revoked_at IS NULL;

CREATE TABLE refresh_tokens (
    hash             BLOB    NOT NULL PRIMARY KEY CHECK (length(hash) = 32),  -- SHA-256 of the token
    session_id       TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    generation       INTEGER NOT NULL,
    issued_at        INTEGER NOT NULL,
    used_at          INTEGER,                       -- set by rotation; a second use is reuse
    successor        BLOB    CHECK (successor IS NULL OR length(successor) = 32),
    successor_sealed BLOB,                          -- kept for the reuse grace window only
    expires_at       INTEGER NOT NULL
) STRICT;

CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);
-- wipe_sealed_successors(): only rows still holding a sealed successor are indexed.
CREATE INDEX refresh_tokens_sealed_used_at ON refresh_tokens (used_at) WHERE successor_sealed IS NOT NULL;

CREATE TABLE signing_keys (
    kid            TEXT    NOT NULL PRIMARY KEY,
    alg            TEXT    NOT NULL,
    state          TEXT    NOT NULL,                -- next | active | retired | expired (serde names of KeyState)
    private_sealed BLOB    NOT NULL,                -- AES-256-GCM under the master key, kid as AAD
    created_at     INTEGER NOT NULL,
    activates_at   INTEGER,
    retires_at     INTEGER,
    expires_at     INTEGER
) STRICT;
