--liquibase formatted sql

--changeset portcullis:010-mfa-factors
-- TOTP factors. The secret is AES-256-GCM encrypted (jwt.keys_encryption_key) when a key is configured;
-- last_step is the RFC 6238 time step of the last accepted code, so that no code is accepted twice.
CREATE TABLE mfa_factors (
  id                 uuid PRIMARY KEY,
  user_id            uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  friendly_name      text,
  factor_type        text        NOT NULL,
  status             text        NOT NULL,
  secret             text        NOT NULL,
  last_step          bigint,
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL,
  last_challenged_at timestamptz
);
CREATE INDEX mfa_factors_user_id ON mfa_factors (user_id);
CREATE UNIQUE INDEX mfa_factors_user_friendly_name ON mfa_factors (user_id, friendly_name)
  WHERE friendly_name IS NOT NULL AND friendly_name <> '';

-- A challenge is answered once, from the address that asked for it; attempts counts wrong codes.
CREATE TABLE mfa_challenges (
  id          uuid PRIMARY KEY,
  factor_id   uuid        NOT NULL REFERENCES mfa_factors (id) ON DELETE CASCADE,
  ip          text,
  attempts    int         NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL
);
CREATE INDEX mfa_challenges_factor_id ON mfa_challenges (factor_id);

-- The second factor a session was raised to aal2 with (amr), and by which factor (downgraded when it goes).
ALTER TABLE sessions ADD COLUMN mfa_method text;
ALTER TABLE sessions ADD COLUMN mfa_at timestamptz;
ALTER TABLE sessions ADD COLUMN factor_id uuid;

-- Recovery codes stand in for the user's second factor, each once; stored as SHA-256 hashes (they are random
-- 50-bit values, so a fast hash is enough), replaced as a set.
CREATE TABLE mfa_recovery_codes (
  id         bigserial PRIMARY KEY,
  user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash  bytea       NOT NULL,
  created_at timestamptz NOT NULL,
  used_at    timestamptz
);
CREATE INDEX mfa_recovery_codes_user_id ON mfa_recovery_codes (user_id);
