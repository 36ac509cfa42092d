package io.portcullis.credential;

import io.portcullis.it.AppExtension;
import io.portcullis.it.AppExtension.App;
import io.portcullis.it.DbRows;
import io.portcullis.it.ErrorShapes;
import io.portcullis.it.TestApp;
import com.password4j.Argon2Function;
import com.password4j.BcryptFunction;
import com.password4j.Password;
import com.password4j.types.Argon2;
import com.password4j.types.Bcrypt;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;

import static io.portcullis.it.ErrorShapes.assertError;
import static io.portcullis.it.TestApp.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code POST /auth/v1/token} with the password grant, in JSON and RFC 6749 form bodies; re-hashing on sign-in. */
@ExtendWith(AppExtension.class)
class PasswordGrantTest {

  private static final String TOKEN = BASE + "/token";
  private static final String PASSWORD_GRANT = TOKEN + "?grant_type=password";
  private static final String PASSWORD = "password123";

  @App
  static TestApp app;

  private static JsonObject credentials(String email, String password) {
    return new JsonObject().put("email", email).put("password", password);
  }

  private static String enc(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  private static void assertSession(TestApp.Response r, String email) {
    assertEquals(200, r.status(), r.raw());
    assertEquals("no-store", r.header("Cache-Control"));
    assertEquals("no-cache", r.header("Pragma"));
    JsonObject session = r.json();
    assertNotNull(session.getString("access_token"));
    assertNotNull(session.getString("refresh_token"));
    assertEquals("bearer", session.getString("token_type"));
    assertTrue(session.getLong("expires_in") > 0);
    assertNotNull(session.getLong("expires_at"));
    assertEquals(email, session.getJsonObject("user").getString("email"));
  }

  @Test
  void jsonGrantIgnoresEmailCaseAndAnswersAnUncacheableSessionWithUser() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, PASSWORD);
    assertSession(app.postJson(PASSWORD_GRANT, credentials(email.toUpperCase(), PASSWORD)), email);
    assertSession(app.postJson(PASSWORD_GRANT, credentials("  " + email + " ", PASSWORD)), email);
  }

  @Test
  void formGrantWithScopeAndClientIdAnswersASession() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, PASSWORD);
    String form = "grant_type=password&username=" + enc(email) + "&password=" + enc(PASSWORD) + "&scope=x&client_id=y";
    assertSession(app.postForm(PASSWORD_GRANT, form), email);
    assertSession(app.postForm(TOKEN, form + "&client_secret=z"), email);
  }

  @Test
  void grantTypeInTheFormBodyAloneIsEnough() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, PASSWORD);
    assertSession(app.postForm(TOKEN, "username=" + enc(email) + "&password=" + enc(PASSWORD) + "&grant_type=password"),
      email);
  }

  @Test
  void wrongPasswordAndUnknownEmailAnswerTheSameInvalidCredentials() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, PASSWORD);
    ErrorShapes.Both wrong = assertError(400, "invalid_credentials",
      h -> app.postJson(PASSWORD_GRANT, credentials(email, "wrong-password"), h));
    ErrorShapes.Both unknown = assertError(400, "invalid_credentials",
      h -> app.postJson(PASSWORD_GRANT, credentials(TestApp.uniqueEmail(), "wrong-password"), h));
    assertEquals(wrong.legacy().raw(), unknown.legacy().raw());
    assertEquals(wrong.versioned().raw(), unknown.versioned().raw());
  }

  @Test
  void userWithoutPasswordAnswersInvalidCredentials() {
    String email = TestApp.uniqueEmail();
    insertConfirmedUser(email, null);
    assertError(400, "invalid_credentials", h -> app.postJson(PASSWORD_GRANT, credentials(email, PASSWORD), h));
    assertError(400, "invalid_credentials", h -> app.postJson(PASSWORD_GRANT, credentials(email, "anything-else"), h));
  }

  @Test
  void formFailuresCarryRfc6749ErrorFields() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, PASSWORD);
    String wrongPassword = "grant_type=password&username=" + enc(email) + "&password=wrong-password";
    ErrorShapes.Both invalidGrant = assertError(400, "invalid_credentials", h -> app.postForm(TOKEN, wrongPassword, h));
    assertOAuthError(invalidGrant, "invalid_grant");

    ErrorShapes.Both unknownUser = assertError(400, "invalid_credentials",
      h -> app.postForm(TOKEN, "grant_type=password&username=" + enc(TestApp.uniqueEmail()) + "&password=x", h));
    assertOAuthError(unknownUser, "invalid_grant");

    ErrorShapes.Both noPassword = assertError(400, "validation_failed",
      h -> app.postForm(TOKEN, "grant_type=password&username=" + enc(email), h));
    assertOAuthError(noPassword, "invalid_request");

    ErrorShapes.Both noGrant = assertError(400, "validation_failed",
      h -> app.postForm(TOKEN, "username=" + enc(email) + "&password=" + enc(PASSWORD), h));
    assertOAuthError(noGrant, "invalid_request");

    ErrorShapes.Both unsupported = assertError(400, "unsupported_grant_type",
      h -> app.postForm(TOKEN, "grant_type=client_credentials&client_id=a&client_secret=b", h));
    assertOAuthError(unsupported, "unsupported_grant_type");
  }

  private static void assertOAuthError(ErrorShapes.Both both, String error) {
    for (TestApp.Response r : new TestApp.Response[] {both.legacy(), both.versioned()}) {
      assertEquals(error, r.json().getString("error"), r.raw());
      String description = r.json().getString("error_description");
      assertNotNull(description, r.raw());
      assertTrue(!description.isEmpty(), r.raw());
    }
  }

  @Test
  void unsupportedGrantTypeIsRefused() {
    assertError(400, "unsupported_grant_type",
      h -> app.postJson(TOKEN + "?grant_type=client_credentials", credentials(TestApp.uniqueEmail(), PASSWORD), h));
    assertError(400, "unsupported_grant_type",
      h -> app.postJson(TOKEN + "?grant_type=authorization_code", new JsonObject().put("code", "a"), h));
  }

  @Test
  void missingGrantTypeIsAValidationFailure() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, PASSWORD);
    assertError(400, "validation_failed", h -> app.postJson(TOKEN, credentials(email, PASSWORD), h));
    assertError(400, "validation_failed", h -> app.postJson(TOKEN + "?grant_type=", credentials(email, PASSWORD), h));
  }

  @Test
  void missingPasswordIsAValidationFailure() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, PASSWORD);
    assertError(400, "validation_failed", h -> app.postJson(PASSWORD_GRANT, new JsonObject().put("email", email), h));
    assertError(400, "validation_failed", h -> app.postJson(PASSWORD_GRANT, credentials(email, ""), h));
    assertError(400, "validation_failed", h -> app.postJson(PASSWORD_GRANT, new JsonObject().put("password", PASSWORD), h));
  }

  @Test
  void repeatedFormParameterIsRefused() {
    String email = TestApp.uniqueEmail();
    app.signUp(email, PASSWORD);
    String form = "grant_type=password&username=" + enc(email) + "&password=" + enc(PASSWORD) + "&password=other";
    ErrorShapes.Both both = assertError(400, "validation_failed", h -> app.postForm(TOKEN, form, h));
    assertOAuthError(both, "invalid_request");
  }

  @Test
  void formBodyRejectedBeforeParsingStillCarriesRfc6749Error() {
    ErrorShapes.Both badEncoding = assertError(400, "validation_failed",
      h -> app.postForm(TOKEN, "grant_type=password&username=a%zz&password=%", h));
    assertOAuthError(badEncoding, "invalid_request");
    String tooLarge = "grant_type=password&username=a&password=" + "x".repeat(17 * 1024);
    ErrorShapes.Both both = assertError(413, "request_too_large", h -> app.postForm(TOKEN, tooLarge, h));
    assertOAuthError(both, "invalid_request");
  }

  @Test
  void emailWithNulCharacterIsInvalidCredentialsNotAServerError() {
    assertError(400, "invalid_credentials",
      h -> app.postJson(PASSWORD_GRANT, credentials("a\u0000b@example.com", PASSWORD), h));
    ErrorShapes.Both form = assertError(400, "invalid_credentials",
      h -> app.postForm(TOKEN, "grant_type=password&username=a%00b%40example.com&password=x", h));
    assertOAuthError(form, "invalid_grant");
  }

  @Test
  void bcryptHashIsReplacedByArgon2idOnSignIn() {
    String email = TestApp.uniqueEmail();
    String bcrypt = Password.hash(PASSWORD).with(BcryptFunction.getInstance(Bcrypt.B, 10)).getResult();
    assertTrue(bcrypt.startsWith("$2b$10$"), bcrypt);
    UUID id = insertConfirmedUser(email, bcrypt);

    assertSession(app.postJson(PASSWORD_GRANT, credentials(email, PASSWORD)), email);
    String stored = storedHash(id);
    assertTrue(stored.startsWith("$argon2id$"), stored);
    assertTrue(stored.contains("m=64,t=1,p=1"), "configured parameters: " + stored);
    // The new hash works too.
    assertSession(app.postJson(PASSWORD_GRANT, credentials(email, PASSWORD)), email);
    assertEquals(stored, storedHash(id), "a current hash is not re-hashed again");
  }

  @Test
  void wrongPasswordAgainstBcryptHashKeepsTheHash() {
    String email = TestApp.uniqueEmail();
    String bcrypt = Password.hash(PASSWORD).with(BcryptFunction.getInstance(Bcrypt.B, 10)).getResult();
    UUID id = insertConfirmedUser(email, bcrypt);
    assertError(400, "invalid_credentials", h -> app.postJson(PASSWORD_GRANT, credentials(email, "wrong-password"), h));
    assertEquals(bcrypt, storedHash(id));
  }

  @Test
  void argon2idHashWithOtherParametersIsReHashedToTheConfiguredOnes() {
    String email = TestApp.uniqueEmail();
    Argon2Function other = Argon2Function.getInstance(128, 2, 1, 32, Argon2.ID, Argon2Function.ARGON2_VERSION_13);
    String old = Password.hash(PASSWORD).addRandomSalt(16).with(other).getResult();
    assertTrue(old.startsWith("$argon2id$") && old.contains("m=128,t=2,p=1"), old);
    UUID id = insertConfirmedUser(email, old);

    assertSession(app.postJson(PASSWORD_GRANT, credentials(email, PASSWORD)), email);
    String stored = storedHash(id);
    assertNotEquals(old, stored);
    assertTrue(stored.startsWith("$argon2id$"), stored);
    assertTrue(stored.contains("m=64,t=1,p=1"), "configured parameters: " + stored);
    assertSession(app.postJson(PASSWORD_GRANT, credentials(email, PASSWORD)), email);
  }

  private static UUID insertConfirmedUser(String email, String hash) {
    UUID id = UUID.randomUUID();
    OffsetDateTime now = OffsetDateTime.ofInstant(app.clock.instant(), ZoneOffset.UTC);
    DbRows.update(app, "INSERT INTO users (id, email, encrypted_password, email_confirmed_at, created_at, updated_at) "
      + "VALUES (?, ?, ?, ?, ?, ?)", id, email, hash, now, now, now);
    return id;
  }

  private static String storedHash(UUID id) {
    return DbRows.string(app, "SELECT encrypted_password FROM users WHERE id = ?", id);
  }
}
