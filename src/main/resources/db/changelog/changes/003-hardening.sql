--liquibase formatted sql

--changeset portcullis:003-login-failures
-- Consecutive failed sign-ins per account (brute-force protection), shared by every instance.
CREATE TABLE login_failures (
  user_id         uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  failures        int         NOT NULL,
  last_failure_at timestamptz NOT NULL,
  locked_until    timestamptz
);

--changeset portcullis:003-key-rotation
-- Key states follow from time: the newest key whose activate_at has passed signs; newer ones are published
-- ahead of signing; older ones verify until the longest-lived token they signed (max_exp for service keys,
-- access-token lifetime otherwise) has expired.
ALTER TABLE signing_keys ADD COLUMN activate_at timestamptz;
UPDATE signing_keys SET activate_at = created_at;
ALTER TABLE signing_keys ALTER COLUMN activate_at SET NOT NULL;
ALTER TABLE signing_keys ADD COLUMN max_exp timestamptz;
DROP INDEX signing_keys_one_current;
ALTER TABLE signing_keys DROP COLUMN status;

--changeset portcullis:003-otp-attempts
-- Wrong codes entered for an address: its outstanding codes stop working after a few, so a 6-digit code cannot be
-- guessed within its lifetime.
ALTER TABLE one_time_tokens ADD COLUMN attempts int NOT NULL DEFAULT 0;
