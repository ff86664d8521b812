-- Email verification (issue 19): when an account's address was proven, and
-- the one-time links that prove one (for a new account's address, or for
-- the address an account asked to change to).

-- NULL until the address is verified; set again to NULL when it changes.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;

CREATE TABLE email_verifications (
    hash       bytea       NOT NULL,           -- SHA-256 of the token
    user_id    uuid        NOT NULL,
    email      text        NOT NULL,           -- the address the link proves (lower-cased)
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    CONSTRAINT email_verifications_pkey PRIMARY KEY (hash),
    CONSTRAINT email_verifications_hash_len CHECK (length(hash) = 32),
    CONSTRAINT email_verifications_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX email_verifications_user_id ON email_verifications (user_id);
CREATE INDEX email_verifications_expires_at ON email_verifications (expires_at);
