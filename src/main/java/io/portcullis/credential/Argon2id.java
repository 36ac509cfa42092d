package io.portcullis.credential;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Deque;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * Argon2 (RFC 9106) that reuses its block memory: argon2id for new hashes, argon2i and argon2d (and version 0x10)
 * for imported ones. A hash needs ~19 MiB of blocks with the default parameters; allocated afresh for every hash
 * (as password4j's Argon2Function does) they make a capped heap collect all the time and an uncapped one grow, so
 * an instance keeps up to {@code keep} block arrays (one per hashing worker) and lends each to one hash at a time:
 * hashes then allocate ~nothing. A hash that finds every kept array lent out, or needs more than the usual
 * parameters, gets a fresh array for itself. {@link #releaseIfIdle} lets the arrays go once hashing pauses, so that
 * an idle service can hand the heap back.
 *
 * <p>Output and PHC strings are byte for byte password4j's ({@code $argon2id$v=19$m=..,t=..,p=..$salt$hash},
 * unpadded standard base64), so stored hashes keep verifying. The algorithm follows RFC 9106 section 3; its
 * structure (flat indexing, address blocks, reference-area arithmetic) is ported from password4j's
 * Argon2Function (Apache License 2.0, (C) Password4j) with the memory held as one flat {@code long[]} and the
 * per-block temporaries kept per hash. Lanes are filled one after another on the calling thread: the result is
 * the same as in parallel, and the hashing workers are the parallelism.
 */
public final class Argon2id {

  /** Argon2's three variants, in the order of their type number y (RFC 9106 section 3.1). */
  public enum Type { D, I, ID }

  public static final int VERSION_10 = 0x10;
  public static final int VERSION_13 = 0x13;

  /** The parameters a hash is made with, as its PHC string carries them ({@code hashLength} as the hash's size). */
  public record Parameters(Type type, int version, int memoryKib, int iterations, int parallelism, int hashLength) {
    public Parameters {
      if (type == null || (version != VERSION_10 && version != VERSION_13) || iterations < 1 || parallelism < 1
        || parallelism > 0xFFFFFF || memoryKib < 1 || hashLength < 4) {
        throw new IllegalArgumentException("invalid argon2 parameters");
      }
    }

    int blocks() {
      int segment = Math.max(memoryKib, 8 * parallelism) / (4 * parallelism);
      return segment * 4 * parallelism;
    }
  }

  /** A parsed PHC string. */
  public record Encoded(Parameters parameters, byte[] salt, byte[] hash) {
  }

  private static final int SYNC_POINTS = 4;
  private static final int QWORDS = 128;
  private static final int BLOCK_BYTES = 1024;
  private static final Base64.Encoder BASE64 = Base64.getEncoder().withoutPadding();

  private final Deque<long[]> kept = new ConcurrentLinkedDeque<>();
  private final int keptBlocksLimit;
  private final int keep;
  private volatile long lastUsed = System.nanoTime();

  /**
   * An instance that keeps, between hashes, up to {@code keep} block arrays of the size {@code usual} needs (the
   * configured parameters); a hash that needs more (an imported one) allocates its own and leaves it to the GC.
   */
  public Argon2id(Parameters usual, int keep) {
    this.keptBlocksLimit = usual.blocks();
    this.keep = keep;
  }

  /** The raw hash of {@code password} with {@code salt}. */
  public byte[] hash(byte[] password, byte[] salt, Parameters parameters) {
    return hash(password, salt, new byte[0], new byte[0], parameters);
  }

  /** With the secret K and associated data X of RFC 9106 (unused by the service; its test vectors have them). */
  byte[] hash(byte[] password, byte[] salt, byte[] secret, byte[] associated, Parameters parameters) {
    int blocks = parameters.blocks();
    long[] memory = borrow(blocks);
    try {
      return new Fill(parameters, memory, blocks).run(password, salt, secret, associated);
    } finally {
      // Password-derived state does not outlive the hash (as password4j clears its memory too).
      Arrays.fill(memory, 0, blocks * QWORDS, 0L);
      giveBack(memory);
      lastUsed = System.nanoTime();
    }
  }

  /**
   * Drops the kept block memory when no hash has ended for {@code idleNanos} (the next hash allocates anew) and
   * returns how many bytes it dropped.
   */
  public long releaseIfIdle(long idleNanos) {
    long released = 0;
    if (System.nanoTime() - lastUsed >= idleNanos) {
      for (long[] memory = kept.poll(); memory != null; memory = kept.poll()) {
        released += memory.length * 8L;
      }
    }
    return released;
  }

  /** The PHC string of a hash, as password4j writes it. */
  public static String encode(Parameters parameters, byte[] salt, byte[] hash) {
    return "$argon2" + parameters.type().name().toLowerCase() + "$v=" + parameters.version() + "$m="
      + parameters.memoryKib() + ",t=" + parameters.iterations() + ",p=" + parameters.parallelism() + "$"
      + BASE64.encodeToString(salt) + "$" + BASE64.encodeToString(hash);
  }

  /**
   * Parses {@code $argon2<type>[$v=<version>]$m=<kib>,t=<iterations>,p=<lanes>$<salt>$<hash>}; a missing version is
   * 0x10, as the PHC format has it. Throws IllegalArgumentException on anything else.
   */
  public static Encoded parse(String phc) {
    String[] parts = phc.split("\\$", -1);
    int at = parts.length == 6 ? 3 : 2;
    if ((parts.length != 6 && parts.length != 5) || !parts[0].isEmpty() || !parts[1].startsWith("argon2")) {
      throw new IllegalArgumentException("not an argon2 PHC string");
    }
    Type type = Type.valueOf(parts[1].substring("argon2".length()).toUpperCase());
    int version = parts.length == 6 ? number(parts[2], "v=") : VERSION_10;
    String[] costs = parts[at].split(",", -1);
    if (costs.length != 3) {
      throw new IllegalArgumentException("argon2 PHC string without m, t and p");
    }
    byte[] salt = Base64.getDecoder().decode(parts[at + 1]);
    byte[] hash = Base64.getDecoder().decode(parts[at + 2]);
    return new Encoded(new Parameters(type, version, number(costs[0], "m="), number(costs[1], "t="),
      number(costs[2], "p="), hash.length), salt, hash);
  }

  private static int number(String field, String prefix) {
    if (!field.startsWith(prefix)) {
      throw new IllegalArgumentException("argon2 PHC field " + prefix + " missing");
    }
    return Integer.parseInt(field.substring(prefix.length()));
  }

  /** Password bytes as password4j takes them from a CharSequence. */
  public static byte[] utf8(CharSequence password) {
    return password.toString().getBytes(StandardCharsets.UTF_8);
  }

  private long[] borrow(int blocks) {
    long[] memory = kept.poll();
    // One too small (kept for smaller parameters) is left to the GC: the larger one replaces it when given back.
    return memory != null && memory.length >= blocks * QWORDS ? memory : new long[blocks * QWORDS];
  }

  private void giveBack(long[] memory) {
    if (memory.length <= keptBlocksLimit * QWORDS && kept.size() < keep) {
      kept.push(memory);
    }
  }

  /** One hash's fill of the block memory. */
  private static final class Fill {
    private final Parameters p;
    private final long[] memory;
    private final int lanes;
    private final int laneLength;
    private final int segmentLength;
    private final int blocks;
    private final long[] r = new long[QWORDS];
    private final long[] z = new long[QWORDS];
    private final long[] zero = new long[QWORDS];
    private final long[] input = new long[QWORDS];
    private final long[] address = new long[QWORDS];

    Fill(Parameters p, long[] memory, int blocks) {
      this.p = p;
      this.memory = memory;
      this.lanes = p.parallelism();
      this.blocks = blocks;
      this.laneLength = blocks / lanes;
      this.segmentLength = laneLength / SYNC_POINTS;
    }

    byte[] run(byte[] password, byte[] salt, byte[] secret, byte[] associated) {
      initialize(password, salt, secret, associated);
      for (int pass = 0; pass < p.iterations(); pass++) {
        for (int slice = 0; slice < SYNC_POINTS; slice++) {
          for (int lane = 0; lane < lanes; lane++) {
            fillSegment(pass, lane, slice);
          }
        }
      }
      return finish();
    }

    /** H0 and the first two blocks of every lane (RFC 9106 section 3.2, steps 1 to 4). */
    private void initialize(byte[] password, byte[] salt, byte[] secret, byte[] associated) {
      Blake2b h0 = new Blake2b(64).updateInt(lanes).updateInt(p.hashLength()).updateInt(p.memoryKib())
        .updateInt(p.iterations()).updateInt(p.version()).updateInt(p.type().ordinal())
        .updateInt(password.length).update(password).updateInt(salt.length).update(salt)
        .updateInt(secret.length).update(secret).updateInt(associated.length).update(associated);
      byte[] seed = new byte[72];
      h0.digest(seed, 0);
      byte[] block = new byte[BLOCK_BYTES];
      for (int lane = 0; lane < lanes; lane++) {
        for (int column = 0; column < 2; column++) {
          putIntLittleEndian(seed, 64, column);
          putIntLittleEndian(seed, 68, lane);
          longHash(seed, block);
          int offset = (lane * laneLength + column) * QWORDS;
          for (int i = 0; i < QWORDS; i++) {
            memory[offset + i] = Blake2b.littleEndianLong(block, i * 8);
          }
        }
      }
    }

    private void fillSegment(int pass, int lane, int slice) {
      boolean independent = p.type() == Type.I || (p.type() == Type.ID && pass == 0 && slice < SYNC_POINTS / 2);
      int start = pass == 0 && slice == 0 ? 2 : 0;
      int current = lane * laneLength + slice * segmentLength + start;
      int previous = current % laneLength == 0 ? current + laneLength - 1 : current - 1;
      if (independent) {
        Arrays.fill(zero, 0L);
        Arrays.fill(input, 0L);
        input[0] = pass;
        input[1] = lane;
        input[2] = slice;
        input[3] = blocks;
        input[4] = p.iterations();
        input[5] = p.type().ordinal();
        if (pass == 0 && slice == 0) {
          nextAddresses();
        }
      }
      boolean xor = pass != 0 && p.version() != VERSION_10;
      for (int i = start; i < segmentLength; i++, current++, previous++) {
        if (current % laneLength == 1) {
          previous = current - 1;
        }
        long pseudoRandom;
        if (independent) {
          if (i % QWORDS == 0) {
            nextAddresses();
          }
          pseudoRandom = address[i % QWORDS];
        } else {
          pseudoRandom = memory[previous * QWORDS];
        }
        int refLane = pass == 0 && slice == 0 ? lane : (int) ((pseudoRandom >>> 32) % lanes);
        int refColumn = referenceColumn(pass, slice, i, pseudoRandom, refLane == lane);
        compress(memory, previous * QWORDS, memory, (laneLength * refLane + refColumn) * QWORDS,
          memory, current * QWORDS, xor);
      }
    }

    private void nextAddresses() {
      input[6]++;
      compress(zero, 0, input, 0, address, 0, false);
      compress(zero, 0, address, 0, address, 0, false);
    }

    /** The column of the reference block (RFC 9106 section 3.4.1.2). */
    private int referenceColumn(int pass, int slice, int index, long pseudoRandom, boolean sameLane) {
      int areaSize;
      int startPosition;
      if (pass == 0) {
        startPosition = 0;
        areaSize = sameLane ? slice * segmentLength + index - 1 : slice * segmentLength + (index == 0 ? -1 : 0);
      } else {
        startPosition = ((slice + 1) * segmentLength) % laneLength;
        areaSize = sameLane ? laneLength - segmentLength + index - 1
          : laneLength - segmentLength + (index == 0 ? -1 : 0);
      }
      long relative = pseudoRandom & 0xFFFFFFFFL;
      relative = (relative * relative) >>> 32;
      relative = areaSize - 1 - ((areaSize * relative) >>> 32);
      return (int) ((startPosition + relative) % laneLength);
    }

    /** G: out = P(x ^ y) ^ x ^ y, or XORed into out (passes after the first, version 0x13). */
    private void compress(long[] xs, int x, long[] ys, int y, long[] out, int o, boolean xorInto) {
      for (int i = 0; i < QWORDS; i++) {
        r[i] = xs[x + i] ^ ys[y + i];
      }
      System.arraycopy(r, 0, z, 0, QWORDS);
      for (int i = 0; i < 8; i++) {
        int b = 16 * i;
        round(z, b, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, b + 10, b + 11, b + 12, b + 13,
          b + 14, b + 15);
      }
      for (int i = 0; i < 8; i++) {
        int b = 2 * i;
        round(z, b, b + 1, b + 16, b + 17, b + 32, b + 33, b + 48, b + 49, b + 64, b + 65, b + 80, b + 81, b + 96,
          b + 97, b + 112, b + 113);
      }
      if (xorInto) {
        for (int i = 0; i < QWORDS; i++) {
          out[o + i] ^= r[i] ^ z[i];
        }
      } else {
        for (int i = 0; i < QWORDS; i++) {
          out[o + i] = r[i] ^ z[i];
        }
      }
    }

    private static void round(long[] v, int v0, int v1, int v2, int v3, int v4, int v5, int v6, int v7, int v8,
                              int v9, int v10, int v11, int v12, int v13, int v14, int v15) {
      g(v, v0, v4, v8, v12);
      g(v, v1, v5, v9, v13);
      g(v, v2, v6, v10, v14);
      g(v, v3, v7, v11, v15);
      g(v, v0, v5, v10, v15);
      g(v, v1, v6, v11, v12);
      g(v, v2, v7, v8, v13);
      g(v, v3, v4, v9, v14);
    }

    private static void g(long[] v, int a, int b, int c, int d) {
      v[a] = blaMka(v[a], v[b]);
      v[d] = Long.rotateRight(v[d] ^ v[a], 32);
      v[c] = blaMka(v[c], v[d]);
      v[b] = Long.rotateRight(v[b] ^ v[c], 24);
      v[a] = blaMka(v[a], v[b]);
      v[d] = Long.rotateRight(v[d] ^ v[a], 16);
      v[c] = blaMka(v[c], v[d]);
      v[b] = Long.rotateRight(v[b] ^ v[c], 63);
    }

    private static long blaMka(long x, long y) {
      return x + y + 2 * (x & 0xFFFFFFFFL) * (y & 0xFFFFFFFFL);
    }

    /** XOR of every lane's last block, then H' to the hash length (RFC 9106 section 3.2, steps 7 and 8). */
    private byte[] finish() {
      int last = (laneLength - 1) * QWORDS;
      for (int lane = 1; lane < lanes; lane++) {
        int other = (lane * laneLength + laneLength - 1) * QWORDS;
        for (int i = 0; i < QWORDS; i++) {
          memory[last + i] ^= memory[other + i];
        }
      }
      byte[] block = new byte[BLOCK_BYTES];
      for (int i = 0; i < QWORDS; i++) {
        long word = memory[last + i];
        for (int b = 0; b < 8; b++) {
          block[i * 8 + b] = (byte) (word >>> (8 * b));
        }
      }
      byte[] out = new byte[p.hashLength()];
      longHash(block, out);
      return out;
    }
  }

  /** H' (RFC 9106 section 3.3): BLAKE2b extended to any output length. */
  static void longHash(byte[] input, byte[] out) {
    int length = out.length;
    byte[] lengthBytes = new byte[4];
    putIntLittleEndian(lengthBytes, 0, length);
    if (length <= 64) {
      new Blake2b(length).update(lengthBytes).update(input).digest(out, 0);
      return;
    }
    byte[] v = new Blake2b(64).update(lengthBytes).update(input).digest();
    System.arraycopy(v, 0, out, 0, 32);
    int rounds = (length + 31) / 32 - 2;
    int position = 32;
    for (int i = 2; i <= rounds; i++, position += 32) {
      v = new Blake2b(64).update(v).digest();
      System.arraycopy(v, 0, out, position, 32);
    }
    new Blake2b(length - 32 * rounds).update(v).digest(out, position);
  }

  private static void putIntLittleEndian(byte[] bytes, int offset, int value) {
    bytes[offset] = (byte) value;
    bytes[offset + 1] = (byte) (value >>> 8);
    bytes[offset + 2] = (byte) (value >>> 16);
    bytes[offset + 3] = (byte) (value >>> 24);
  }
}
