package io.portcullis.token;

import io.vertx.sqlclient.Row;
import io.portcullis.user.Bans;
import io.portcullis.db.Rows;
import io.portcullis.input.Inputs;
import io.portcullis.config.Config;
import io.portcullis.error.AuthException;
import io.portcullis.error.Futures;
import io.portcullis.error.ErrorCode;
import io.portcullis.events.Events;
import io.portcullis.hooks.Hooks;
import io.portcullis.metrics.AuthMetrics;
import io.portcullis.session.RefreshTokens;
import io.portcullis.session.SessionRepository;
import io.portcullis.user.UserJson;
import io.portcullis.user.UserRepository;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.UUID;

/** Sessions and the tokens that carry them: issuance, refresh with rotation and reuse detection, sign-out. */
public final class TokenService {

  private final Config config;
  private final Clock clock;
  private final AuthMetrics metrics;
  private final Pool pool;
  private volatile TokenSigner signer;
  private final RefreshTokens refreshTokens;
  private final SessionRepository sessions;
  private final Events events;
  private volatile Hooks hooks;

  public TokenService(Config config, Pool pool, TokenSigner signer, byte[] refreshSecret, Events events,
                      AuthMetrics metrics, Clock clock) {
    this.config = config;
    this.pool = pool;
    this.signer = signer;
    this.refreshTokens = new RefreshTokens(refreshSecret);
    this.sessions = new SessionRepository(pool, refreshTokens, config.sessions());
    this.events = events;
    this.metrics = metrics;
    this.clock = clock;
  }

  /** Hands every access token's claims to the custom access token hook (when it is on) before signing. */
  public void useHooks(Hooks hooks) {
    this.hooks = hooks;
  }

  /** Signs with another key from now on (after a rotation took effect). */
  public void useSigner(TokenSigner next) {
    this.signer = next;
  }

  /** A new session for a user whose credentials were just checked; records {@code user.signed_in}. */
  public Future<JsonObject> issue(UUID userId, String amrMethod, String ip, String userAgent) {
    UUID sessionId = UUID.randomUUID();
    OffsetDateTime now = Rows.now(clock);
    String refreshToken = refreshTokens.token(sessionId, 1);
    return pool.withTransaction(conn -> {
      UserRepository users = new UserRepository(conn);
      return users.markSignedIn(userId, now)
        .compose(done -> users.findById(userId))
        .compose(user -> {
          if (user == null) {
            return Future.failedFuture(new AuthException(ErrorCode.USER_NOT_FOUND, "User not found"));
          }
          return sessions.create(conn, sessionId, userId, amrMethod, now, ip, userAgent)
            .map(done -> user);
        });
    }).compose(user -> events.emit(Events.SIGNED_IN, userId, sessionId, ip, userAgent)
      .compose(done -> session(UserJson.fromRow(user), sessionId, amrMethod, amrMethod, now.toInstant(), refreshToken)));
  }

  public Future<JsonObject> refresh(JsonObject body, String ip, String userAgent) {
    return rotate(body, ip, userAgent).andThen(result -> metrics.refresh(AuthMetrics.outcome(result)));
  }

  private Future<JsonObject> rotate(JsonObject body, String ip, String userAgent) {
    return Futures.attempt(() -> {
      String token = Inputs.optionalString(body, "refresh_token");
      if (token == null || token.isBlank()) {
        return Future.failedFuture(AuthException.validation("refresh_token is required"));
      }
      Duration interval = Duration.ofSeconds(config.sessions().refreshTokenReuseInterval());
      return sessions.refresh(RefreshTokens.hash(token), Rows.now(clock), interval)
        .compose(outcome -> switch (outcome.kind()) {
          case NOT_FOUND -> Future.failedFuture(
            new AuthException(ErrorCode.REFRESH_TOKEN_NOT_FOUND, "Invalid Refresh Token: Refresh Token Not Found"));
          case REUSE_DETECTED -> {
            metrics.reuseDetected();
            yield events.emit(Events.REFRESH_TOKEN_REUSED, outcome.userId(), outcome.sessionId(), ip, userAgent)
              .compose(done -> Future.failedFuture(
                new AuthException(ErrorCode.REFRESH_TOKEN_ALREADY_USED, "Invalid Refresh Token: Already Used")));
          }
          case EXPIRED -> events.emit(Events.SIGNED_OUT, outcome.userId(), outcome.sessionId(), ip, userAgent)
            .compose(done -> Future.failedFuture(new AuthException(ErrorCode.SESSION_EXPIRED, "Session expired")));
          case ROTATED, REPLAYED -> answerRefresh(outcome, ip, userAgent);
        });
    });
  }

