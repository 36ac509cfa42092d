--liquibase formatted sql

--changeset portcullis:001-users
CREATE TABLE users (
  id                   uuid PRIMARY KEY,
  aud                  text        NOT NULL DEFAULT 'authenticated',
  role                 text        NOT NULL DEFAULT 'authenticated',
  email                text,
  phone                text,
  encrypted_password   text,
  email_confirmed_at   timestamptz,
  phone_confirmed_at   timestamptz,
  confirmation_sent_at timestamptz,
  recovery_sent_at     timestamptz,
  new_email            text,
  last_sign_in_at      timestamptz,
  banned_until         timestamptz,
  app_metadata         jsonb       NOT NULL DEFAULT '{}'::jsonb,
  user_metadata        jsonb       NOT NULL DEFAULT '{}'::jsonb,
  is_anonymous         boolean     NOT NULL DEFAULT false,
  created_at           timestamptz NOT NULL,
  updated_at           timestamptz NOT NULL,
  deleted_at           timestamptz
);
-- Emails are stored trimmed and lower-cased, so a plain unique index compares them case-insensitively.
CREATE UNIQUE INDEX users_email_key ON users (email) WHERE email IS NOT NULL;

--changeset portcullis:001-sessions
CREATE TABLE sessions (
  id              uuid PRIMARY KEY,
  user_id         uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  aal             text        NOT NULL DEFAULT 'aal1',
  amr_method      text        NOT NULL,
  amr_at          timestamptz NOT NULL,
  refresh_counter bigint      NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  refreshed_at    timestamptz,
  not_after       timestamptz,
  ip              text,
  user_agent      text
);
CREATE INDEX sessions_user_id ON sessions (user_id);

-- Refresh tokens are stored only as SHA-256 hashes; parent_id links a rotated token to its child.
CREATE TABLE refresh_tokens (
  id         bigserial PRIMARY KEY,
  token_hash bytea       NOT NULL UNIQUE,
  session_id uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  counter    bigint      NOT NULL,
  parent_id  bigint,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL
);
CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);

--changeset portcullis:001-keys
-- Signing keys shared by every instance. status: current (signs), previous (verifies only), next (published).
CREATE TABLE signing_keys (
  kid         text PRIMARY KEY,
  algorithm   text        NOT NULL,
  private_jwk text        NOT NULL,
  public_jwk  text,
  status      text        NOT NULL,
  created_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (algorithm) WHERE status = 'current';

-- Server-side secrets generated on first start (the refresh-token derivation key).
CREATE TABLE server_secrets (
  name       text PRIMARY KEY,
  value      bytea       NOT NULL,
  created_at timestamptz NOT NULL
);

--changeset portcullis:001-audit
CREATE TABLE audit_log (
  id         bigserial PRIMARY KEY,
  type       text        NOT NULL,
  user_id    uuid,
  session_id uuid,
  ip         text,
  user_agent text,
  created_at timestamptz NOT NULL
);
CREATE INDEX audit_log_created_at ON audit_log (created_at DESC);
CREATE INDEX audit_log_user_id ON audit_log (user_id);
