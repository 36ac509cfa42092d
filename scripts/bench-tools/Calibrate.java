import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Machine calibration for scripts/bench: CPU time of one JWT signature check on this JVM, one thread, after a
 * warm-up. Prints "es256_verify_us=..", "es256_sign_us=..", "rs256_verify_us=..", "rs256_sign_us=..",
 * "hs256_verify_us=..": what checking a token the service has not seen before, and issuing one, cost.
 */
public final class Calibrate {

  private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();

  interface Op {
    void run() throws Exception;
  }

  public static void main(String[] args) throws Exception {
    double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 2;
    byte[] input = new byte[600];
    KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
    ec.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair ecKeys = ec.generateKeyPair();
    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(2048);
    KeyPair rsaKeys = rsa.generateKeyPair();
    byte[] ecSig = sign("SHA256withECDSA", ecKeys, input);
    byte[] rsaSig = sign("SHA256withRSA", rsaKeys, input);
    SecretKeySpec hmacKey = new SecretKeySpec(new byte[32], "HmacSHA256");
    report("es256_verify_us", seconds, () -> verify("SHA256withECDSA", ecKeys, input, ecSig));
    report("es256_sign_us", seconds, () -> sign("SHA256withECDSA", ecKeys, input));
    report("rs256_verify_us", seconds, () -> verify("SHA256withRSA", rsaKeys, input, rsaSig));
    report("rs256_sign_us", seconds, () -> sign("SHA256withRSA", rsaKeys, input));
    report("hs256_verify_us", seconds, () -> {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(hmacKey);
      mac.doFinal(input);
    });
  }

  private static byte[] sign(String alg, KeyPair keys, byte[] input) throws Exception {
    Signature s = Signature.getInstance(alg);
    s.initSign(keys.getPrivate());
    s.update(input);
    return s.sign();
  }

  private static void verify(String alg, KeyPair keys, byte[] input, byte[] sig) throws Exception {
    Signature s = Signature.getInstance(alg);
    s.initVerify(keys.getPublic());
    s.update(input);
    if (!s.verify(sig)) {
      throw new IllegalStateException("signature did not verify");
    }
  }

  /** Warm-up, then CPU time per operation over the best of three rounds of {@code seconds} wall time. */
  private static void report(String name, double seconds, Op op) throws Exception {
    long deadline = System.nanoTime() + (long) (seconds * 1.5e9);
    while (System.nanoTime() < deadline) {
      op.run();
    }
    double best = Double.MAX_VALUE;
    for (int round = 0; round < 3; round++) {
      long cpu0 = CPU.getCurrentThreadCpuTime();
      long end = System.nanoTime() + (long) (seconds * 1e9 / 3);
      int n = 0;
      while (System.nanoTime() < end) {
        op.run();
        n++;
      }
      best = Math.min(best, (CPU.getCurrentThreadCpuTime() - cpu0) / 1e3 / n);
    }
    System.out.printf("%s=%.1f%n", name, best);
  }
}
