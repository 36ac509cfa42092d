package io.portcullis.token;

/**
 * The signing keys of one process as they are now: loaded before deployment, replaced only by its one owner
 * ({@link KeysVerticle}), read by every verticle that signs or verifies.
 */
public final class KeyRing {

  private volatile KeySet current;

  public KeyRing(KeySet initial) {
    this.current = initial;
  }

  public KeySet current() {
    return current;
  }

  /** Takes {@code next}; true when anything a signer or a verifier uses changed. */
  boolean replace(KeySet next) {
    KeySet previous = current;
    current = next;
    return !java.util.Objects.equals(next.signingKid(), previous.signingKid())
      || !next.publishedJwks().equals(previous.publishedJwks())
      || !next.verificationJwks().equals(previous.verificationJwks());
  }
}
