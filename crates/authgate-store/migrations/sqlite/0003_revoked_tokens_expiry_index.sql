-- The purge deletes revoked tokens by expiry (`expires_at < cutoff`, in
-- batches); without this index every batch scanned the whole table.
CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);
