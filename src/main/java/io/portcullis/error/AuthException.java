package io.portcullis.error;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The one error type of the service: a wire code, a public message and, optionally, a private cause that is
 * logged but never sent. Rendered in one place for HTTP (FailureHandler) and for the bus (BusErrors).
 */
public final class AuthException extends RuntimeException {

  private final ErrorCode code;
  private final int status;
  private final JsonArray weakPasswordReasons;

  public AuthException(ErrorCode code, String publicMessage) {
    this(code, code.status(), publicMessage, null, null);
  }

  public AuthException(ErrorCode code, String publicMessage, Throwable cause) {
    this(code, code.status(), publicMessage, null, cause);
  }

  private AuthException(ErrorCode code, int status, String publicMessage, JsonArray reasons, Throwable cause) {
    super(publicMessage, cause, false, false);
    this.code = code;
    this.status = status;
    this.weakPasswordReasons = reasons;
  }

  /** A code answered with another status than its default (user_banned is 403 on Bearer routes). */
  public static AuthException withStatus(ErrorCode code, int status, String publicMessage) {
    return new AuthException(code, status, publicMessage, null, null);
  }

  public static AuthException weakPassword(String publicMessage, JsonArray reasons) {
    return new AuthException(ErrorCode.WEAK_PASSWORD, ErrorCode.WEAK_PASSWORD.status(), publicMessage, reasons, null);
  }

  public static AuthException validation(String publicMessage) {
    return new AuthException(ErrorCode.VALIDATION_FAILED, publicMessage);
  }

  public ErrorCode code() {
    return code;
  }

  public int status() {
    return status;
  }

  public JsonArray weakPasswordReasons() {
    return weakPasswordReasons;
  }

  /** The legacy GoTrue error body; the bus carries this form, the HTTP renderer may reshape it. */
  public JsonObject toJson() {
    JsonObject json = new JsonObject()
      .put("code", status)
      .put("error_code", code.code())
      .put("msg", getMessage());
    if (weakPasswordReasons != null) {
      json.put("weak_password", new JsonObject().put("reasons", weakPasswordReasons));
    }
    return json;
  }

  /** Rebuilds the exception from {@link #toJson()}, as a bus caller receives it. */
  public static AuthException fromJson(JsonObject json) {
    ErrorCode code = ErrorCode.fromCode(json.getString("error_code", ""));
    JsonObject weak = json.getJsonObject("weak_password");
    int status = json.getInteger("code", code.status());
    return new AuthException(code, status, json.getString("msg", ""), weak == null ? null : weak.getJsonArray("reasons"), null);
  }
}
