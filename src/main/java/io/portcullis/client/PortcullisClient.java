package io.portcullis.client;

import io.portcullis.bus.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Portcullis for another Vert.x application on the same (clustered) event bus: one Future-returning method per
 * public address. Every failure is a {@link PortcullisException} with the service's status and {@code error_code};
 * no answer within the timeout, no member serving the address, or a member that went away is 503
 * {@code service_unavailable}.
 */
public final class PortcullisClient {

  private final Vertx vertx;
  private final long timeoutMs;

  private PortcullisClient(Vertx vertx, long timeoutMs) {
    this.vertx = vertx;
    this.timeoutMs = timeoutMs;
  }

  /** A client whose calls give up after 5 seconds. */
  public static PortcullisClient create(Vertx vertx) {
    return create(vertx, 5_000);
  }

  public static PortcullisClient create(Vertx vertx, long timeoutMs) {
    return new PortcullisClient(vertx, timeoutMs);
  }

  /** {@code auth.users.signup}: the new user's session (or the user alone while the e-mail awaits confirmation). */
  public Future<JsonObject> signUp(String email, String password, JsonObject data) {
    JsonObject body = new JsonObject().put("email", email).put("password", password);
    if (data != null) {
      body.put("data", data);
    }
    return request(Addresses.USERS_SIGNUP, body);
  }

  /** {@code auth.tokens.password}: a session ({@code access_token}, {@code refresh_token}, {@code user}, ...). */
  public Future<JsonObject> signIn(String email, String password) {
    return request(Addresses.TOKENS_PASSWORD, new JsonObject().put("email", email).put("password", password));
  }

  /** {@code auth.tokens.refresh}: the next session of a refresh token. */
  public Future<JsonObject> refresh(String refreshToken) {
    return request(Addresses.TOKENS_REFRESH, new JsonObject().put("refresh_token", refreshToken));
  }

  /** {@code auth.tokens.verify}: {@code {claims, user_id, session_id}} of a token whose session is alive. */
  public Future<JsonObject> verify(String accessToken) {
    return request(Addresses.TOKENS_VERIFY, new JsonObject().put("token", accessToken));
  }

  /** {@code auth.users.get} by id. */
  public Future<JsonObject> user(String id) {
    return request(Addresses.USERS_GET, new JsonObject().put("id", id));
  }

  /** {@code auth.users.get} by e-mail address. */
  public Future<JsonObject> userByEmail(String email) {
    return request(Addresses.USERS_GET, new JsonObject().put("email", email));
  }

  /** {@code auth.sessions.end} of one session: the number ended (0 or 1). */
  public Future<Integer> endSession(String sessionId) {
    return request(Addresses.SESSIONS_END, new JsonObject().put("session_id", sessionId))
      .map(answer -> answer.getInteger("ended"));
  }

  /** {@code auth.sessions.end} of every session of a user: the number ended. */
  public Future<Integer> endSessions(String userId) {
    return request(Addresses.SESSIONS_END, new JsonObject().put("user_id", userId))
      .map(answer -> answer.getInteger("ended"));
  }

  /** {@code auth.sessions.list}: the user's living sessions, newest first. */
  public Future<JsonArray> sessions(String userId) {
    return request(Addresses.SESSIONS_LIST, new JsonObject().put("user_id", userId))
      .map(answer -> answer.getJsonArray("sessions"));
  }

  /** {@code auth.keys.jwks}: the public keys that verify access tokens. */
  public Future<JsonObject> jwks() {
    return request(Addresses.JWKS, new JsonObject());
  }

  /** Any public address, for those this version has no method for. */
  public Future<JsonObject> request(String address, JsonObject body) {
    return vertx.eventBus().<JsonObject>request(address, body, new DeliveryOptions().setSendTimeout(timeoutMs))
      .map(Message::body)
      .recover(error -> Future.failedFuture(failure(error)));
  }

  /** The typed form of a bus failure. */
  static PortcullisException failure(Throwable error) {
    if (error instanceof PortcullisException known) {
      return known;
    }
    if (error instanceof ReplyException reply && reply.failureType() == io.vertx.core.eventbus.ReplyFailure.RECIPIENT_FAILURE) {
      try {
        JsonObject json = new JsonObject(reply.getMessage());
        return new PortcullisException(json.getInteger("code", reply.failureCode()), json.getString("error_code",
          "unexpected_failure"), json.getString("msg", ""), reply);
      } catch (RuntimeException notJson) {
        return new PortcullisException(500, "unexpected_failure", String.valueOf(reply.getMessage()), reply);
      }
    }
    // TIMEOUT, NO_HANDLERS, or a member that went away while the request was on its way.
    return new PortcullisException(503, "service_unavailable", "Service temporarily unavailable", error);
  }
}
