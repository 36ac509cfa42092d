package io.portcullis.mail;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;

/**
 * All SQL of the mail outbox. A mail is written in the same transaction as the token it carries, so a request
 * that was told "sent" has its mail committed; the MailVerticle then delivers it, with retries.
 */
public final class MailOutbox {

  private static final String INSERT = "INSERT INTO mail_outbox (recipient, kind, subject, html, text_body, "
    + "next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $6)";
  /** Claims due mails for a lease: a process that dies mid-send leaves them to be retried after it. */
  private static final String CLAIM = "UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = $1 "
    + "WHERE id IN (SELECT id FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2 "
    + "ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED) "
    + "RETURNING id, recipient, kind, subject, html, text_body, attempts";
  private static final String SENT = "UPDATE mail_outbox SET sent_at = $2, html = NULL, text_body = NULL, "
    + "last_error = NULL WHERE id = $1";
  private static final String RETRY = "UPDATE mail_outbox SET next_attempt_at = $2, last_error = $3 WHERE id = $1";
  private static final String FAILED = "UPDATE mail_outbox SET failed_at = $2, last_error = $3, html = NULL, "
    + "text_body = NULL WHERE id = $1";

  /** A mail claimed for sending. */
  public record Pending(long id, String recipient, String kind, String subject, String html, String text, int attempts) {
  }

  private MailOutbox() {
  }

  public static Future<Void> enqueue(SqlClient client, String recipient, MailTemplates.Mail mail, OffsetDateTime now) {
    return client.preparedQuery(INSERT)
      .execute(Tuple.of(recipient, mail.kind(), mail.subject(), mail.html(), mail.text(), now))
      .mapEmpty();
  }

  public static Future<List<Pending>> claim(SqlClient client, OffsetDateTime now, OffsetDateTime leaseUntil, int max) {
    return client.preparedQuery(CLAIM).execute(Tuple.of(leaseUntil, now, max)).map(MailOutbox::pending);
  }

  public static Future<Void> sent(SqlClient client, long id, OffsetDateTime now) {
    return client.preparedQuery(SENT).execute(Tuple.of(id, now)).mapEmpty();
  }

  public static Future<Void> retry(SqlClient client, long id, OffsetDateTime at, String error) {
    return client.preparedQuery(RETRY).execute(Tuple.of(id, at, error)).mapEmpty();
  }

  public static Future<Void> failed(SqlClient client, long id, OffsetDateTime now, String error) {
    return client.preparedQuery(FAILED).execute(Tuple.of(id, now, error)).mapEmpty();
  }

  private static List<Pending> pending(RowSet<Row> rows) {
    List<Pending> out = new ArrayList<>();
    for (Row row : rows) {
      out.add(new Pending(row.getLong("id"), row.getString("recipient"), row.getString("kind"),
        row.getString("subject"), row.getString("html"), row.getString("text_body"), row.getInteger("attempts")));
    }
    return out;
  }
}
