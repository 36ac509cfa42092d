--liquibase formatted sql

--changeset portcullis:020-flow-state
-- One browser sign-in in progress (PKCE by mail link, or through an external provider). Its id is the OAuth
-- `state` sent to a provider; the auth code the app exchanges is stored only as a SHA-256 hash. In PostgreSQL so
-- that any instance can finish a flow another began. Rows are single use and live minutes.
CREATE TABLE flow_state (
  id                     uuid PRIMARY KEY,
  user_id                uuid REFERENCES users (id) ON DELETE CASCADE,
  code_challenge         text,
  code_challenge_method  text,
  authentication_method  text        NOT NULL,
  provider               text,
  redirect_to            text,
  nonce                  text,
  provider_verifier      text,
  link_user_id           uuid REFERENCES users (id) ON DELETE CASCADE,
  provider_access_token  text,
  provider_refresh_token text,
  auth_code_hash         bytea UNIQUE,
  auth_code_issued_at    timestamptz,
  callback_at            timestamptz,
  created_at             timestamptz NOT NULL
);
CREATE INDEX flow_state_created_at ON flow_state (created_at);
ALTER TABLE one_time_tokens ADD COLUMN flow_state_id uuid REFERENCES flow_state (id) ON DELETE SET NULL;

--changeset portcullis:020-identities
-- Identities at external providers (the email identity is implied by app_metadata.providers containing "email").
CREATE TABLE identities (
  id              uuid PRIMARY KEY,
  user_id         uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  provider        text        NOT NULL,
  provider_id     text        NOT NULL,
  identity_data   jsonb       NOT NULL DEFAULT '{}'::jsonb,
  email           text,
  last_sign_in_at timestamptz,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  UNIQUE (provider, provider_id)
);
CREATE INDEX identities_user_id ON identities (user_id);
