--liquibase formatted sql

--changeset portcullis:020-rate-limit-buckets
-- Rate-limit buckets shared by every instance of a cluster (one budget per client, whichever instance it calls).
-- full_at: when the bucket will have refilled; a row past it says nothing a missing row would not, so it can go.
CREATE TABLE rate_limit_buckets (
  key        text PRIMARY KEY,
  tokens     double precision NOT NULL,
  granted    boolean          NOT NULL,
  updated_at timestamptz      NOT NULL,
  full_at    timestamptz      NOT NULL
);
CREATE INDEX rate_limit_buckets_full_at ON rate_limit_buckets (full_at);
