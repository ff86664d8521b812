-- The OpenID Connect provider (same conventions as 0001_init.sql).

-- Relying parties registered by an administrator.
CREATE TABLE oidc_clients (
    id                        text        NOT NULL,      -- the client_id, the `aud` of its ID tokens
    name                      text        NOT NULL,
    secret_hash               bytea       CHECK (secret_hash IS NULL OR length(secret_hash) = 32),  -- NULL: a public client
    redirect_uris             text[]      NOT NULL,
    post_logout_redirect_uris text[]      NOT NULL DEFAULT '{}',
    scopes                    text[]      NOT NULL,
    first_party               boolean     NOT NULL,
    created_at                timestamptz NOT NULL,
    CONSTRAINT oidc_clients_pkey PRIMARY KEY (id)
);

-- Authorization codes, by hash only; single use (used_at), 60 s.
CREATE TABLE oidc_codes (
    hash               bytea       NOT NULL CHECK (length(hash) = 32),  -- SHA-256 of the code
    client_id          text        NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    redirect_uri       text        NOT NULL,
    user_id            uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    browser_session_id uuid        NOT NULL,         -- the ID token's `sid`
    scopes             text[]      NOT NULL,
    code_challenge     text        NOT NULL,         -- PKCE S256
    nonce              text,
    auth_time          timestamptz NOT NULL,
    created_at         timestamptz NOT NULL,
    expires_at         timestamptz NOT NULL,
    used_at            timestamptz,                  -- set once; a second exchange is reuse
    issued_session_id  uuid,                         -- the session the exchange created
    CONSTRAINT oidc_codes_pkey PRIMARY KEY (hash)
);

CREATE INDEX oidc_codes_expires_at ON oidc_codes (expires_at);

-- What each user allowed each client (a later request for the same or
-- fewer scopes is not asked again).
CREATE TABLE oidc_consents (
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  text        NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    scopes     text[]      NOT NULL,
    granted_at timestamptz NOT NULL,
    CONSTRAINT oidc_consents_pkey PRIMARY KEY (user_id, client_id)
);

-- Which tokens a signing key signs: `access` (every key before this
-- migration) or `id_token` (RS256 keys of ID tokens, their own rotation).
ALTER TABLE signing_keys ADD COLUMN lane text NOT NULL DEFAULT 'access'
    CHECK (lane IN ('access', 'id_token'));
