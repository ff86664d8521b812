-- Sessions of relying parties (same conventions as 0001_init.sql): a code
-- exchange creates a session bound to the client that got it, with what
-- was granted, so that its refresh tokens (offline_access) refresh only
-- for that client, only at /oauth/token, never beyond the grant.
-- All four are NULL on a user's own logins, all four set on a client's.

ALTER TABLE sessions
    ADD COLUMN oidc_client_id text
        REFERENCES oidc_clients (id) ON DELETE CASCADE,    -- the client (`client_id`, `aud`)
    ADD COLUMN oidc_scope     text,                        -- the granted scopes, space-separated
    ADD COLUMN oidc_sid       uuid,                        -- the browser session: the ID token's `sid`
    ADD COLUMN oidc_auth_time timestamptz,                 -- the ID token's `auth_time`
    ADD CONSTRAINT sessions_oidc_grant_whole CHECK (
        (oidc_client_id IS NULL) = (oidc_scope IS NULL)
        AND (oidc_client_id IS NULL) = (oidc_sid IS NULL)
        AND (oidc_client_id IS NULL) = (oidc_auth_time IS NULL));

-- RP-initiated logout and client deletion find a client's sessions.
CREATE INDEX sessions_oidc_client_id ON sessions (oidc_client_id)
    WHERE oidc_client_id IS NOT NULL;
