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
  private volatile byte[] encoded;

  public LiveUser(JsonObject json) {
    this.json = json;
  }

  public JsonObject json() {
    return json;
  }

  /** The user's JSON as the body of an answer (a buffer of its own: a response may keep it after this returns). */
  public Buffer encoded() {
    byte[] bytes = encoded;
    if (bytes == null) {
      bytes = json.toBuffer().getBytes();
      encoded = bytes;
    }
    return Buffer.buffer(bytes);
  }
}
