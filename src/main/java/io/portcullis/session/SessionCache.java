package io.portcullis.session;

import io.vertx.core.json.JsonObject;

import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The liveness of sessions as Bearer routes and introspection last saw it (the user, for a session that exists), kept
 * for at most {@code sessions.cache_ttl_ms} so that neither costs a database query each time. Shared by the
 * verticles of one process. Every event about a user ({@code auth.events}: sign-out, update, ban, deletion, reuse
 * detection...) drops that user's entries before the request that caused it is answered, so a sign-out takes effect
 * at once in this process; other processes hear the published event, and the TTL bounds anything else (a row
 * changed behind the service's back).
 * <p>
 * An entry used after three quarters of its TTL is checked again while it is still served ({@link #dueForCheck}):
 * a session in use stays cached and never waits on the database again, and a change behind the service's back is
 * still seen within the TTL. Without that, every cached session expired in turn under load, and each one's next
 * requests all waited on the database together.
 */
public final class SessionCache {

  private static final int MAX_ENTRIES = 200_000;

  private record Entry(String userId, LiveUser user, long checkAtMillis, long expiresAtMillis, long generation) {
  }

  private final long ttlMillis;
  private final Clock clock;
  private final Map<String, Entry> bySession = new ConcurrentHashMap<>();
  /** Bumped on every invalidation of a user: a lookup that raced with one does not store its stale answer. */
  private final Map<String, AtomicLong> generations = new ConcurrentHashMap<>();

  /** {@code clock}: the service's clock, so that moving it (tests) also ages the entries. */
  public SessionCache(long ttlMillis, Clock clock) {
    this.ttlMillis = ttlMillis;
    this.clock = clock;
  }

  public boolean enabled() {
    return ttlMillis > 0;
  }

  /** The cached user of a live session of {@code userId}, or null. */
  public LiveUser get(String sessionId, String userId) {
    if (!enabled() || sessionId == null) {
      return null;
    }
    Entry entry = bySession.get(sessionId);
    if (entry == null || !entry.userId().equals(userId) || clock.millis() >= entry.expiresAtMillis()
      || entry.generation() != generation(userId)) {
      return null;
    }
    return entry.user();
  }

  /**
   * Whether the session's entry has lived three quarters of its TTL: whoever serves it then should check the session
   * again ({@link #put} renews the entry; {@link #forget} drops it when the session is gone).
   */
  public boolean dueForCheck(String sessionId) {
    Entry entry = sessionId == null ? null : bySession.get(sessionId);
    return entry != null && clock.millis() >= entry.checkAtMillis();
  }

  /**
   * Drops the entries whose TTL has run out (the housekeeping verticle, every minute): an entry is otherwise kept
   * until its session is used again, and sessions that are not add up.
   */
  public void evictExpired() {
    long now = clock.millis();
    bySession.values().removeIf(entry -> now >= entry.expiresAtMillis());
  }

  int size() {
    return bySession.size();
  }

  /** Drops the session's entry: a check found the session ended. */
  public void forget(String sessionId) {
    if (sessionId != null) {
      bySession.remove(sessionId);
    }
  }

  /** The generation to pass to {@link #put} for a lookup that starts now. */
  public long generation(String userId) {
    AtomicLong generation = generations.get(userId);
    return generation == null ? 0 : generation.get();
  }

  /** Keeps the user of a session found live by a lookup that began at {@code generationAtLookup}; answers it. */
  public LiveUser put(String sessionId, String userId, JsonObject user, long generationAtLookup) {
    LiveUser live = new LiveUser(user);
    if (!enabled() || sessionId == null || generation(userId) != generationAtLookup) {
      return live;
    }
    if (bySession.size() >= MAX_ENTRIES) {
      bySession.clear();
    }
    long now = clock.millis();
    bySession.put(sessionId, new Entry(userId, live, now + ttlMillis * 3 / 4, now + ttlMillis, generationAtLookup));
    return live;
  }

  /** Forgets everything cached about the user's sessions. */
  public void invalidateUser(String userId) {
    if (!enabled() || userId == null) {
      return;
    }
    generations.computeIfAbsent(userId, k -> new AtomicLong()).incrementAndGet();
    if (generations.size() > MAX_ENTRIES) {
      // Entries of other users are then judged by generation 0 against a missing counter: drop them all.
      generations.clear();
      bySession.clear();
    }
  }
}
