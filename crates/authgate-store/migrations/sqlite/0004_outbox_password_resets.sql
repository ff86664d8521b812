-- Account recovery (issue 19): the mail outbox and password-reset tokens.

-- Mail waiting to be delivered, and (without its text) mail delivered or
-- given up, kept for the per-address hourly limits until purged.
CREATE TABLE outbox (
    id              TEXT    NOT NULL PRIMARY KEY,
    kind            TEXT    NOT NULL,              -- MailKind (password_reset, …)
    recipient       TEXT    NOT NULL,              -- envelope RCPT TO, lower-cased
    sender          TEXT    NOT NULL,              -- envelope MAIL FROM
    sealed          BLOB,                          -- RFC 5322 text sealed under the outbox subkey, id as context; NULL once delivered or given up
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER,                       -- NULL once delivered or given up
    sent_at         INTEGER,
    last_error      TEXT                           -- why the last attempt failed (never the message)
) STRICT;

-- claim_mail(): only pending rows are indexed.
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
-- count_mail_to(): the hourly limit per address.
CREATE INDEX outbox_recipient ON outbox (recipient, kind, created_at);

CREATE TABLE password_resets (
    hash                 BLOB    NOT NULL PRIMARY KEY CHECK (length(hash) = 32),  -- SHA-256 of the token
    user_id              TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_fingerprint BLOB    NOT NULL CHECK (length(password_fingerprint) = 32), -- SHA-256 of the password hash at issue
    created_at           INTEGER NOT NULL,
    expires_at           INTEGER NOT NULL
) STRICT;

CREATE INDEX password_resets_user_id ON password_resets (user_id);
CREATE INDEX password_resets_expires_at ON password_resets (expires_at);
