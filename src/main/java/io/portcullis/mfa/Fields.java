package io.portcullis.mfa;

import io.portcullis.error.AuthException;
import io.portcullis.input.Inputs;
import io.vertx.core.json.JsonObject;

import java.util.UUID;

/** Reading the fields of bus messages of the account-security operations. */
public final class Fields {

  private Fields() {
  }

  /** A string field; another type is a validation failure, absence or null is null. */
  public static String string(JsonObject body, String field) {
    Object value = body.getValue(field);
    if (value == null) {
      return null;
    }
    if (!(value instanceof String s)) {
      throw AuthException.validation("Field '" + field + "' must be a string");
    }
    return s;
  }

  /** A UUID field, or null when absent or not a UUID (callers answer "not found" for those). */
  public static UUID uuid(JsonObject body, String field) {
    return Inputs.uuidOrNull(body.getValue(field) instanceof String s ? s : null);
  }
}
