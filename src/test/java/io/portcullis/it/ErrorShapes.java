package io.portcullis.it;

import io.vertx.core.json.JsonObject;

import java.util.Arrays;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Assertions on GoTrue's two error shapes: the legacy {@code {code:<status>, error_code, msg}} and, for a
 * request carrying {@code X-Supabase-Api-Version}, {@code {code:"<error_code>", message}} with the header echoed.
 */
public final class ErrorShapes {

  public static final String API_VERSION = "X-Supabase-Api-Version";
  public static final String VERSION = "2024-01-01";
  public static final String[] VERSIONED = {API_VERSION, VERSION};
  private static final String[] NONE = {};

  /** The same failing request answered in both shapes. */
  public record Both(TestApp.Response legacy, TestApp.Response versioned) {
  }

  private ErrorShapes() {
  }

  /**
   * Sends the request twice, without and with {@code X-Supabase-Api-Version} (passed to {@code send} as extra
   * headers), and asserts the status and error code of both answers in their shapes.
   */
  public static Both assertError(int status, String errorCode, Function<String[], TestApp.Response> send) {
    TestApp.Response legacy = send.apply(NONE);
    assertLegacy(legacy, status, errorCode);
    TestApp.Response versioned = send.apply(VERSIONED);
    assertVersioned(versioned, status, errorCode);
    return new Both(legacy, versioned);
  }

  /** {@code {"code":<status>,"error_code":"...","msg":"..."}} as JSON. */
  public static JsonObject assertLegacy(TestApp.Response r, int status, String errorCode) {
    JsonObject body = assertJsonError(r, status);
    assertEquals(status, body.getValue("code"), r.raw());
    assertEquals(errorCode, body.getString("error_code"), r.raw());
    assertInstanceOf(String.class, body.getValue("msg"), r.raw());
    assertFalse(body.getString("msg").isEmpty(), r.raw());
    assertNull(r.header(API_VERSION), "no version header without a versioned request");
    return body;
  }

  /** {@code {"code":"<error_code>","message":"..."}} as JSON, and the request's version header echoed. */
  public static JsonObject assertVersioned(TestApp.Response r, int status, String errorCode) {
    JsonObject body = assertJsonError(r, status);
    assertEquals(errorCode, body.getValue("code"), r.raw());
    assertInstanceOf(String.class, body.getValue("message"), r.raw());
    assertFalse(body.getString("message").isEmpty(), r.raw());
    assertFalse(body.containsKey("error_code"), r.raw());
    assertEquals(VERSION, r.header(API_VERSION), "the version header is echoed");
    return body;
  }

  private static JsonObject assertJsonError(TestApp.Response r, int status) {
    assertEquals(status, r.status(), r.raw());
    String type = r.header("Content-Type");
    assertNotNull(type, "error without Content-Type: " + r.raw());
    assertTrue(type.startsWith("application/json"), "error Content-Type " + type);
    JsonObject body = r.json();
    assertNotNull(body, "error without a body");
    return body;
  }

  /** {@code a} followed by {@code b}: request headers built from parts. */
  public static String[] with(String[] a, String... b) {
    String[] all = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }
}
