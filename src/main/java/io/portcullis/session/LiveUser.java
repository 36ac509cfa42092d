package io.portcullis.session;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * The user of a live session as Bearer routes hand it on, with its JSON encoded at most once: {@code GET /user}
 * answers the same bytes for as long as the session cache keeps the entry, rather than encoding on every request.
 * Nobody changes {@link #json()} once it is here (a change to the user is a new entry).
 */
public final class LiveUser {

  private final JsonObject json;
  /** Written once by whichever event loop encodes first; a race only encodes the same bytes twice. */
  private volatile Buffer encoded;

  public LiveUser(JsonObject json) {
    this.json = json;
  }

  public JsonObject json() {
    return json;
  }

  /**
   * The user's JSON as the body of an answer, the same buffer every time: a response writes a slice of the buffer it
   * is given (a reader index of its own over the same bytes), which is what lets Vert.x write one buffer many
   * times, from any thread, while nothing writes into it. Nothing does: the buffer never leaves this class but as
   * a response body.
   */
  public Buffer encoded() {
    Buffer buffer = encoded;
    if (buffer == null) {
      // Copied into a heap buffer of Vert.x's, which releasing never frees: a response may still be writing it.
      buffer = Buffer.buffer(json.toBuffer().getBytes());
      encoded = buffer;
    }
    return buffer;
  }
}
