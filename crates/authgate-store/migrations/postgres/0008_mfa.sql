-- Second factors (issue 19): TOTP factors, recovery codes, and the
-- pending second steps of logins.

-- One TOTP factor per user; pending until a code confirms it.
CREATE TABLE totp_factors (
    user_id       uuid        NOT NULL,
    sealed_secret bytea       NOT NULL,      -- sealed under the TOTP-secret subkey, user id as context
    created_at    timestamptz NOT NULL,
    confirmed_at  timestamptz,               -- NULL while pending
    last_step     bigint,                    -- last accepted time step: no replay
    CONSTRAINT totp_factors_pkey PRIMARY KEY (user_id),
    CONSTRAINT totp_factors_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE TABLE recovery_codes (
    hash       bytea       NOT NULL,         -- SHA-256 of user id and code
    user_id    uuid        NOT NULL,
    created_at timestamptz NOT NULL,
    used_at    timestamptz,                  -- NULL while unused
    CONSTRAINT recovery_codes_pkey PRIMARY KEY (hash),
    CONSTRAINT recovery_codes_hash_len CHECK (length(hash) = 32),
    CONSTRAINT recovery_codes_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX recovery_codes_user_id ON recovery_codes (user_id);

CREATE TABLE mfa_challenges (
    hash       bytea       NOT NULL,         -- SHA-256 of the mfa_token
    user_id    uuid        NOT NULL,
    audience   text        NOT NULL,
    browser    boolean     NOT NULL,
    attempts   integer     NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    CONSTRAINT mfa_challenges_pkey PRIMARY KEY (hash),
    CONSTRAINT mfa_challenges_hash_len CHECK (length(hash) = 32),
    CONSTRAINT mfa_challenges_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX mfa_challenges_user_id ON mfa_challenges (user_id);
CREATE INDEX mfa_challenges_expires_at ON mfa_challenges (expires_at);
