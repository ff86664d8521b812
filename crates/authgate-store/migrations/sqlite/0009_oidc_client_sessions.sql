-- Sessions of relying parties (same conventions as 0001_init.sql): a code
-- exchange creates a session bound to the client that got it, with what
-- was granted, so that its refresh tokens (offline_access) refresh only
-- for that client, only at /oauth/token, never beyond the grant.
-- All four are NULL on a user's own logins, all four set on a client's.

ALTER TABLE sessions ADD COLUMN oidc_client_id TEXT
    REFERENCES oidc_clients (id) ON DELETE CASCADE;        -- the client (`client_id`, `aud`)
ALTER TABLE sessions ADD COLUMN oidc_scope TEXT;           -- the granted scopes, space-separated
ALTER TABLE sessions ADD COLUMN oidc_sid TEXT;             -- the browser session: the ID token's `sid`
ALTER TABLE sessions ADD COLUMN oidc_auth_time INTEGER;    -- the ID token's `auth_time`

-- RP-initiated logout and client deletion find a client's sessions.
CREATE INDEX sessions_oidc_client_id ON sessions (oidc_client_id)
    WHERE oidc_client_id IS NOT NULL;
