package io.portcullis.flow;

import io.portcullis.bus.Addresses;
import io.portcullis.bus.AuthBus;
import io.portcullis.input.Inputs;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.portcullis.user.UserRepository;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;

import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/**
 * {@code grant_type=pkce}: an auth code and its code verifier → a session, once, within {@link FlowStates#LIFETIME}
 * of the code's issue. The flow row is deleted in the same transaction that checks it, so a code works once even
 * when two instances receive it at the same time.
 */
public final class PkceExchange {

  private final Pool pool;
  private final AuthBus bus;
  private final Clock clock;

  public PkceExchange(Pool pool, AuthBus bus, Clock clock) {
    this.pool = pool;
    this.bus = bus;
    this.clock = clock;
  }

  /** {@code {auth_code, code_verifier}} → a session (with {@code provider_token} after an external provider). */
  public Future<JsonObject> exchange(JsonObject body, String ip, String userAgent) {
    String code = Inputs.optionalString(body, "auth_code");
    String verifier = Inputs.optionalString(body, "code_verifier");
    if (code == null || code.isEmpty() || verifier == null || verifier.isEmpty()) {
      return Future.failedFuture(AuthException.validation(
        "invalid request: both auth code and code verifier should be non-empty"));
    }
    OffsetDateTime now = OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
    return pool.withTransaction(conn -> FlowStates.lockByCode(conn, code).compose(flow -> {
      if (flow == null || flow.userId() == null) {
        return Future.failedFuture(new AuthException(ErrorCode.FLOW_STATE_NOT_FOUND,
          "invalid flow state, no valid flow state found"));
      }
      if (flow.authCodeIssuedAt().plus(FlowStates.LIFETIME).isBefore(now)) {
        return Future.failedFuture(new AuthException(ErrorCode.FLOW_STATE_EXPIRED,
          "invalid flow state, flow state has expired"));
      }
      if (!flow.pkce() || !Pkce.matches(flow.codeChallenge(), flow.codeChallengeMethod(), verifier)) {
        return Future.failedFuture(new AuthException(ErrorCode.BAD_CODE_VERIFIER,
          "code challenge does not match previously saved code verifier"));
      }
      return new UserRepository(conn).findById(flow.userId()).compose(user -> {
        if (user == null) {
          return Future.failedFuture(new AuthException(ErrorCode.FLOW_STATE_NOT_FOUND,
            "invalid flow state, no valid flow state found"));
        }
        OffsetDateTime bannedUntil = user.getOffsetDateTime("banned_until");
        if (bannedUntil != null && bannedUntil.isAfter(now)) {
          return Future.failedFuture(new AuthException(ErrorCode.USER_BANNED, "User is banned"));
        }
        return FlowStates.delete(conn, flow.id()).map(flow);
      });
    })).compose(flow -> bus.request(Addresses.SESSIONS_ISSUE, new JsonObject()
        .put("user_id", flow.userId().toString())
        .put("amr_method", flow.authenticationMethod()), ip, userAgent)
      .map(session -> {
        if (flow.providerAccessToken() != null) {
          session.put("provider_token", flow.providerAccessToken());
        }
        if (flow.providerRefreshToken() != null) {
          session.put("provider_refresh_token", flow.providerRefreshToken());
        }
        return session;
      }));
  }
}
