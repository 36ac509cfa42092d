package io.portcullis.bus;

import io.portcullis.db.DatabaseUnavailable;
import io.portcullis.error.AuthException;
import io.portcullis.error.ErrorCode;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The two ends of a failure on the bus: a recipient fails a message with the HTTP status and the error JSON the
 * HTTP API answers with; a caller turns that back into an {@link AuthException}. A timeout, a missing handler and
 * a database that cannot be reached become 503 {@code service_unavailable}.
 */
public final class BusErrors {

  private static final Logger LOG = LoggerFactory.getLogger(BusErrors.class);

  private BusErrors() {
  }

  public static void fail(Message<?> message, Throwable error) {
    AuthException auth = toAuthException(error);
    message.fail(auth.status(), auth.toJson().encode());
  }

  /** Every failure as an {@link AuthException}; anything unexpected is logged here, with its cause, once. */
  public static AuthException toAuthException(Throwable error) {
    if (error instanceof AuthException auth) {
      return auth;
    }
    if (error instanceof ReplyException reply) {
      return fromReply(reply);
    }
    if (DatabaseUnavailable.is(error)) {
      // Expected while the database is down or restarting: one line, no stack; /ready says 503 meanwhile.
      LOG.warn("Database unavailable: {}", error.toString());
      return new AuthException(ErrorCode.SERVICE_UNAVAILABLE, "Service temporarily unavailable", error);
    }
    LOG.error("Unexpected failure", error);
    return new AuthException(ErrorCode.UNEXPECTED_FAILURE, "Unexpected failure", error);
  }

  private static AuthException fromReply(ReplyException reply) {
    switch (reply.failureType()) {
      case TIMEOUT:
      case NO_HANDLERS:
        return new AuthException(ErrorCode.SERVICE_UNAVAILABLE, "Service temporarily unavailable", reply);
      default:
        try {
          return AuthException.fromJson(new JsonObject(reply.getMessage()));
        } catch (DecodeException | NullPointerException | ClassCastException e) {
          LOG.error("Recipient failure without an error body: {}", reply.getMessage());
          return new AuthException(ErrorCode.UNEXPECTED_FAILURE, "Unexpected failure", reply);
        }
    }
  }
}
