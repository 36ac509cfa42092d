package io.portcullis.client;

/**
 * A failed Portcullis call: the HTTP status and the stable {@code error_code} the service answered (the same codes
 * as over HTTP), or 503 {@code service_unavailable} when no member answered in time.
 */
public final class PortcullisException extends RuntimeException {

  private final int status;
  private final String errorCode;

  public PortcullisException(int status, String errorCode, String message, Throwable cause) {
    super(message, cause);
    this.status = status;
    this.errorCode = errorCode;
  }

  public int status() {
    return status;
  }

  public String errorCode() {
    return errorCode;
  }

  @Override
  public String toString() {
    return "PortcullisException " + status + " " + errorCode + ": " + getMessage();
  }
}
