package io.portcullis.bus;

import io.portcullis.error.AuthException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;

import java.util.function.Function;

/**
 * The thin adapters on both sides of the bus: {@link #request} for callers (failures become AuthException),
 * {@link #serve} for recipients (a service method's Future becomes a reply or a failure).
 */
public final class AuthBus {

  private static final String HEADER_SENT = "sent_nanos";

  private final Vertx vertx;
  private final long timeoutMs;

  public AuthBus(Vertx vertx, long timeoutMs) {
    this.vertx = vertx;
    this.timeoutMs = timeoutMs;
  }

  public Future<JsonObject> request(String address, JsonObject body) {
    return request(address, body, null, null);
  }

  public Future<JsonObject> request(String address, JsonObject body, String ip, String userAgent) {
    // Portcullis's own traffic stays in this process, on a clustered bus too: a request never waits on a member
    // that died or is partitioned away, and this process's answer does not depend on another's.
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(timeoutMs).setLocalOnly(true)
      .addHeader(HEADER_SENT, Long.toString(System.nanoTime()));
    if (ip != null) {
      options.addHeader(Addresses.HEADER_IP, ip);
    }
    if (userAgent != null) {
      options.addHeader(Addresses.HEADER_USER_AGENT, userAgent);
    }
    return vertx.eventBus().<JsonObject>request(address, body, options)
      .map(Message::body)
      .recover(error -> Future.failedFuture(BusErrors.toAuthException(error)));
  }

  /**
   * Registers a consumer that answers with the service's result; the Future completes once it is registered. The
   * public addresses are served cluster-wide, the internal ones ({@code auth.internal.*}) to this process only.
   */
  public Future<Void> serve(String address, Function<Message<JsonObject>, Future<JsonObject>> service) {
    Handler<Message<Object>> handler = message -> {
      Future<JsonObject> result;
      try {
        if (!(message.body() instanceof JsonObject)) {
          throw AuthException.validation("The request body must be a JSON object");
        }
        @SuppressWarnings("unchecked")
        Message<JsonObject> json = (Message<JsonObject>) (Message<?>) message;
        result = service.apply(json);
      } catch (RuntimeException e) {
        result = Future.failedFuture(e);
      }
      result.onSuccess(message::reply).onFailure(error -> BusErrors.fail(message, error));
    };
    return (Addresses.isInternal(address)
      ? vertx.eventBus().localConsumer(address, handler)
      : vertx.eventBus().consumer(address, handler)).completion();
  }

  /**
   * Nanoseconds since a sender in this JVM sent the message, or -1 when unknown (another node's clock, or no
   * stamp).
   */
  public static long waitedNanos(Message<?> message) {
    String sent = message.headers().get(HEADER_SENT);
    if (sent == null || message.isSend() && !message.headers().contains(HEADER_SENT)) {
      return -1;
    }
    try {
      long waited = System.nanoTime() - Long.parseLong(sent);
      return waited >= 0 && waited < 600_000_000_000L ? waited : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** The caller's address, when the caller sent one (HTTP requests do). */
  public static String ip(Message<?> message) {
    return message.headers().get(Addresses.HEADER_IP);
  }

  public static String userAgent(Message<?> message) {
    return message.headers().get(Addresses.HEADER_USER_AGENT);
  }
}
