package io.portcullis.account;

import io.portcullis.config.Config;
import io.portcullis.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where a mail link may send the browser: the site, an allow-list entry, or a match of one of its patterns. */
class RedirectsTest {

  private static final String SITE = "https://app.example.com";
  private static final Config CONFIG = ConfigLoader.load(Map.of(
    "PORTCULLIS_CONFIG", "target/classes/portcullis/config.json",
    "PORTCULLIS_SITE_URL", SITE,
    "PORTCULLIS_MAILER_REDIRECT_ALLOW_LIST",
    "https://exact.example.org/done,https://*.preview.example.net/**,http://localhost:3000/*"));

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
    SITE,
    SITE + "/welcome?x=1",
    "https://exact.example.org/done",
    "https://pr-42.preview.example.net/",
    "https://pr-42.preview.example.net/deep/path?q=1#f",
    "http://localhost:3000/callback",
  })
  void allowedTargetsAreHonoured(String target) {
    assertEquals(target, Redirects.resolve(CONFIG, target));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
    // One * never crosses a dot or a slash.
    "https://a.b.preview.example.net/",
    "http://localhost:3000/a/b",
    // Only the entry itself, not what starts like it.
    "https://exact.example.org/done/more",
    "https://app.example.com.evil.example/",
    "https://evil.example/?https://app.example.com",
    "javascript:alert(1)",
    "https://exact.example.org/done\r\nSet-Cookie: x",
    "https://exact.example.org/\u0000",
  })
  void anythingElseFallsBackToTheSite(String target) {
    assertEquals(SITE, Redirects.resolve(CONFIG, target));
  }

  @ParameterizedTest
  @NullAndEmptySource
  @ValueSource(strings = {"   "})
  void noTargetIsTheSite(String target) {
    assertEquals(SITE, Redirects.resolve(CONFIG, target));
  }

  @Test
  void patternsQuoteEverythingButTheirStars() {
    assertTrue(Redirects.toPattern("https://a.b/c").matcher("https://a.b/c").matches());
    assertFalse(Redirects.toPattern("https://a.b/c").matcher("https://aXb/c").matches());
    assertTrue(Redirects.toPattern("https://x/(*)").matcher("https://x/(y)").matches());
  }
}
