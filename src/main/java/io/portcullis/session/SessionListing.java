package io.portcullis.session;

import io.portcullis.error.AuthException;
import io.portcullis.input.Inputs;
import io.portcullis.user.UserJson;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;

/** The sessions of a user as {@code auth.sessions.list} and the session routes show them: no token, no secret. */
public final class SessionListing {

  private final SessionRepository sessions;
  private final Clock clock;

  public SessionListing(SessionRepository sessions, Clock clock) {
    this.sessions = sessions;
    this.clock = clock;
  }

  /** {@code {user_id}} → {@code {sessions:[...]}}, newest first; a user without sessions has an empty list. */
  public Future<JsonObject> list(JsonObject body) {
    UUID userId = Inputs.uuidOrNull(body.getValue("user_id") instanceof String s ? s : null);
    if (userId == null) {
      return Future.failedFuture(AuthException.validation("Field 'user_id' must be a UUID"));
    }
    OffsetDateTime now = OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
    return sessions.listOf(userId, now).map(rows -> {
      JsonArray list = new JsonArray();
      rows.forEach(row -> list.add(json(row)));
      return new JsonObject().put("sessions", list);
    });
  }

  private static JsonObject json(Row row) {
    return new JsonObject()
      .put("id", row.getUUID("id").toString())
      .put("created_at", UserJson.time(row.getOffsetDateTime("created_at")))
      .put("refreshed_at", UserJson.time(row.getOffsetDateTime("refreshed_at")))
      .put("aal", row.getString("aal"))
      .put("ip", row.getString("ip"))
      .put("user_agent", row.getString("user_agent"));
  }
}
