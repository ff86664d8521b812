-- Service clients, revoked access tokens and the audit trail
-- (same conventions as 0001_init.sql).

CREATE TABLE clients (
    id          TEXT    NOT NULL PRIMARY KEY,       -- the client_id, also the `sub` of its tokens
    name        TEXT    NOT NULL,
    secret_hash BLOB    NOT NULL CHECK (length(secret_hash) = 32),  -- SHA-256 of the 256-bit secret
    roles       TEXT    NOT NULL DEFAULT '[]',      -- JSON array of role names
    created_at  INTEGER NOT NULL
) STRICT;

-- Access tokens revoked one by one (RFC 7009, client tokens), kept until
-- they would have expired anyway.
CREATE TABLE revoked_tokens (
    jti        TEXT    NOT NULL PRIMARY KEY,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL
) STRICT;

CREATE INDEX revoked_tokens_revoked_at ON revoked_tokens (revoked_at);

-- Append-only: nothing updates or deletes rows.
CREATE TABLE audit_events (
    id         TEXT    NOT NULL PRIMARY KEY,        -- UUID v7: sorts by time
    at         INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    user_id    TEXT,
    actor_id   TEXT,
    client_id  TEXT,
    session_id TEXT,
    ip         TEXT,
    user_agent TEXT,
    details    TEXT    NOT NULL DEFAULT '{}'        -- JSON object; never a secret
) STRICT;

CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_user_at ON audit_events (user_id, at) WHERE user_id IS NOT NULL;
CREATE INDEX audit_events_kind_at ON audit_events (kind, at);
