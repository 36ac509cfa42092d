package io.portcullis.bus;

import io.portcullis.bus.Addresses;
import io.portcullis.it.AppExtension;
import io.portcullis.it.AppExtension.App;
import io.portcullis.it.DbRows;
import io.portcullis.it.TestApp;
import io.portcullis.token.TokenSecurityTest;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The public event-bus API as another verticle in the same Vert.x uses it: JSON requests to the
 * addresses of {@link Addresses}, failures as {@code ReplyException(status, error JSON)}, and the events published
 * on {@code auth.events} (and written to {@code audit_log}).
 */
@ExtendWith(AppExtension.class)
@ExtendWith(VertxExtension.class)
class EventBusTest {

  private static final String PASSWORD = "password123";

  @App
  static TestApp app;
  static BusClient client;

  @BeforeAll
  static void start() throws Exception {
    client = new BusClient();
    app.vertx.deployVerticle(client).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /**
   * A verticle of "another module": it talks to Portcullis only over the bus, from its own context, and listens
   * to {@code auth.events}.
   */
  static final class BusClient extends VerticleBase {

    // Touched only on this verticle's context.
    private final List<JsonObject> events = new ArrayList<>();
    private final List<Handler<JsonObject>> listeners = new ArrayList<>();

    @Override
    public Future<?> start() {
      return vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS, message -> {
        JsonObject event = message.body();
        events.add(event);
        List.copyOf(listeners).forEach(listener -> listener.handle(event));
      }).completion();
    }

    /** Sends {@code body} from this verticle's context; answers the reply body. */
    Future<JsonObject> call(String address, Object body) {
      Promise<JsonObject> reply = Promise.promise();
      context.runOnContext(v -> vertx.eventBus().<JsonObject>request(address, body).map(Message::body)
        .onComplete(reply));
      return reply.future();
    }

    /** Calls {@code listener} with every event received so far and every later one, on this context. */
    void onEvent(Handler<JsonObject> listener) {
      context.runOnContext(v -> {
        List.copyOf(events).forEach(listener::handle);
        listeners.add(listener);
      });
    }
  }

  @Test
  void signUpSignInVerifyLookUpRefreshAndEndSessionOverTheBus(VertxTestContext ctx) {
    String email = TestApp.uniqueEmail();
    Map<String, Checkpoint> expectedEvents = Map.of(
      "user.signed_up", ctx.checkpoint(),
      "user.signed_in", ctx.checkpoint(),
      "token.refreshed", ctx.checkpoint(),
      "user.signed_out", ctx.checkpoint());
    Set<String> seen = ConcurrentHashMap.newKeySet();
    Checkpoint flowDone = ctx.checkpoint();
    Flow flow = new Flow();

    client.call(Addresses.USERS_SIGNUP, new JsonObject().put("email", email).put("password", PASSWORD))
      .map(signup -> {
        assertSession(signup);
        flow.userId = signup.getJsonObject("user").getString("id");
        assertEquals(email, signup.getJsonObject("user").getString("email"));
        client.onEvent(event -> ctx.verify(() -> {
          if (!flow.userId.equals(event.getString("user_id"))) {
            return;
          }
          assertEvent(event, flow.userId);
          Checkpoint checkpoint = expectedEvents.get(event.getString("type"));
          if (checkpoint != null && seen.add(event.getString("type"))) {
            checkpoint.flag();
          }
        }));
        return signup;
      })
      .compose(signup -> client.call(Addresses.TOKENS_PASSWORD,
        new JsonObject().put("email", email.toUpperCase(Locale.ROOT)).put("password", PASSWORD)))
      .compose(signin -> {
        assertSession(signin);
        assertEquals(flow.userId, signin.getJsonObject("user").getString("id"));
        flow.session = signin;
        flow.sessionId = TokenSecurityTest.payload(signin.getString("access_token")).getString("session_id");
        return client.call(Addresses.TOKENS_VERIFY, new JsonObject().put("token", signin.getString("access_token")));
      })
      .compose(verified -> {
        assertEquals(Set.of("claims", "user_id", "session_id"), verified.fieldNames());
        assertEquals(flow.userId, verified.getString("user_id"));
        assertEquals(flow.sessionId, verified.getString("session_id"));
        JsonObject claims = verified.getJsonObject("claims");
        assertEquals(flow.userId, claims.getString("sub"));
        assertEquals(flow.sessionId, claims.getString("session_id"));
        assertEquals(email, claims.getString("email"));
        assertEquals("authenticated", claims.getString("role"));
        return client.call(Addresses.USERS_GET, new JsonObject().put("id", flow.userId));
      })
      .compose(byId -> {
        assertUser(byId, flow.userId, email);
        return client.call(Addresses.USERS_GET, new JsonObject().put("email", email.toUpperCase(Locale.ROOT)));
      })
      .compose(byEmail -> {
        assertUser(byEmail, flow.userId, email);
        return client.call(Addresses.TOKENS_REFRESH,
          new JsonObject().put("refresh_token", flow.session.getString("refresh_token")));
      })
      .compose(refreshed -> {
        assertSession(refreshed);
        assertNotEquals(flow.session.getString("refresh_token"), refreshed.getString("refresh_token"));
        assertEquals(flow.sessionId,
          TokenSecurityTest.payload(refreshed.getString("access_token")).getString("session_id"));
        flow.refreshed = refreshed;
        return client.call(Addresses.SESSIONS_END, new JsonObject().put("session_id", flow.sessionId));
      })
      .compose(ended -> {
        assertEquals(new JsonObject().put("ended", 1), ended);
        return expectFailure(client.call(Addresses.TOKENS_VERIFY,
          new JsonObject().put("token", flow.session.getString("access_token"))), 403, "session_not_found");
      })
      .compose(error -> expectFailure(client.call(Addresses.TOKENS_VERIFY,
        new JsonObject().put("token", flow.refreshed.getString("access_token"))), 403, "session_not_found"))
      .compose(error -> expectFailure(client.call(Addresses.TOKENS_REFRESH,
        new JsonObject().put("refresh_token", flow.refreshed.getString("refresh_token"))), 400, "refresh_token_not_found"))
      .compose(error -> app.vertx.executeBlocking(() -> auditRows(flow.userId), false))
      .map(rows -> {
        List<String> types = rows.stream().map(row -> row.getString("type")).toList();
        for (String type : expectedEvents.keySet()) {
          assertTrue(types.contains(type), "audit_log lacks " + type + ": " + types);
        }
        assertTrue(rows.stream().anyMatch(row -> "user.signed_out".equals(row.getString("type"))
          && flow.sessionId.equals(row.getString("session_id"))), rows.toString());
        assertTrue(rows.stream().anyMatch(row -> "token.refreshed".equals(row.getString("type"))
          && flow.sessionId.equals(row.getString("session_id"))), rows.toString());
        return rows;
      })
      .onComplete(ctx.succeeding(rows -> flowDone.flag()));
  }

