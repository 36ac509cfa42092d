package io.portcullis.credential;

import com.password4j.Argon2Function;
import com.password4j.types.Argon2;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Argon2id against RFC 9106's and the reference implementation's test vectors, and byte for byte against
 * password4j (whose hashes the database holds) for random passwords, salts and small parameters.
 */
class Argon2idTest {

  /** One instance for every try, as a hashing worker has: each hash starts on memory the previous one used. */
  private static final Argon2id SHARED = new Argon2id(params(Argon2id.Type.ID, 0x13, 1024, 1, 4, 32), 1);

  private static Argon2id.Parameters params(Argon2id.Type type, int version, int memoryKib, int iterations,
                                            int parallelism, int hashLength) {
    return new Argon2id.Parameters(type, version, memoryKib, iterations, parallelism, hashLength);
  }

  @Test
  void rfc9106Argon2idVectorWithFourLanesSecretAndAssociatedData() {
    byte[] password = filled(32, 0x01);
    byte[] salt = filled(16, 0x02);
    byte[] tag = new Argon2id(params(Argon2id.Type.ID, 0x13, 32, 3, 4, 32), 1).hash(password, salt, filled(8, 0x03),
      filled(12, 0x04), params(Argon2id.Type.ID, 0x13, 32, 3, 4, 32));
    assertEquals("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659", HexFormat.of().formatHex(tag));
  }

  @Test
  void rfc9106Argon2dAndArgon2iVectors() {
    byte[] password = filled(32, 0x01);
    byte[] salt = filled(16, 0x02);
    byte[] d = SHARED.hash(password, salt, filled(8, 0x03), filled(12, 0x04), params(Argon2id.Type.D, 0x13, 32, 3, 4,
      32));
    assertEquals("512b391b6f1162975371d30919734294f868e3be3984f3c1a13a4db9fabe4acb", HexFormat.of().formatHex(d));
    byte[] i = SHARED.hash(password, salt, filled(8, 0x03), filled(12, 0x04), params(Argon2id.Type.I, 0x13, 32, 3, 4,
      32));
    assertEquals("c814d9d1dc7f37aa13f0d77f2494bda1c8de6b016dd388d29952a4c4672b6ce8", HexFormat.of().formatHex(i));
  }

