package io.portcullis;

import io.portcullis.config.Config;
import io.portcullis.mail.MailTemplates;
import io.portcullis.metrics.AuthMetrics;
import io.portcullis.session.SessionCache;
import io.portcullis.token.KeySet;
import io.vertx.pgclient.PgConnectOptions;

import java.security.SecureRandom;
import java.time.Clock;

/**
 * What every verticle of one process shares: the validated configuration, where the database is, the signing
 * keys and mail templates loaded at start-up, and the injected clock and randomness (so tests can move time).
 */
public record AppContext(Config config, PgConnectOptions database, KeySet keys, MailTemplates templates, Clock clock,
                         SecureRandom random, AuthMetrics metrics, SessionCache sessions) {
}
