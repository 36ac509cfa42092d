package io.portcullis.client;

import io.portcullis.bus.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.NoSuchKeyIdException;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.Credentials;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.AuthenticationHandler;
import io.vertx.ext.web.handler.JWTAuthHandler;

import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Guards an application's own routes with Portcullis access tokens. The signature and time claims are verified
 * here, against the keys fetched over the bus ({@code auth.keys.jwks}; fetched again for a key it does not know),
 * so a request costs no call to Portcullis. What a signature cannot say, that the session has ended since, comes
 * from {@code auth.events}: a token of a session that was signed out is refused as soon as the event arrives, and
 * a token issued before a user-wide event (sign-out everywhere, ban, deletion, password change) is checked once
 * with {@code auth.tokens.verify} before it is trusted again.
 * <p>
 * Refusals are 401 through vertx-web's failure handling, as {@code JWTAuthHandler} does; the verified claims are
 * the user's principal ({@code ctx.user().principal()}) and its {@code accessToken} attribute.
 */
public final class PortcullisAuthHandler implements AuthenticationHandler {

  private final Verifier verifier;
  private final JWTAuthHandler delegate;

  private PortcullisAuthHandler(Verifier verifier) {
    this.verifier = verifier;
    this.delegate = JWTAuthHandler.create(verifier);
  }

  /** A handler for tokens of audience {@code authenticated}, ready once the keys are fetched. */
  public static Future<PortcullisAuthHandler> create(Vertx vertx, PortcullisClient client) {
    return create(vertx, client, new JWTOptions().setAudience(List.of("authenticated")));
  }

  /** {@code options}: the audience and issuer to require, and the leeway of the time claims. */
  public static Future<PortcullisAuthHandler> create(Vertx vertx, PortcullisClient client, JWTOptions options) {
    Verifier verifier = new Verifier(vertx, client, options);
    return verifier.start().map(started -> new PortcullisAuthHandler(verifier));
  }

  @Override
  public void handle(RoutingContext ctx) {
    delegate.handle(ctx);
  }

  /** Stops listening to events and refreshing keys. */
  public Future<Void> close() {
    return verifier.close();
  }

  /** Verification against the fetched keys, then against what the events said. */
  private static final class Verifier implements JWTAuth {

    /** How long a revocation is remembered: longer than any access token lives. */
    private static final long KEEP_MS = 24 * 3600_000L;
    private static final long KEYS_REFRESH_MS = 300_000;
    private static final long KEYS_REFETCH_GAP_MS = 1_000;

    private final Vertx vertx;
    private final PortcullisClient client;
    private final JWTOptions options;
    /** Ended sessions, until when they are remembered. */
    private final Map<String, Long> endedSessions = new ConcurrentHashMap<>();
    /** Users with a user-wide event: tokens issued up to it are checked with Portcullis once per session. */
    private final Map<String, UserEvent> userEvents = new ConcurrentHashMap<>();
    private volatile JWTAuth keys;
    private volatile long keysFetchedAt;
    private MessageConsumer<JsonObject> events;
    private long timer = -1;

    private record UserEvent(long atSeconds, long keepUntil, Set<String> confirmedSessions) {
    }

    Verifier(Vertx vertx, PortcullisClient client, JWTOptions options) {
      this.vertx = vertx;
      this.client = client;
      this.options = options;
    }

    Future<Void> start() {
      events = vertx.eventBus().consumer(Addresses.EVENTS, msg -> heard(msg.body()));
      timer = vertx.setPeriodic(60_000, id -> {
        long now = System.currentTimeMillis();
        endedSessions.values().removeIf(until -> until < now);
        userEvents.values().removeIf(event -> event.keepUntil() < now);
        if (now - keysFetchedAt > KEYS_REFRESH_MS) {
          fetchKeys();
        }
      });
      return events.completion().compose(registered -> fetchKeys());
    }

    Future<Void> close() {
      vertx.cancelTimer(timer);
      return events == null ? Future.succeededFuture() : events.unregister();
    }

