package io.portcullis.mail;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.portcullis.account.MailFlowTest;
import io.portcullis.it.Await;
import io.portcullis.it.DbRows;
import io.portcullis.it.Mailbox;
import io.portcullis.it.TestApp;
import io.portcullis.mail.MailVerticle;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * How mails leave: through the outbox, retried while the SMTP server is down without failing the request that
 * wrote them, delivered once it is up; and, with no SMTP server configured, written to the log.
 */
class MailDeliveryTest {

  static final String PASSWORD = "password123";

  @Test
  void aMailWrittenWhileSmtpIsDownIsRetriedAndDeliveredOnceItIsUp() {
    Mailbox mailbox = Mailbox.down();
    Map<String, String> env = new HashMap<>(mailbox.env());
    env.put("PORTCULLIS_SIGNUP_AUTOCONFIRM", "false");
    try (TestApp app = TestApp.start(env); mailbox) {
      String email = TestApp.uniqueEmail();
      TestApp.Response signup = app.postJson(BASE + "/signup",
        new JsonObject().put("email", email).put("password", PASSWORD));
      assertEquals(200, signup.status(), "the user exists, so the request succeeds: " + signup.raw());
      String id = signup.json().getString("id");
      assertFalse(signup.json().containsKey("access_token"));

      String row = "FROM mail_outbox WHERE recipient = ?";
      waitFor(() -> DbRows.string(app, "SELECT last_error " + row, email) != null, "a failed attempt");
      assertTrue(Integer.parseInt(DbRows.string(app, "SELECT attempts " + row, email)) >= 1);
      assertNull(DbRows.string(app, "SELECT sent_at " + row, email));
      assertNull(DbRows.string(app, "SELECT failed_at " + row, email));
      assertNotNull(DbRows.string(app, "SELECT text_body " + row, email), "kept for the retry");

      mailbox.listen();
      // Past the retry time the outbox set (5 s of app time after the first failure, more after later ones).
      Instant retryAt = OffsetDateTime.parse(DbRows.string(app,
        "SELECT to_char(next_attempt_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') " + row, email))
        .toInstant();
      Duration wait = Duration.between(app.clock.instant(), retryAt);
      app.clock.advance((wait.isNegative() ? Duration.ZERO : wait).plusSeconds(1));

      Mailbox.Mail mail = mailbox.next(email);
      assertEquals(Mailbox.subject("confirmation"), mail.subject());
      waitFor(() -> DbRows.string(app, "SELECT sent_at " + row, email) != null, "the row marked sent");
      assertNull(DbRows.string(app, "SELECT last_error " + row, email));
      assertNull(DbRows.string(app, "SELECT html " + row, email), "the body is not kept once sent");
      assertNull(DbRows.string(app, "SELECT text_body " + row, email));

      TestApp.Response verified = app.postJson(BASE + "/verify", new JsonObject().put("type", "signup")
        .put("email", email).put("token", mail.code()));
      MailFlowTest.assertSessionOf(app, verified, id);
    }
  }

  @Test
  void recoverAnswersOkWhileSmtpIsDown() {
    Mailbox mailbox = Mailbox.down();
    try (TestApp app = TestApp.start(mailbox.env()); mailbox) {
      String email = TestApp.uniqueEmail();
      app.signUp(email, PASSWORD);
      TestApp.Response r = app.postJson(BASE + "/recover", new JsonObject().put("email", email));
      assertEquals(200, r.status(), r.raw());
      assertEquals("{}", r.raw());
      waitFor(() -> DbRows.string(app, "SELECT last_error FROM mail_outbox WHERE recipient = ?", email) != null,
        "a failed attempt");
      assertEquals("recovery", DbRows.string(app, "SELECT kind FROM mail_outbox WHERE recipient = ?", email));
    }
  }

  @Test
  void withoutAnSmtpHostMailsAreWrittenToTheLogWithALinkThatWorks() {
    Logger logger = (Logger) LoggerFactory.getLogger(MailVerticle.class);
    Queue<String> logged = new ConcurrentLinkedQueue<>();
    AppenderBase<ILoggingEvent> capture = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent event) {
        logged.add(event.getFormattedMessage());
      }
    };
    capture.start();
    logger.addAppender(capture);
    try (TestApp app = TestApp.start(Map.of("PORTCULLIS_SIGNUP_AUTOCONFIRM", "false"))) {
      assertFalse(app.config.smtp().enabled(), "the default configuration has no SMTP host");
      String email = TestApp.uniqueEmail();
      TestApp.Response signup = app.postJson(BASE + "/signup",
        new JsonObject().put("email", email).put("password", PASSWORD));
      assertEquals(200, signup.status(), signup.raw());
      String id = signup.json().getString("id");
      String row = "FROM mail_outbox WHERE recipient = ? AND kind = 'confirmation'";
      waitFor(() -> DbRows.string(app, "SELECT sent_at " + row, email) != null, "the confirmation marked sent");
      assertEquals("1", DbRows.string(app, "SELECT attempts " + row, email));
      assertNull(DbRows.string(app, "SELECT last_error " + row, email));
      assertNull(DbRows.string(app, "SELECT html " + row, email), "the body is not kept once logged");
      assertNull(DbRows.string(app, "SELECT text_body " + row, email));

      String line = logged.stream().filter(m -> m.contains(email)).findFirst()
        .orElseGet(() -> fail("no log line for " + email + ": " + logged));
      assertTrue(line.contains(Mailbox.subject("confirmation")), line);
      Matcher link = Pattern.compile("https?://\\S+/auth/v1(/verify\\?\\S+)").matcher(line);
      assertTrue(link.find(), line);
      // The developer clicks through from the log.
      TestApp.Response followed = app.get(BASE + link.group(1));
      assertEquals(303, followed.status(), followed.raw());
      String location = followed.header("Location");
      assertTrue(location.startsWith(app.config.siteUrl() + "#access_token="), location);
      assertEquals(id, DbRows.string(app, "SELECT id FROM users WHERE email = ? AND email_confirmed_at IS NOT NULL",
        email));

      TestApp.Response r = app.postJson(BASE + "/recover", new JsonObject().put("email", email));
      assertEquals(200, r.status(), r.raw());
      assertEquals("{}", r.raw());
      String recovery = "FROM mail_outbox WHERE recipient = ? AND kind = 'recovery'";
      waitFor(() -> DbRows.string(app, "SELECT sent_at " + recovery, email) != null, "the recovery marked sent");
      assertNull(DbRows.string(app, "SELECT text_body " + recovery, email));
    } finally {
      logger.detachAppender(capture);
    }
  }

  /**
   * Waits, up to 20 s, for what the mail sender does in the background (it runs right after the request and
   * every 5 s). This waits for work to finish, not for time to pass: moving the clock cannot replace it.
   */
  private static void waitFor(BooleanSupplier condition, String what) {
    Await.until(Duration.ofMillis(Mailbox.WAIT_MS), what, condition);
  }
}
