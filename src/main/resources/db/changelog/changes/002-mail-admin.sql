--liquibase formatted sql

--changeset portcullis:002-one-time-tokens
-- Links and codes sent by mail. Both are stored only as SHA-256 hashes; a row is used once.
-- type: signup, recovery, magiclink, invite, email_change_new, email_change_current
CREATE TABLE one_time_tokens (
  id          bigserial PRIMARY KEY,
  user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  type        text        NOT NULL,
  email       text        NOT NULL,
  link_hash   bytea       NOT NULL UNIQUE,
  code_hash   bytea       NOT NULL,
  redirect_to text,
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
CREATE INDEX one_time_tokens_email_type ON one_time_tokens (email, type) WHERE used_at IS NULL;
CREATE INDEX one_time_tokens_user_id ON one_time_tokens (user_id);

--changeset portcullis:002-mail-outbox
-- Mails waiting to be sent. The body is cleared once sent, so links do not linger.
CREATE TABLE mail_outbox (
  id              bigserial PRIMARY KEY,
  recipient       text        NOT NULL,
  kind            text        NOT NULL,
  subject         text        NOT NULL,
  html            text,
  text_body       text,
  attempts        int         NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  last_error      text,
  created_at      timestamptz NOT NULL,
  sent_at         timestamptz,
  failed_at       timestamptz
);
CREATE INDEX mail_outbox_pending ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;

--changeset portcullis:002-email-sends
ALTER TABLE users ADD COLUMN email_change_sent_at timestamptz;
-- The last mail sent to an address, known user or not, for the per-address send interval.
CREATE TABLE email_send_log (
  email        text PRIMARY KEY,
  last_sent_at timestamptz NOT NULL
);

--changeset portcullis:002-roles
-- Roles and permissions, read with vertx-auth-sql-client's SqlAuthorization on every admin request.
CREATE TABLE user_roles (
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role    text NOT NULL,
  PRIMARY KEY (user_id, role)
);
CREATE TABLE role_permissions (
  role       text NOT NULL,
  permission text NOT NULL,
  PRIMARY KEY (role, permission)
);
INSERT INTO role_permissions (role, permission) VALUES ('admin', 'users:manage'), ('admin', 'audit:read');

--changeset portcullis:002-audit-detail
ALTER TABLE audit_log ADD COLUMN actor_id uuid;
