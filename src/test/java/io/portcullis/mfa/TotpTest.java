package io.portcullis.mfa;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** RFC 6238 and RFC 4648 in milliseconds, without the service. */
class TotpTest {

  /** The SHA-1 seed of RFC 6238 appendix B. */
  private static final byte[] SEED = "12345678901234567890".getBytes(StandardCharsets.US_ASCII);

  @Test
  void codesAreTheLastSixDigitsOfRfc6238AppendixB() {
    long[][] vectors = {{59, 287082}, {1111111109, 81804}, {1111111111, 50471}, {1234567890, 5924},
      {2000000000, 279037}, {20000000000L, 353130}};
    for (long[] vector : vectors) {
      long step = Totp.step(Instant.ofEpochSecond(vector[0]));
      assertEquals(String.format("%06d", vector[1]), Totp.code(SEED, step), "T=" + vector[0]);
    }
  }

  @Test
  void aCodeMatchesWithinOneStepEitherWayAndOnlyAfterTheLastAcceptedStep() {
    long now = Totp.step(Instant.ofEpochSecond(1_700_000_000L));
    String previous = Totp.code(SEED, now - 1);
    String current = Totp.code(SEED, now);
    String next = Totp.code(SEED, now + 1);
    assertEquals(now - 1, Totp.matchingStep(SEED, previous, now, Long.MIN_VALUE));
    assertEquals(now, Totp.matchingStep(SEED, current, now, Long.MIN_VALUE));
    assertEquals(now + 1, Totp.matchingStep(SEED, next, now, Long.MIN_VALUE));
    assertEquals(-1, Totp.matchingStep(SEED, Totp.code(SEED, now - 2), now, Long.MIN_VALUE));
    assertEquals(-1, Totp.matchingStep(SEED, Totp.code(SEED, now + 2), now, Long.MIN_VALUE));
    // Accepted once at its step: refused for the rest of its window, and so are earlier codes.
    assertEquals(-1, Totp.matchingStep(SEED, current, now, now));
    assertEquals(-1, Totp.matchingStep(SEED, previous, now, now));
    assertEquals(now + 1, Totp.matchingStep(SEED, next, now, now));
  }

  @Test
  void base32RoundTripsAndReadsRfc4648Vectors() {
    assertEquals("MZXW6YTBOI", Base32.encode("foobar".getBytes(StandardCharsets.US_ASCII)));
    assertEquals("MZXW6YQ", Base32.encode("foob".getBytes(StandardCharsets.US_ASCII)));
    assertArrayEquals("foobar".getBytes(StandardCharsets.US_ASCII), Base32.decode("mzxw6ytboi"));
    assertArrayEquals("foob".getBytes(StandardCharsets.US_ASCII), Base32.decode("MZXW6YQ="));
    byte[] secret = new byte[20];
    new java.util.Random(7).nextBytes(secret);
    assertArrayEquals(secret, Base32.decode(Base32.encode(secret)));
  }
}
