package io.portcullis.admin;

import io.portcullis.error.AuthException;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Go-style durations as GoTrue's {@code ban_duration} takes them: {@code "24h"}, {@code "1h30m"}, {@code "90s"}. */
final class Durations {

  private static final Pattern PART = Pattern.compile("(\\d{1,9})(h|ms|m|s)");

  private Durations() {
  }

  static Duration parse(String value) {
    if (value == null || value.isEmpty()) {
      throw AuthException.validation("ban_duration must be a duration like 24h or none");
    }
    Matcher m = PART.matcher(value);
    Duration total = Duration.ZERO;
    int end = 0;
    while (m.find()) {
      if (m.start() != end) {
        break;
      }
      long amount = Long.parseLong(m.group(1));
      total = total.plus(switch (m.group(2)) {
        case "h" -> Duration.ofHours(amount);
        case "m" -> Duration.ofMinutes(amount);
        case "s" -> Duration.ofSeconds(amount);
        default -> Duration.ofMillis(amount);
      });
      end = m.end();
    }
    if (end != value.length() || total.isZero() || total.toDays() > 365L * 1000) {
      throw AuthException.validation("ban_duration must be a duration like 24h or none");
    }
    return total;
  }
}
