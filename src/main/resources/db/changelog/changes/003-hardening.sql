--liquibase formatted sql

--changeset portcullis:003-login-failures
-- Consecutive failed sign-ins per account (brute-force protection), shared by every instance.
CREATE TABLE login_failures (
  user_id         uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  failures        int         NOT NULL,
  last_failure_at timestamptz NOT NULL,
  locked_until    timestamptz
);
