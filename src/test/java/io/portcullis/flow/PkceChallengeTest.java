package io.portcullis.flow;

import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The PKCE rules on their own: S256 against an independently computed value, GoTrue's parsing of the fields. */
class PkceChallengeTest {

  static final String VERIFIER = "dBjftJeZ4CVP-mJ92K9fA8LYoB3XkyX8sKbQ9XmxEMg";
  /** base64url(sha256(VERIFIER)) without padding, as Python's hashlib and base64 compute it. */
  static final String CHALLENGE = "8z3wtAvAMESZjEZ0H_Isjcpg1kCaFnqZM3zJV8HwNHs";

  @Test
  void s256IsTheUnpaddedBase64urlSha256OfTheVerifier() {
    assertEquals(CHALLENGE, Pkce.s256(VERIFIER));
    assertTrue(Pkce.matches(CHALLENGE, Pkce.S256, VERIFIER));
    assertFalse(Pkce.matches(CHALLENGE, Pkce.S256, VERIFIER + "x"));
    assertTrue(Pkce.matches(VERIFIER, Pkce.PLAIN, VERIFIER));
    assertFalse(Pkce.matches(CHALLENGE, Pkce.PLAIN, VERIFIER));
  }

  @Test
  void theMethodIsReadInAnyCase() {
    assertEquals(new Pkce.Challenge(CHALLENGE, "s256"), Pkce.parse(CHALLENGE, "S256"));
    assertEquals(new Pkce.Challenge(CHALLENGE, "plain"), Pkce.parse(CHALLENGE, "Plain"));
  }

  @Test
  void absentOrNullFieldsMeanNoPkce() {
    assertNull(Pkce.parse(new JsonObject()));
    assertNull(Pkce.parse(new JsonObject().putNull("code_challenge").putNull("code_challenge_method")));
    assertNull(Pkce.parse("", ""));
  }

  @Test
  void oneFieldWithoutTheOtherOrABadValueIsAValidationFailure() {
    for (String[] bad : new String[][] {{CHALLENGE, null}, {null, "s256"}, {"short", "s256"}, {CHALLENGE, "md5"},
        {CHALLENGE + "!", "s256"}, {"a".repeat(129), "plain"}}) {
      AuthException e = assertThrows(AuthException.class, () -> Pkce.parse(bad[0], bad[1]));
      assertEquals(ErrorCode.VALIDATION_FAILED, e.code());
    }
    AuthException e = assertThrows(AuthException.class,
      () -> Pkce.parse(new JsonObject().put("code_challenge", 42).put("code_challenge_method", "s256")));
    assertEquals(ErrorCode.VALIDATION_FAILED, e.code());
  }
}
