package io.portcullis.config;

/** A configuration that cannot be used; the message names the setting and its environment variable. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }
}
