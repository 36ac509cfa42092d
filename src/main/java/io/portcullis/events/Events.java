package io.portcullis.events;

import io.portcullis.bus.Addresses;
import io.portcullis.db.Rows;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Records what happened: one row in {@code audit_log} and one JSON published on {@code auth.events}. Written where
 * the event happens (not by a consumer of the publication, which every node of a cluster would receive).
 */
public final class Events {

  public static final String SIGNED_UP = "user.signed_up";
  public static final String SIGNED_IN = "user.signed_in";
  public static final String TOKEN_REFRESHED = "token.refreshed";
  public static final String SIGNED_OUT = "user.signed_out";
  public static final String UPDATED = "user.updated";
  public static final String DELETED = "user.deleted";
  public static final String REFRESH_TOKEN_REUSED = "refresh_token.reused";
  public static final String BANNED = "user.banned";

  private static final Logger LOG = LoggerFactory.getLogger(Events.class);
  private static final String INSERT = "INSERT INTO audit_log (type, user_id, session_id, ip, user_agent, created_at, "
    + "actor_id) VALUES ($1, $2, $3, $4, $5, $6, $7)";

  private final Vertx vertx;
  private final Pool pool;
  private final Clock clock;
  private final Consumer<String> userChanged;

  /** {@code userChanged} hears of every event's user id first (the process's cached session liveness drops it). */
  public Events(Vertx vertx, Pool pool, Clock clock, Consumer<String> userChanged) {
    this.vertx = vertx;
    this.pool = pool;
    this.clock = clock;
    this.userChanged = userChanged;
  }

  /** Writes the audit row, then publishes; completes when the row is written (a failure is logged, not thrown). */
  public Future<Void> emit(String type, UUID userId, UUID sessionId, String ip, String userAgent) {
    return emit(type, userId, sessionId, ip, userAgent, null);
  }

  /** An event caused by someone else than the user (an admin); {@code actorId} null for a service key. */
  public Future<Void> emit(String type, UUID userId, UUID sessionId, String ip, String userAgent, UUID actorId) {
    // Before anything else, and so before the caller answers: cached session liveness of this user is stale now.
    userChanged.accept(userId == null ? null : userId.toString());
    OffsetDateTime at = Rows.now(clock);
    JsonObject event = new JsonObject()
      .put("type", type)
      .put("user_id", userId == null ? null : userId.toString())
      .put("at", at.toString());
    if (sessionId != null) {
      event.put("session_id", sessionId.toString());
    }
    if (ip != null) {
      event.put("ip", ip);
    }
    if (userAgent != null) {
      event.put("user_agent", userAgent);
    }
    if (actorId != null) {
      event.put("actor_id", actorId.toString());
    }
    return pool.preparedQuery(INSERT).execute(Tuple.of(type, userId, sessionId, ip, userAgent, at, actorId))
      .onFailure(e -> LOG.error("Audit row for {} not written: {}", type, e.toString()))
      .<Void>mapEmpty()
      .otherwiseEmpty()
      .onComplete(ignored -> vertx.eventBus().publish(Addresses.EVENTS, event));
  }
}