  private Future<JsonObject> answerRefresh(SessionRepository.Refresh outcome, String ip, String userAgent) {
    return new UserRepository(pool).findById(outcome.userId()).compose(user -> {
      if (user == null) {
        return Future.failedFuture(
          new AuthException(ErrorCode.REFRESH_TOKEN_NOT_FOUND, "Invalid Refresh Token: Refresh Token Not Found"));
      }
      return Bans.refuseGrant(user, Rows.now(clock)).compose(allowed -> sessionAfterRefresh(outcome, user, ip, userAgent));
    });
  }

  /** The refreshed session's answer; a rotation is recorded, a replay within the reuse interval is not. */
  private Future<JsonObject> sessionAfterRefresh(SessionRepository.Refresh outcome, Row user, String ip,
                                                 String userAgent) {
    Future<JsonObject> session = session(UserJson.fromRow(user), outcome.sessionId(), outcome.amrMethod(),
      "token_refresh", outcome.amrAt().toInstant(), outcome.mfaMethod(),
      outcome.mfaAt() == null ? null : outcome.mfaAt().toInstant(),
      refreshTokens.token(outcome.sessionId(), outcome.counter()));
    if (outcome.kind() == SessionRepository.Kind.ROTATED) {
      return session.compose(answer -> events.emit(Events.TOKEN_REFRESHED, outcome.userId(), outcome.sessionId(),
        ip, userAgent).map(done -> answer));
    }
    return session;
  }

  /**
   * Ends sessions: {@code {session_id}} one, {@code {user_id}} all of a user, {@code {user_id,
   * except_session_id}} all others. Answers {@code {ended: n}}. An admin's {@code actor_id} goes into the event.
   */
  public Future<JsonObject> end(JsonObject body, String ip, String userAgent) {
    return Futures.attempt(() -> {
      UUID sessionId = Inputs.optionalUuid(body, "session_id");
      UUID userId = Inputs.optionalUuid(body, "user_id");
      UUID except = Inputs.optionalUuid(body, "except_session_id");
      Future<Integer> ended;
      if (userId != null && except != null) {
        ended = sessions.endOthers(userId, except);
      } else if (sessionId != null) {
        // {session_id} alone (the bus API) does not name the user: the event takes the owner of the ended row.
        return sessions.endOne(sessionId, userId).compose(owner -> (owner == null
          ? Future.<Void>succeededFuture()
          : events.emit(Events.SIGNED_OUT, owner, sessionId, ip, userAgent, Inputs.optionalUuid(body, "actor_id")))
          .map(done -> new JsonObject().put("ended", owner == null ? 0 : 1)));
      } else if (userId != null) {
        ended = sessions.endAll(userId);
      } else {
        return Future.failedFuture(AuthException.validation("session_id or user_id is required"));
      }
      return ended.compose(count -> (count > 0 && userId != null
        ? events.emit(Events.SIGNED_OUT, userId, sessionId, ip, userAgent)
        : Future.<Void>succeededFuture())
        .map(done -> new JsonObject().put("ended", count)));
    });
  }

  /**
   * RFC 7009: ends the session of a refresh token; unknown tokens are fine (the answer is the same). An access
   * token is not revocable on its own (it expires); its session ends with the refresh token's.
   */
  public Future<JsonObject> revoke(JsonObject body, String ip, String userAgent) {
    return Futures.attempt(() -> {
      String token = Inputs.optionalString(body, "token");
      if (token == null || token.isEmpty()) {
        return Future.failedFuture(AuthException.validation("token is required"));
      }
      return sessions.sessionOf(RefreshTokens.hash(token)).compose(sessionId -> sessionId == null
        ? Future.succeededFuture(new JsonObject())
        : end(new JsonObject().put("session_id", sessionId.toString()), ip, userAgent).map(ended -> new JsonObject()));
    });
  }

