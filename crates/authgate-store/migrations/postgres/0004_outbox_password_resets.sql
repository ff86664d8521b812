-- Account recovery (issue 19): the mail outbox and password-reset tokens.

-- Mail waiting to be delivered, and (without its text) mail delivered or
-- given up, kept for the per-address hourly limits until purged.
CREATE TABLE outbox (
    id              uuid        NOT NULL,
    kind            text        NOT NULL,          -- MailKind (password_reset, …)
    recipient       text        NOT NULL,          -- envelope RCPT TO, lower-cased
    sender          text        NOT NULL,          -- envelope MAIL FROM
    sealed          bytea,                         -- RFC 5322 text sealed under the outbox subkey, id as context; NULL once delivered or given up
    attempts        integer     NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL,
    next_attempt_at timestamptz,                   -- NULL once delivered or given up
    sent_at         timestamptz,
    last_error      text,                          -- why the last attempt failed (never the message)
    CONSTRAINT outbox_pkey PRIMARY KEY (id)
);

-- claim_mail(): only pending rows are indexed.
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
-- count_mail_to(): the hourly limit per address.
CREATE INDEX outbox_recipient ON outbox (recipient, kind, created_at);

CREATE TABLE password_resets (
    hash                 bytea       NOT NULL,     -- SHA-256 of the token
    user_id              uuid        NOT NULL,
    password_fingerprint bytea       NOT NULL,     -- SHA-256 of the password hash at issue
    created_at           timestamptz NOT NULL,
    expires_at           timestamptz NOT NULL,
    CONSTRAINT password_resets_pkey PRIMARY KEY (hash),
    CONSTRAINT password_resets_hash_len CHECK (length(hash) = 32),
    CONSTRAINT password_resets_fingerprint_len CHECK (length(password_fingerprint) = 32),
    CONSTRAINT password_resets_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX password_resets_user_id ON password_resets (user_id);
CREATE INDEX password_resets_expires_at ON password_resets (expires_at);
