package io.portcullis.account;

import io.portcullis.it.AppExtension;
import io.portcullis.it.AppExtension.App;
import io.portcullis.it.AppExtension.Inbox;
import io.portcullis.it.DbRows;
import io.portcullis.it.Mailbox;
import io.portcullis.it.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Guessing a mailed 6-digit code stops working after a few tries; PBKDF2 hashes imported from Django sign in. */
@ExtendWith(AppExtension.class)
class CodeGuessingAndImportTest {

  @Inbox
  static Mailbox mailbox;
  @App("PORTCULLIS_SIGNUP_AUTOCONFIRM=false")
  static TestApp app;

  @Test
  void fiveWrongCodesForAnAddressInvalidateItsOutstandingCodeUntilANewMail() {
    String email = TestApp.uniqueEmail();
    assertEquals(200, app.postJson(BASE + "/signup", new JsonObject().put("email", email).put("password", "pass-word-1")).status());
    String code = mailbox.next(email).code();
    String wrong = code.equals("000000") ? "111111" : "000000";
    for (int i = 0; i < 5; i++) {
      TestApp.Response r = app.postJson(BASE + "/verify", verify(email, wrong));
      assertEquals(403, r.status());
      assertEquals("otp_expired", r.errorCode());
    }
    TestApp.Response right = app.postJson(BASE + "/verify", verify(email, code));
    assertEquals(403, right.status(), "the right code after five wrong ones: " + right.raw());
    assertEquals("otp_expired", right.errorCode());

    app.clock.advance(java.time.Duration.ofSeconds(61));
    assertEquals(200, app.postJson(BASE + "/resend", new JsonObject().put("type", "signup").put("email", email)).status());
    String fresh = mailbox.next(email).code();
    TestApp.Response confirmed = app.postJson(BASE + "/verify", verify(email, fresh));
    assertEquals(200, confirmed.status(), confirmed.raw());
    assertTrue(confirmed.json().containsKey("access_token"));
  }

  @Test
  void aDjangoPbkdf2HashSignsInAndIsReplacedByArgon2id() throws Exception {
    String email = TestApp.uniqueEmail();
    String password = "imported-secret-9";
    String salt = "s4ltS4lt";
    int iterations = 1000;
    byte[] hash = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
      .generateSecret(new PBEKeySpec(password.toCharArray(), salt.getBytes(StandardCharsets.UTF_8), iterations, 256))
      .getEncoded();
    String stored = "pbkdf2_sha256$" + iterations + "$" + salt + "$" + Base64.getEncoder().encodeToString(hash);
    DbRows.update(app, "INSERT INTO users (id, email, encrypted_password, email_confirmed_at, created_at, updated_at) "
      + "VALUES (gen_random_uuid(), ?, ?, now(), now(), now())", email, stored);

    TestApp.Response wrong = app.postJson(BASE + "/token?grant_type=password",
      new JsonObject().put("email", email).put("password", "not-it-at-all"));
    assertEquals(400, wrong.status());
    assertEquals("invalid_credentials", wrong.errorCode());

    TestApp.Response ok = app.postJson(BASE + "/token?grant_type=password",
      new JsonObject().put("email", email).put("password", password));
    assertEquals(200, ok.status(), ok.raw());
    String now = DbRows.string(app, "SELECT encrypted_password FROM users WHERE email = ?", email);
    assertTrue(now.startsWith("$argon2id$"), now);
  }

  private static JsonObject verify(String email, String code) {
    return new JsonObject().put("type", "signup").put("email", email).put("token", code);
  }
}
