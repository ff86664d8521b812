-- A service client can be disabled without being deleted (same conventions
-- as 0001_init.sql): a disabled client gets no tokens and its live tokens
-- are refused, like a disabled user's; enabling it restores both.

ALTER TABLE clients ADD COLUMN is_active boolean NOT NULL DEFAULT true;
