package io.portcullis.session;

import io.portcullis.it.ManualClock;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cache's entries over time (the routes' use of them is SessionCacheTest's): due for a check after three
 * quarters of the TTL, renewed by the check's answer, dropped when the session is gone or the user changed.
 */
class SessionCacheEntriesTest {

  private static final long TTL = 4000;
  private static final JsonObject USER = new JsonObject().put("id", "u");

  private final ManualClock clock = new ManualClock(Instant.ofEpochMilli(1_000_000));
  private final SessionCache cache = new SessionCache(TTL, clock);

  @Test
  void anEntryIsDueForACheckAfterThreeQuartersOfItsTtlAndARenewalRestartsIt() {
    cache.put("s", "u", USER, cache.generation("u"));
    clock.advance(Duration.ofMillis(TTL * 3 / 4 - 1));
    assertFalse(cache.dueForCheck("s"));
    clock.advance(Duration.ofMillis(1));
    assertTrue(cache.dueForCheck("s"));
    assertEquals(USER, cache.get("s", "u").json(), "still served while due");

    cache.put("s", "u", USER, cache.generation("u"));
    clock.advance(Duration.ofMillis(TTL - 1));
    assertEquals(USER, cache.get("s", "u").json(), "renewed for a whole TTL");
    clock.advance(Duration.ofMillis(1));
    assertNull(cache.get("s", "u"));
  }

  @Test
  void expiredEntriesAreEvicted() {
    cache.put("old", "u", USER, cache.generation("u"));
    clock.advance(Duration.ofMillis(TTL / 2));
    cache.put("new", "v", USER, cache.generation("v"));
    clock.advance(Duration.ofMillis(TTL / 2));
    cache.evictExpired();
    assertEquals(1, cache.size());
    assertNull(cache.get("old", "u"));
    assertEquals(USER, cache.get("new", "v").json());
  }

  @Test
  void aForgottenOrInvalidatedSessionIsNotServed() {
    cache.put("s", "u", USER, cache.generation("u"));
    cache.forget("s");
    assertNull(cache.get("s", "u"));
    assertFalse(cache.dueForCheck("s"));

    long before = cache.generation("u");
    cache.put("s", "u", USER, before);
    cache.invalidateUser("u");
    assertNull(cache.get("s", "u"));
    cache.put("s", "u", USER, before);
    assertNull(cache.get("s", "u"), "a check that began before the change is not kept");
  }
}
