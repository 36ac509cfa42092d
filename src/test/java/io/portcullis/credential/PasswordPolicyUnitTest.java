package io.portcullis.credential;

import io.portcullis.config.Config;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.vertx.core.json.JsonArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The password policy alone (NIST SP 800-63B: length, optional character classes, known-weak passwords); how
 * each way of setting a password applies it is PasswordPolicyTest's, through HTTP.
 */
class PasswordPolicyUnitTest {

  private static PasswordPolicy policy(List<String> classes, boolean rejectCommon) {
    return new PasswordPolicy(new Config.Password(8, 64, 1, 1, 1, 1, classes, rejectCommon));
  }

  @ParameterizedTest(name = "\"{0}\" with [{1}]: {2}")
  @CsvSource(delimiter = '|', value = {
    "short | | length",
    "qz7xw9k | | length",
    "lowercaseonly | lower upper | characters",
    "NoDigitsHere | digit | characters",
    "NoSymbol123 | symbol | characters",
    "short | digit | length characters",
    "password | | pwned",
    "Password | | pwned",
  })
  void weakPasswordsAreRefusedWithTheirReasons(String password, String classes, String reasons) {
    AuthException e = assertThrows(AuthException.class, () -> policy(split(classes), true).check(password));
    assertEquals(ErrorCode.WEAK_PASSWORD, e.code());
    assertEquals(new JsonArray(split(reasons)), e.weakPasswordReasons());
  }

  @ParameterizedTest(name = "\"{0}\" with [{1}]")
  @CsvSource(delimiter = '|', value = {
    "qz8xw9kv | ",
    "Mixed-Case-9 | lower upper digit symbol",
    "ÄÖÜäöü12 | lower upper digit",
  })
  void strongEnoughPasswordsPass(String password, String classes) {
    assertDoesNotThrow(() -> policy(split(classes), true).check(password));
  }

  @Test
  void lengthCountsCharactersNotUtf16Units() {
    // Four emoji are eight UTF-16 units but four characters.
    String four = "\uD83D\uDE00".repeat(4);
    assertThrows(AuthException.class, () -> policy(List.of(), false).check(four));
    assertDoesNotThrow(() -> policy(List.of(), false).check(four.repeat(2)));
  }

  @Test
  void overTheMaximumLengthIsRefused() {
    String tooLong = "a".repeat(1025);
    AuthException e = assertThrows(AuthException.class, () -> policy(List.of(), false).check(tooLong));
    assertEquals(new JsonArray().add("length"), e.weakPasswordReasons());
  }

  @Test
  void commonPasswordsPassWhenTheCheckIsOff() {
    assertDoesNotThrow(() -> policy(List.of(), false).check("password"));
  }

  private static List<String> split(String words) {
    return words == null || words.isBlank() ? List.of() : Arrays.asList(words.trim().split("\\s+"));
  }
}
