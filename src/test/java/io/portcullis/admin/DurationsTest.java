package io.portcullis.admin;

import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Go-style ban durations as GoTrue's admin API takes them. */
class DurationsTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "24h, PT24H",
    "90s, PT1M30S",
    "1h30m, PT1H30M",
    "1h30m15s, PT1H30M15S",
    "250ms, PT0.25S",
    "876000h, PT876000H",
  })
  void parsesGoDurations(String text, Duration expected) {
    assertEquals(expected, Durations.parse(text));
  }

  @ParameterizedTest(name = "\"{0}\"")
  @NullAndEmptySource
  @ValueSource(strings = {"0s", "24", "h", "1d", "1h 30m", " 1h", "1h-", "-1h", "1H", "9000000h", "1.5h", "none1h"})
  void refusesAnythingElseAsValidationFailed(String text) {
    AuthException e = assertThrows(AuthException.class, () -> Durations.parse(text));
    assertEquals(ErrorCode.VALIDATION_FAILED, e.code());
  }
}
