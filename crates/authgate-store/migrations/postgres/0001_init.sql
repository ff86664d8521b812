-- authgate schema for PostgreSQL.
--
-- Conventions (src/postgres/codec.rs):
--   * ids are native uuid (UUID v7: registration order, compared bytewise
--     like Rust's Uuid);
--   * times are timestamptz (microsecond precision, the same instants the
--     SQLite backend keeps as integer microseconds);
--   * hashes are 32-byte bytea; sealed material is opaque bytea.
-- Constraints are named: src/postgres/error.rs maps a unique violation to
-- the field it concerns by the constraint's name.
-- Every table lives in the connection's search_path schema (the tests give
-- each run a schema of its own).

CREATE TABLE users (
    id            uuid        NOT NULL,
    email         text        NOT NULL,             -- lower-cased by the caller
    username      text,                             -- lower-cased; NULLs never collide
    name          text,
    password_hash text        NOT NULL,             -- argon2id PHC string
    roles         text[]      NOT NULL DEFAULT '{}',
    is_active     boolean     NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_username_key UNIQUE (username)
);

CREATE TABLE sessions (
    id           uuid        NOT NULL,              -- the `sid` claim
    user_id      uuid        NOT NULL,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    ip           text,
    user_agent   text,
    audience     text        NOT NULL,              -- the aud chosen at login, kept by refreshes
    revoked_at   timestamptz,                       -- set once, never unset
    CONSTRAINT sessions_pkey PRIMARY KEY (id),
    CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX sessions_user_id ON sessions (user_id);
-- revoked_since(): only revoked rows are indexed.
CREATE INDEX sessions_revoked_at ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
-- count_live_sessions(): only unrevoked rows are indexed.
CREATE INDEX sessions_live_expires_at ON sessions (expires_at) WHERE revoked_at IS NULL;

CREATE TABLE refresh_tokens (
    hash             bytea       NOT NULL,          -- SHA-256 of the token
    session_id       uuid        NOT NULL,
    generation       bigint      NOT NULL,
    issued_at        timestamptz NOT NULL,
    used_at          timestamptz,                   -- set by rotation; a second use is reuse
    successor        bytea,
    successor_sealed bytea,                         -- kept for the reuse grace window only
    expires_at       timestamptz NOT NULL,
    CONSTRAINT refresh_tokens_pkey PRIMARY KEY (hash),
    CONSTRAINT refresh_tokens_hash_len CHECK (octet_length(hash) = 32),
    CONSTRAINT refresh_tokens_successor_len CHECK (successor IS NULL OR octet_length(successor) = 32),
    CONSTRAINT refresh_tokens_session_id_fkey FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE
);

CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);
-- wipe_sealed_successors(): only rows still holding a sealed successor are indexed.
CREATE INDEX refresh_tokens_sealed_used_at ON refresh_tokens (used_at) WHERE successor_sealed IS NOT NULL;

CREATE TABLE signing_keys (
    kid            text        NOT NULL,
    alg            text        NOT NULL,
    state          text        NOT NULL,            -- next | active | retired | expired (serde names of KeyState)
    private_sealed bytea       NOT NULL,            -- AES-256-GCM under the master key, kid as AAD
    created_at     timestamptz NOT NULL,
    activates_at   timestamptz,
    retires_at     timestamptz,
    expires_at     timestamptz,
    CONSTRAINT signing_keys_pkey PRIMARY KEY (kid)
);
