package io.portcullis.token;

import io.portcullis.bus.BusErrors;
import io.portcullis.error.AuthException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/** RFC 7662 answers about access tokens, the same whether the HTTP route or the bus asked. */
public final class Introspection {

  private static final String[] CLAIMS = {"sub", "exp", "iat", "nbf", "iss", "aud", "role", "session_id", "email"};

  private Introspection() {
  }

  /** A compact JWS has exactly two dots; anything else presented for introspection is taken for a refresh token. */
  public static boolean looksLikeJwt(String token) {
    int first = token.indexOf('.');
    int second = first < 0 ? -1 : token.indexOf('.', first + 1);
    return second > 0 && token.indexOf('.', second + 1) < 0;
  }

  /** The answer for an access token that passed every Bearer-route check: its claims, as RFC 7662 names them. */
  public static JsonObject active(JsonObject claims) {
    JsonObject answer = new JsonObject()
      .put("active", true)
      .put("token_type", "access_token")
      .put("scope", "openid email profile");
    for (String claim : CLAIMS) {
      if (claims.containsKey(claim)) {
        answer.put(claim, claims.getValue(claim));
      }
    }
    if (claims.containsKey("email")) {
      answer.put("username", claims.getValue("email"));
    }
    return answer;
  }

  public static JsonObject inactive() {
    return new JsonObject().put("active", false);
  }

  /**
   * After a failed check of an access token: inactive, whatever the refusal was (RFC 7662 says no more), but a
   * failure of the service itself (the database unreachable: 5xx) stays a failure, never an "inactive" it cannot know.
   */
  public static Future<JsonObject> inactiveUnlessUnavailable(Throwable failure) {
    AuthException error = BusErrors.toAuthException(failure);
    return error.status() >= 500 ? Future.failedFuture(error) : Future.succeededFuture(inactive());
  }
}
