package io.portcullis.mfa;

import io.nayuki.qrcodegen.QrCode;

/**
 * An {@code otpauth://} URI as the SVG text of a QR code, the form GoTrue's enrolment answers in {@code qr_code}
 * (supabase-js turns it into a {@code data:image/svg+xml} URL itself).
 */
public final class QrSvg {

  private static final int BORDER = 4;

  private QrSvg() {
  }

  public static String of(String text) {
    QrCode qr = QrCode.encodeText(text, QrCode.Ecc.MEDIUM);
    int size = qr.size + BORDER * 2;
    StringBuilder path = new StringBuilder();
    for (int y = 0; y < qr.size; y++) {
      for (int x = 0; x < qr.size; x++) {
        if (qr.getModule(x, y)) {
          if (path.length() > 0) {
            path.append(' ');
          }
          path.append('M').append(x + BORDER).append(',').append(y + BORDER).append("h1v1h-1z");
        }
      }
    }
    return "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" viewBox=\"0 0 " + size + " " + size
      + "\" stroke=\"none\"><rect width=\"100%\" height=\"100%\" fill=\"#FFFFFF\"/><path d=\"" + path
      + "\" fill=\"#000000\"/></svg>";
  }
}