  @Test
  void endingAllSessionsOfAUserRevokesEveryToken(VertxTestContext ctx) {
    String email = TestApp.uniqueEmail();
    JsonObject credentials = new JsonObject().put("email", email).put("password", PASSWORD);
    List<String> tokens = new ArrayList<>();
    client.call(Addresses.USERS_SIGNUP, credentials)
      .compose(signup -> {
        tokens.add(signup.getString("access_token"));
        return client.call(Addresses.TOKENS_PASSWORD, credentials);
      })
      .compose(signin -> {
        tokens.add(signin.getString("access_token"));
        String userId = signin.getJsonObject("user").getString("id");
        return client.call(Addresses.SESSIONS_END, new JsonObject().put("user_id", userId));
      })
      .compose(ended -> {
        assertEquals(2, ended.getInteger("ended"));
        return Future.all(tokens.stream().map(token -> expectFailure(client.call(Addresses.TOKENS_VERIFY,
          new JsonObject().put("token", token)), 403, "session_not_found")).toList());
      })
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void wrongPasswordFailsWithInvalidCredentials(VertxTestContext ctx) {
    String email = TestApp.uniqueEmail();
    client.call(Addresses.USERS_SIGNUP, new JsonObject().put("email", email).put("password", PASSWORD))
      .compose(signup -> expectFailure(client.call(Addresses.TOKENS_PASSWORD,
        new JsonObject().put("email", email).put("password", "wrong-password")), 400, "invalid_credentials"))
      .compose(wrong -> expectFailure(client.call(Addresses.TOKENS_PASSWORD,
        new JsonObject().put("email", TestApp.uniqueEmail()).put("password", PASSWORD)), 400, "invalid_credentials")
        .map(unknown -> {
          // One message for both, so the answer does not tell which emails exist.
          assertEquals(wrong.getString("msg"), unknown.getString("msg"));
          return unknown;
        }))
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void unknownUserFailsWithUserNotFound(VertxTestContext ctx) {
    expectFailure(client.call(Addresses.USERS_GET, new JsonObject().put("id", UUID.randomUUID().toString())),
      404, "user_not_found")
      .compose(error -> expectFailure(client.call(Addresses.USERS_GET,
        new JsonObject().put("email", TestApp.uniqueEmail())), 404, "user_not_found"))
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void nonJsonBodiesFailWithValidationFailed(VertxTestContext ctx) {
    List<String> addresses = List.of(Addresses.USERS_SIGNUP, Addresses.TOKENS_PASSWORD, Addresses.TOKENS_REFRESH,
      Addresses.TOKENS_VERIFY, Addresses.USERS_GET, Addresses.SESSIONS_END);
    List<Future<JsonObject>> checks = new ArrayList<>();
    for (String address : addresses) {
      checks.add(expectFailure(client.call(address, "{\"token\":\"not a JSON object but a String\"}"), 400,
        "validation_failed"));
      checks.add(expectFailure(client.call(address, new JsonArray().add("x")), 400, "validation_failed"));
    }
    Future.all(checks).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void missingOrMalformedFieldsFailWithValidationFailed(VertxTestContext ctx) {
    Future.all(List.of(
        expectFailure(client.call(Addresses.TOKENS_VERIFY, new JsonObject()), 400, "validation_failed"),
        expectFailure(client.call(Addresses.TOKENS_VERIFY, new JsonObject().put("token", 42)), 400, "validation_failed"),
        expectFailure(client.call(Addresses.USERS_GET, new JsonObject()), 400, "validation_failed"),
        expectFailure(client.call(Addresses.USERS_GET, new JsonObject().put("id", "not-a-uuid")), 400, "validation_failed"),
        expectFailure(client.call(Addresses.SESSIONS_END, new JsonObject()), 400, "validation_failed"),
        expectFailure(client.call(Addresses.TOKENS_REFRESH, new JsonObject()), 400, "validation_failed"),
        expectFailure(client.call(Addresses.TOKENS_PASSWORD, new JsonObject().put("email", TestApp.uniqueEmail())),
          400, "validation_failed")))
      .onComplete(ctx.succeedingThenComplete());
  }

  /** The internal addresses too: an id that is no UUID is the sender's mistake (400), never a 500. */
  @Test
  void idsThatAreNoUuidFailWithValidationFailedOnInternalAddresses(VertxTestContext ctx) {
    Future.all(List.of(
        expectFailure(client.call(Addresses.USERS_UPDATE, new JsonObject().put("user_id", "not-a-uuid")
          .put("session_id", UUID.randomUUID().toString())), 400, "validation_failed"),
        expectFailure(client.call(Addresses.USERS_UPDATE, new JsonObject().put("data", new JsonObject())), 400,
          "validation_failed"),
        expectFailure(client.call(Addresses.SESSIONS_ISSUE, new JsonObject().put("user_id", "not-a-uuid")), 400,
          "validation_failed"),
        expectFailure(client.call(Addresses.SESSIONS_END, new JsonObject().put("session_id", "x")), 400,
          "validation_failed")))
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void verifyingAForgedTokenFailsWithBadJwt(VertxTestContext ctx) {
    expectFailure(client.call(Addresses.TOKENS_VERIFY, new JsonObject().put("token", "a.b.c")), 403, "bad_jwt")
      .onComplete(ctx.succeedingThenComplete());
  }

  // ---- helpers ----

  /** The state the main flow carries from step to step. */
  private static final class Flow {
    volatile String userId;
    volatile String sessionId;
    volatile JsonObject session;
    volatile JsonObject refreshed;
  }

  /**
   * Succeeds with the error JSON when {@code call} failed as a recipient failure with this status and error_code;
   * fails (and so fails the test) otherwise.
   */
  private static Future<JsonObject> expectFailure(Future<JsonObject> call, int status, String errorCode) {
    return call.transform(result -> {
      if (result.succeeded()) {
        return Future.failedFuture(new AssertionError("expected " + status + " " + errorCode + ", got " + result.result()));
      }
      ReplyException failure = assertInstanceOf(ReplyException.class, result.cause());
      assertEquals(ReplyFailure.RECIPIENT_FAILURE, failure.failureType());
      assertEquals(status, failure.failureCode(), failure.getMessage());
      JsonObject error = new JsonObject(failure.getMessage());
      assertEquals(errorCode, error.getString("error_code"), failure.getMessage());
      assertEquals(status, error.getValue("code"), failure.getMessage());
      assertInstanceOf(String.class, error.getValue("msg"), failure.getMessage());
      return Future.succeededFuture(error);
    });
  }

  private static void assertSession(JsonObject session) {
    assertInstanceOf(String.class, session.getValue("access_token"), session.encode());
    assertEquals(3, session.getString("access_token").split("\\.").length);
    assertEquals("bearer", session.getString("token_type"));
    assertTrue(session.getLong("expires_in") > 0);
    assertTrue(session.getLong("expires_at") > app.clock.instant().getEpochSecond());
    assertInstanceOf(String.class, session.getValue("refresh_token"));
    assertNotNull(session.getJsonObject("user"));
  }

  private static void assertUser(JsonObject user, String id, String email) {
    assertEquals(id, user.getString("id"));
    assertEquals(email, user.getString("email"));
    assertEquals("authenticated", user.getString("aud"));
    assertEquals("authenticated", user.getString("role"));
    assertNotNull(user.getJsonObject("app_metadata"));
    assertNotNull(user.getJsonObject("user_metadata"));
    assertFalse(user.encode().contains("$argon2"), "a user never carries a hash");
    assertFalse(user.containsKey("encrypted_password"));
  }

  private static void assertEvent(JsonObject event, String userId) {
    String type = event.getString("type");
    assertEquals(userId, event.getString("user_id"));
    OffsetDateTime.parse(event.getString("at"));
    if (type.equals("user.signed_up")) {
      assertFalse(event.containsKey("session_id"), event.encode());
    } else {
      UUID.fromString(event.getString("session_id"));
    }
  }

  /** The audit rows of one user, read with JDBC (called through executeBlocking, never on an event loop). */
  private static List<JsonObject> auditRows(String userId) {
    return DbRows.rows(app, "SELECT type, session_id, created_at FROM audit_log WHERE user_id = ? ORDER BY id",
      UUID.fromString(userId));
  }
}