  /** The reference implementation's PHC strings (phc-winner-argon2), parsed and recomputed. */
  @Test
  void referenceImplementationPhcStringsRecompute() {
    assertRecomputes("password", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc");
    assertRecomputes("password", "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc");
    assertRecomputes("password", "$argon2i$v=19$m=256,t=2,p=2$c29tZXNhbHQ$T/XOJ2mh1/TIpJHfCdQan76Q5esCFVoT5MAeIM1Oq2E");
    // No version field: 0x10, whose later passes overwrite blocks instead of XORing into them.
    assertRecomputes("password", "$argon2i$m=256,t=2,p=2$c29tZXNhbHQ$tsEVYKap1h6scGt5ovl9aLRGOqOth+AMB+KwHpDFZPs");
    assertRecomputes("", "$argon2d$v=16$m=8,t=1,p=1$ICAgICAgICA$X54KZYxUSfMUihzebb70sKbheabHilo8gsUldrVU4IU");
  }

  private static void assertRecomputes(String password, String phc) {
    Argon2id.Encoded encoded = Argon2id.parse(phc);
    assertArrayEquals(encoded.hash(), SHARED.hash(Argon2id.utf8(password), encoded.salt(), encoded.parameters()), phc);
  }

  @Property(tries = 150)
  void sameHashAndPhcStringAsPassword4j(@ForAll @Size(max = 40) String password,
                                        @ForAll @Size(min = 8, max = 32) byte[] salt,
                                        @ForAll("types") Argon2id.Type type, @ForAll("versions") int version,
                                        @ForAll @IntRange(min = 8, max = 300) int memoryKib,
                                        @ForAll @IntRange(min = 1, max = 3) int iterations,
                                        @ForAll @IntRange(min = 1, max = 4) int parallelism,
                                        @ForAll @IntRange(min = 4, max = 100) int hashLength) {
    Argon2id.Parameters parameters = params(type, version, memoryKib, iterations, parallelism, hashLength);
    String ours = Argon2id.encode(parameters, salt, SHARED.hash(Argon2id.utf8(password), salt, parameters));
    String theirs = Argon2Function.getInstance(memoryKib, iterations, parallelism, hashLength,
      Argon2.valueOf(type.name()), version).hash(Argon2id.utf8(password), salt).getResult();
    assertEquals(theirs, ours);
    Argon2id.Encoded parsed = Argon2id.parse(theirs);
    assertEquals(parameters, parsed.parameters());
    assertArrayEquals(salt, parsed.salt());
  }

  @Provide
  Arbitrary<Argon2id.Type> types() {
    return Arbitraries.of(Argon2id.Type.values());
  }

  @Provide
  Arbitrary<Integer> versions() {
    return Arbitraries.of(Argon2id.VERSION_10, Argon2id.VERSION_13);
  }

  @Test
  void theDefaultParametersMatchPassword4jWhenTheMemoryIsReused() {
    Argon2id.Parameters defaults = params(Argon2id.Type.ID, 0x13, 19456, 2, 1, 32);
    Argon2id argon2 = new Argon2id(defaults, 1);
    Argon2Function password4j = Argon2Function.getInstance(19456, 2, 1, 32, Argon2.ID, 0x13);
    for (int i = 0; i < 3; i++) {
      byte[] salt = filled(16, i);
      byte[] password = Argon2id.utf8("correct horse battery " + i);
      assertEquals(password4j.hash(password, salt).getResult(),
        Argon2id.encode(defaults, salt, argon2.hash(password, salt, defaults)));
    }
  }

  @Test
  void aHashReusesTheKeptMemoryUntilHashingPauses() {
    Argon2id.Parameters parameters = params(Argon2id.Type.ID, 0x13, 4096, 1, 1, 32);
    Argon2id argon2 = new Argon2id(parameters, 1);
    byte[] salt = filled(16, 7);
    byte[] first = argon2.hash(Argon2id.utf8("pw"), salt, parameters);
    com.sun.management.ThreadMXBean threads =
      (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    long before = threads.getCurrentThreadAllocatedBytes();
    byte[] second = argon2.hash(Argon2id.utf8("pw"), salt, parameters);
    long allocated = threads.getCurrentThreadAllocatedBytes() - before;
    assertArrayEquals(first, second, "the reused memory does not leak into the next hash");
    assertTrue(allocated < 256 * 1024, "a hash with 4 MiB of blocks allocated " + allocated + " bytes");

    assertEquals(0, argon2.releaseIfIdle(java.util.concurrent.TimeUnit.HOURS.toNanos(1)), "kept while hashing goes on");
    assertEquals(4096L * 1024, argon2.releaseIfIdle(0), "released once hashing pauses");
    assertEquals(0, argon2.releaseIfIdle(0), "nothing left to release");
  }

  @Test
  void malformedPhcStringsAreRefused() {
    for (String bad : new String[] {"", "$argon2id", "$argon2x$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
      "$argon2id$v=19$m=8,t=1$c2FsdHNhbHQ$aGFzaGhhc2g", "$argon2id$v=19$m=8,t=1,p=0$c2FsdHNhbHQ$aGFzaGhhc2g",
      "$argon2id$v=18$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g", "$argon2id$v=19$m=8,t=1,p=1$c2Fsd*NhbHQ$aGFzaGhhc2g",
      "$argon2id$v=19$x=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g"}) {
      assertThrows(IllegalArgumentException.class, () -> Argon2id.parse(bad), bad);
    }
  }

  private static byte[] filled(int length, int value) {
    byte[] bytes = new byte[length];
    Arrays.fill(bytes, (byte) value);
    return bytes;
  }
}
