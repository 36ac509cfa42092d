package io.portcullis.user;

import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;

import java.time.OffsetDateTime;

/** Whether a user may act now: the one ban rule of the grants and the Bearer routes. */
public final class Bans {

  private Bans() {
  }

  /** A grant (password, refresh, a verified mail token) refused for a banned user: 400, as GoTrue answers it. */
  public static Future<Row> refuseGrant(Row user, OffsetDateTime now) {
    return banned(user, now)
      ? Future.failedFuture(new AuthException(ErrorCode.USER_BANNED, "User is banned"))
      : Future.succeededFuture(user);
  }

  /** A Bearer route refused for a banned user: 403, the token is valid but its holder may not act. */
  public static Future<Row> refuseBearer(Row user, OffsetDateTime now) {
    return banned(user, now)
      ? Future.failedFuture(AuthException.withStatus(ErrorCode.USER_BANNED, 403, "User is banned"))
      : Future.succeededFuture(user);
  }

  private static boolean banned(Row user, OffsetDateTime now) {
    OffsetDateTime bannedUntil = user.getOffsetDateTime("banned_until");
    return bannedUntil != null && bannedUntil.isAfter(now);
  }
}