    /** At most one fetch per {@value #KEYS_REFETCH_GAP_MS} ms, whatever kids the tokens name. */
    private Future<Void> fetchKeys() {
      keysFetchedAt = System.currentTimeMillis();
      return client.jwks().map(jwks -> {
        JWTAuthOptions auth = new JWTAuthOptions().setJWTOptions(options);
        jwks.getJsonArray("keys").forEach(jwk -> auth.addJwk((JsonObject) jwk));
        if (auth.getJwks().isEmpty()) {
          // A JWTAuth without keys would accept unsigned tokens.
          throw new PortcullisException(503, "service_unavailable", "Portcullis published no keys", null);
        }
        keys = JWTAuth.create(vertx, auth);
        return null;
      });
    }

    private void heard(JsonObject event) {
      String type = event.getString("type", "");
      String userId = event.getString("user_id");
      String sessionId = event.getString("session_id");
      long keepUntil = System.currentTimeMillis() + KEEP_MS;
      if (sessionId != null && (type.equals("user.signed_out") || type.equals("refresh_token.reused"))) {
        endedSessions.put(sessionId, keepUntil);
      } else if (userId != null && Set.of("user.signed_out", "user.banned", "user.deleted", "user.updated")
        .contains(type)) {
        long at;
        try {
          at = OffsetDateTime.parse(event.getString("at")).toEpochSecond();
        } catch (RuntimeException e) {
          at = System.currentTimeMillis() / 1000;
        }
        userEvents.put(userId, new UserEvent(at, keepUntil, ConcurrentHashMap.newKeySet()));
      }
    }

    @Override
    public Future<User> authenticate(Credentials credentials) {
      if (credentials instanceof TokenCredentials token && !strictSignature(token.getToken())) {
        return Future.failedFuture(new PortcullisException(401, "bad_jwt", "Malformed signature", null));
      }
      return verifyWith(keys, credentials)
        .recover(e -> {
          if (!(e instanceof NoSuchKeyIdException) || System.currentTimeMillis() - keysFetchedAt < KEYS_REFETCH_GAP_MS) {
            return Future.failedFuture(e);
          }
          // A key published after the last fetch (a rotation): fetch once more, then decide.
          return fetchKeys().compose(fetched -> verifyWith(keys, credentials));
        })
        .compose(user -> alive(user, credentials));
    }

    /**
     * RFC 7515 and RFC 7518 §3.4: the signature is canonical base64url and an ES256 one exactly 64 octets.
     * vertx-auth-jwt also accepts longer ES256 signatures (it drops the extra bytes), so a valid token with a
     * character appended would verify too.
     */
    static boolean strictSignature(String token) {
      String[] parts = token.split("\\.", -1);
      if (parts.length != 3) {
        return true;
      }
      try {
        byte[] signature = Base64.getUrlDecoder().decode(parts[2]);
        if (!Base64.getUrlEncoder().withoutPadding().encodeToString(signature).equals(parts[2])) {
          return false;
        }
        Object alg = new JsonObject(new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8))
          .getValue("alg");
        return !"ES256".equals(alg) || signature.length == 64;
      } catch (RuntimeException e) {
        return false;
      }
    }

    private static Future<User> verifyWith(JWTAuth auth, Credentials credentials) {
      try {
        return auth.authenticate(credentials);
      } catch (RuntimeException e) {
        return Future.failedFuture(e);
      }
    }

    private Future<User> alive(User user, Credentials credentials) {
      JsonObject claims = user.attributes().getJsonObject("accessToken", user.principal());
      String sessionId = claims.getValue("session_id") instanceof String s ? s : null;
      String subject = claims.getValue("sub") instanceof String s ? s : null;
      if (sessionId != null && endedSessions.containsKey(sessionId)) {
        return Future.failedFuture(new PortcullisException(401, "session_not_found", "Session ended", null));
      }
      UserEvent event = subject == null ? null : userEvents.get(subject);
      long issuedAt = claims.getValue("iat") instanceof Number n ? n.longValue() : 0;
      if (event == null || issuedAt > event.atSeconds() || event.confirmedSessions().contains(String.valueOf(sessionId))) {
        return Future.succeededFuture(user);
      }
      String token = ((TokenCredentials) credentials).getToken();
      return client.verify(token).map(ok -> {
        event.confirmedSessions().add(String.valueOf(sessionId));
        return user;
      });
    }

    @Override
    public String generateToken(JsonObject claims, JWTOptions options) {
      throw new UnsupportedOperationException("Only Portcullis issues tokens");
    }

    @Override
    public String generateToken(JsonObject claims) {
      throw new UnsupportedOperationException("Only Portcullis issues tokens");
    }
  }
}
