package io.portcullis;

import io.portcullis.cli.Commands;

/** The command line: {@code serve} (default), {@code migrate}, {@code create-user}, {@code service-key}. */
public final class Portcullis {

  private Portcullis() {
  }

  public static void main(String[] args) throws Exception {
    if (Launcher.shouldRelaunch(args)) {
      System.exit(Launcher.relaunch(args));
    }
    Launcher.watchParent();
    System.exit(Commands.run(args, System.getenv()));
  }
}
