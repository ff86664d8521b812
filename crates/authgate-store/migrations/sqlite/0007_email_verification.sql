-- Email verification (issue 19): when an account's address was proven, and
-- the one-time links that prove one (for a new account's address, or for
-- the address an account asked to change to).

-- NULL until the address is verified; set again to NULL when it changes.
ALTER TABLE users ADD COLUMN email_verified_at INTEGER;

CREATE TABLE email_verifications (
    hash       BLOB    NOT NULL PRIMARY KEY CHECK (length(hash) = 32),  -- SHA-256 of the token
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT    NOT NULL,               -- the address the link proves (lower-cased)
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX email_verifications_user_id ON email_verifications (user_id);
CREATE INDEX email_verifications_expires_at ON email_verifications (expires_at);
