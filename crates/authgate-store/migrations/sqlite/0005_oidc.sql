-- The OpenID Connect provider (same conventions as 0001_init.sql).

-- Relying parties registered by an administrator.
CREATE TABLE oidc_clients (
    id                        TEXT    NOT NULL PRIMARY KEY,  -- the client_id, the `aud` of its ID tokens
    name                      TEXT    NOT NULL,
    secret_hash               BLOB    CHECK (secret_hash IS NULL OR length(secret_hash) = 32),  -- NULL: a public client
    redirect_uris             TEXT    NOT NULL,              -- JSON array of exact URIs
    post_logout_redirect_uris TEXT    NOT NULL DEFAULT '[]', -- JSON array of exact URIs
    scopes                    TEXT    NOT NULL,              -- JSON array of scope names
    first_party               INTEGER NOT NULL CHECK (first_party IN (0, 1)),
    created_at                INTEGER NOT NULL
) STRICT;

-- Authorization codes, by hash only; single use (used_at), 60 s.
CREATE TABLE oidc_codes (
    hash               BLOB    NOT NULL PRIMARY KEY CHECK (length(hash) = 32),  -- SHA-256 of the code
    client_id          TEXT    NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    redirect_uri       TEXT    NOT NULL,
    user_id            TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    browser_session_id TEXT    NOT NULL,             -- the ID token's `sid`
    scopes             TEXT    NOT NULL,             -- JSON array of scope names
    code_challenge     TEXT    NOT NULL,             -- PKCE S256
    nonce              TEXT,
    auth_time          INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL,
    used_at            INTEGER,                      -- set once; a second exchange is reuse
    issued_session_id  TEXT                          -- the session the exchange created
) STRICT;

CREATE INDEX oidc_codes_expires_at ON oidc_codes (expires_at);

-- What each user allowed each client (a later request for the same or
-- fewer scopes is not asked again).
CREATE TABLE oidc_consents (
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT    NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    scopes     TEXT    NOT NULL,                     -- JSON array of scope names
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
) STRICT;

-- Which tokens a signing key signs: `access` (every key before this
-- migration) or `id_token` (RS256 keys of ID tokens, their own rotation).
ALTER TABLE signing_keys ADD COLUMN lane TEXT NOT NULL DEFAULT 'access'
    CHECK (lane IN ('access', 'id_token'));
