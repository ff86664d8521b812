-- Second factors (issue 19): TOTP factors, recovery codes, and the
-- pending second steps of logins.

-- One TOTP factor per user; pending until a code confirms it.
CREATE TABLE totp_factors (
    user_id       TEXT    NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sealed_secret BLOB    NOT NULL,          -- sealed under the TOTP-secret subkey, user id as context
    created_at    INTEGER NOT NULL,
    confirmed_at  INTEGER,                   -- NULL while pending
    last_step     INTEGER                    -- last accepted time step: no replay
) STRICT;

CREATE TABLE recovery_codes (
    hash       BLOB    NOT NULL PRIMARY KEY CHECK (length(hash) = 32), -- SHA-256 of user id and code
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    used_at    INTEGER                        -- NULL while unused
) STRICT;

CREATE INDEX recovery_codes_user_id ON recovery_codes (user_id);

CREATE TABLE mfa_challenges (
    hash       BLOB    NOT NULL PRIMARY KEY CHECK (length(hash) = 32), -- SHA-256 of the mfa_token
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    audience   TEXT    NOT NULL,
    browser    INTEGER NOT NULL,              -- 1: a browser's login
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX mfa_challenges_user_id ON mfa_challenges (user_id);
CREATE INDEX mfa_challenges_expires_at ON mfa_challenges (expires_at);