  /** RFC 7662 for refresh tokens: active while not rotated and its session lives (within its limits). */
  public Future<JsonObject> introspectRefresh(String token) {
    return sessions.activeRefresh(RefreshTokens.hash(token), Rows.now(clock)).map(row -> row == null
      ? new JsonObject().put("active", false)
      : new JsonObject()
        .put("active", true)
        .put("token_type", "refresh_token")
        .put("sub", row.getUUID("user_id").toString())
        .put("session_id", row.getUUID("session_id").toString())
        .put("iat", row.getOffsetDateTime("created_at").toEpochSecond())
        .put("iss", config.jwt().issuer()));
  }

  /**
   * {@code {user_id, session_id, method, factor_id?}} → the session raised to aal2 by a second factor just checked
   * ({@code method} {@code totp} or {@code recovery_code}): a new token pair; the user's aal1 sessions end.
   */
  public Future<JsonObject> upgrade(JsonObject body, String ip, String userAgent) {
    return Futures.attempt(() -> {
      UUID userId = Inputs.optionalUuid(body, "user_id");
      UUID sessionId = Inputs.optionalUuid(body, "session_id");
      String method = Inputs.optionalString(body, "method");
      if (userId == null || sessionId == null || method == null) {
        return Future.failedFuture(AuthException.validation("user_id, session_id and method are required"));
      }
      OffsetDateTime now = Rows.now(clock);
      return sessions.upgrade(sessionId, userId, method, Inputs.optionalUuid(body, "factor_id"), now)
        .compose(upgraded -> upgraded == null
          ? Future.failedFuture(new AuthException(ErrorCode.SESSION_NOT_FOUND,
            "Session from session_id claim in JWT does not exist"))
          : new UserRepository(pool).findById(userId).compose(user -> user == null
            ? Future.failedFuture(new AuthException(ErrorCode.USER_NOT_FOUND, "User not found"))
            // The event also drops cached liveness: the user's aal1 sessions have just ended.
            : events.emit(Events.TOKEN_REFRESHED, userId, sessionId, ip, userAgent)
              .compose(done -> session(UserJson.fromRow(user), sessionId, upgraded.amrMethod(), method,
                upgraded.amrAt().toInstant(), method, now.toInstant(), refreshTokens.token(sessionId,
                  upgraded.counter())))));
    });
  }

  private Future<JsonObject> session(JsonObject user, UUID sessionId, String amrMethod, String authenticationMethod,
                                     Instant amrAt, String refreshToken) {
    return session(user, sessionId, amrMethod, authenticationMethod, amrAt, null, null, refreshToken);
  }

  /**
   * The answer of a grant: the access token's claims go through the custom access token hook when it is on
   * ({@code authenticationMethod} as the hook hears it: {@code token_refresh} on refresh).
   */
  private Future<JsonObject> session(JsonObject user, UUID sessionId, String amrMethod, String authenticationMethod,
                                     Instant amrAt, String mfaMethod, Instant mfaAt, String refreshToken) {
    Instant now = clock.instant();
    TokenSigner signing = signer;
    JsonObject claims = signing.claims(user, sessionId.toString(), amrMethod, amrAt, mfaMethod, mfaAt, now);
    Hooks hooked = hooks;
    return (hooked == null ? Future.succeededFuture(claims)
      : hooked.customAccessToken(user.getString("id"), claims, authenticationMethod))
      .map(signed -> session(user, signing.sign(signed), now, refreshToken));
  }

  private JsonObject session(JsonObject user, String accessToken, Instant now, String refreshToken) {
    long exp = config.jwt().exp();
    return new JsonObject()
      .put("access_token", accessToken)
      .put("token_type", "bearer")
      .put("expires_in", exp)
      .put("expires_at", now.getEpochSecond() + exp)
      .put("refresh_token", refreshToken)
      .put("user", user);
  }
}
