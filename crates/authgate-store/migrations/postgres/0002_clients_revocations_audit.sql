-- Service clients, revoked access tokens and the audit trail
-- (same conventions as 0001_init.sql).

CREATE TABLE clients (
    id          text        NOT NULL,               -- the client_id, also the `sub` of its tokens
    name        text        NOT NULL,
    secret_hash bytea       NOT NULL CHECK (length(secret_hash) = 32),  -- SHA-256 of the 256-bit secret
    roles       text[]      NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    CONSTRAINT clients_pkey PRIMARY KEY (id)
);

-- Access tokens revoked one by one (RFC 7009, client tokens), kept until
-- they would have expired anyway.
CREATE TABLE revoked_tokens (
    jti        text        NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz NOT NULL,
    CONSTRAINT revoked_tokens_pkey PRIMARY KEY (jti)
);

CREATE INDEX revoked_tokens_revoked_at ON revoked_tokens (revoked_at);

-- Append-only: nothing updates or deletes rows.
CREATE TABLE audit_events (
    id         uuid        NOT NULL,                -- UUID v7: sorts by time
    at         timestamptz NOT NULL,
    kind       text        NOT NULL,
    user_id    uuid,
    actor_id   text,
    client_id  text,
    session_id uuid,
    ip         text,
    user_agent text,
    details    jsonb       NOT NULL DEFAULT '{}',   -- never a secret
    CONSTRAINT audit_events_pkey PRIMARY KEY (id)
);

CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_user_at ON audit_events (user_id, at) WHERE user_id IS NOT NULL;
CREATE INDEX audit_events_kind_at ON audit_events (kind, at);
