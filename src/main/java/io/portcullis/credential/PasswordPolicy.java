package io.portcullis.credential;

import io.portcullis.input.Inputs;
import io.portcullis.config.Config;
import io.portcullis.error.AuthException;
import io.vertx.core.json.JsonArray;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The policy for new passwords, after NIST SP 800-63B: a length between {@code password.min_length} and 1024
 * characters, optionally required character classes, and not one of the 30,000 most common passwords. Failures
 * are 422 {@code weak_password} with {@code weak_password.reasons} among {@code length}, {@code characters},
 * {@code pwned}.
 */
public final class PasswordPolicy {

  private static final String COMMON = "/passwords/common-passwords.txt";
  private static volatile Set<String> common;

  private final Config.Password config;

  public PasswordPolicy(Config.Password config) {
    this.config = config;
  }

  /**
   * Reads the common-password list into memory unless already read (blocking: a worker thread or before
   * deployment). The start runs it on a worker a moment after the service listens, so that it costs the start
   * nothing and the first new password seldom waits for it; a check before that reads the list itself.
   */
  public static void loadCommonPasswords() {
    commonPasswords();
  }

  /** Fails when the list is missing from the jar (a build fault: found at start, not at the first new password). */
  public static void requireCommonPasswords() {
    if (PasswordPolicy.class.getResource(COMMON) == null) {
      throw new IllegalStateException(COMMON + " is missing from the jar");
    }
  }

  public void check(String password) {
    JsonArray reasons = new JsonArray();
    int length = password.codePointCount(0, password.length());
    if (length < config.minLength() || length > Inputs.MAX_PASSWORD_LENGTH) {
      reasons.add("length");
    }
    if (!hasClasses(password, config.requiredCharacters())) {
      reasons.add("characters");
    }
    if (config.rejectCommon() && commonPasswords().contains(password.toLowerCase(Locale.ROOT))) {
      reasons.add("pwned");
    }
    if (reasons.isEmpty()) {
      return;
    }
    String message = reasons.contains("length")
      ? "Password should be between " + config.minLength() + " and " + Inputs.MAX_PASSWORD_LENGTH + " characters."
      : reasons.contains("characters")
        ? "Password should contain at least one character of each kind: " + String.join(", ", config.requiredCharacters()) + "."
        : "Password is known to be weak and easy to guess, please choose a different one.";
    throw AuthException.weakPassword(message, reasons);
  }

  private static boolean hasClasses(String password, List<String> required) {
    for (String kind : required) {
      boolean found = password.codePoints().anyMatch(c -> switch (kind) {
        case "lower" -> Character.isLowerCase(c);
        case "upper" -> Character.isUpperCase(c);
        case "digit" -> Character.isDigit(c);
        default -> !Character.isLetterOrDigit(c);
      });
      if (!found) {
        return false;
      }
    }
    return true;
  }

  /** Loaded once per process from the jar (tens of milliseconds: on a worker thread, or before deployment). */
  private static Set<String> commonPasswords() {
    Set<String> loaded = common;
    if (loaded == null) {
      synchronized (PasswordPolicy.class) {
        if (common == null) {
          common = read();
        }
        loaded = common;
      }
    }
    return loaded;
  }

  private static Set<String> read() {
    Set<String> out = new HashSet<>(40_000);
    try (InputStream in = PasswordPolicy.class.getResourceAsStream(COMMON)) {
      if (in == null) {
        throw new IllegalStateException(COMMON + " is missing from the jar");
      }
      BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      String line;
      while ((line = reader.readLine()) != null) {
        if (!line.isEmpty() && !line.startsWith("#")) {
          out.add(line.toLowerCase(Locale.ROOT));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Set.copyOf(out);
  }
}
