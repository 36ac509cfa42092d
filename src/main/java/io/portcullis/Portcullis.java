package io.portcullis;

import io.portcullis.cli.Commands;
import org.slf4j.LoggerFactory;

import java.util.List;

/** The command line: {@code serve} (default), {@code migrate}, {@code create-user}, {@code service-key}. */
public final class Portcullis {

  private Portcullis() {
  }

  public static void main(String[] args) throws Exception {
    List<String> sizing = JvmSizing.apply(args, System.getenv());
    if (!sizing.isEmpty()) {
      LoggerFactory.getLogger(JvmSizing.class).info("JVM sizing: {}", String.join(", ", sizing));
    }
    System.exit(Commands.run(args, System.getenv()));
  }
}
