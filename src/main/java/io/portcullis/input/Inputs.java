package io.portcullis.input;

import io.portcullis.error.AuthException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Locale;
import java.util.UUID;
import java.util.regex.Pattern;

/** Validation of the fields that arrive over HTTP and the bus alike; failures are contract errors. */
public final class Inputs {

  private static final Pattern EMAIL = Pattern.compile("^[^\\s@\"<>()\\[\\],;:\\\\]+@[^\\s@\"<>()\\[\\],;:\\\\]+\\.[^\\s@\"<>()\\[\\],;:\\\\.]+$");
  private static final Pattern ROLE = Pattern.compile("[a-z][a-z0-9_]{0,62}");
  public static final int MAX_PASSWORD_LENGTH = 1024;
  private static final int MAX_EMAIL_LENGTH = 255;

  private Inputs() {
  }

  /** The field as a string, or null when absent; any other JSON type is a validation failure. */
  public static String optionalString(JsonObject body, String field) {
    Object value = body.getValue(field);
    if (value == null) {
      return null;
    }
    if (!(value instanceof String s)) {
      throw AuthException.validation("Field '" + field + "' must be a string");
    }
    // JSON may carry an unpaired surrogate ("\ud800"); the pg client then sends PostgreSQL bytes that are not
    // UTF-8 (SQLSTATE 22021, a 500). No address, URL or password holds one.
    if (hasUnpairedSurrogate(s)) {
      throw AuthException.validation("Field '" + field + "' must be valid Unicode");
    }
    return s;
  }

  public static String requiredString(JsonObject body, String field) {
    String value = optionalString(body, field);
    if (value == null || value.isEmpty()) {
      throw AuthException.validation("Field '" + field + "' is required");
    }
    return value;
  }

  public static JsonObject optionalObject(JsonObject body, String field) {
    Object value = body.getValue(field);
    if (value == null) {
      return null;
    }
    if (!(value instanceof JsonObject o)) {
      throw AuthException.validation("Field '" + field + "' must be an object");
    }
    // PostgreSQL's jsonb refuses \u0000 (SQLSTATE 22P05), and an unpaired surrogate reaches it as bytes that are
    // not UTF-8 (22021): refuse both here rather than fail with a 500 there.
    if (unstorable(o)) {
      throw AuthException.validation("Field '" + field + "' must not contain NUL characters or invalid Unicode");
    }
    return o;
  }

  private static boolean unstorable(Object value) {
    if (value instanceof String s) {
      return s.indexOf('\0') >= 0 || hasUnpairedSurrogate(s);
    }
    if (value instanceof JsonObject object) {
      return object.stream().anyMatch(e -> unstorable(e.getKey()) || unstorable(e.getValue()));
    }
    if (value instanceof JsonArray array) {
      return array.stream().anyMatch(Inputs::unstorable);
    }
    return false;
  }

  private static boolean hasUnpairedSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return true;
      }
    }
    return false;
  }

  /** The field as a UUID, or null when absent; anything but a UUID string is a validation failure. */
  public static UUID optionalUuid(JsonObject body, String field) {
    String value = optionalString(body, field);
    if (value == null) {
      return null;
    }
    UUID id = uuidOrNull(value);
    if (id == null) {
      throw AuthException.validation("Field '" + field + "' must be a UUID");
    }
    return id;
  }

  public static UUID requiredUuid(JsonObject body, String field) {
    UUID id = optionalUuid(body, field);
    if (id == null) {
      throw AuthException.validation("Field '" + field + "' is required");
    }
    return id;
  }

  /** {@code value} as a UUID, or null when it is none (or null). */
  public static UUID uuidOrNull(String value) {
    if (value == null) {
      return null;
    }
    try {
      return UUID.fromString(value);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** A role name as {@code users.role} and {@code user_roles} store it: a PostgreSQL-style identifier. */
  public static boolean isRoleName(String role) {
    return role != null && ROLE.matcher(role).matches();
  }

  /** Trimmed, lower-cased and checked; emails are compared case-insensitively everywhere. */
  public static String email(String raw) {
    String email = raw.trim().toLowerCase(Locale.ROOT);
    // Control characters are never part of an address, and PostgreSQL text refuses NUL (SQLSTATE 22021).
    if (email.length() > MAX_EMAIL_LENGTH || email.chars().anyMatch(Character::isISOControl)
      || !EMAIL.matcher(email).matches()) {
      throw AuthException.validation("Unable to validate email address: invalid format");
    }
    return email;
  }
}
