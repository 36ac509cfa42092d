package io.portcullis.limit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Who the client is: the peer, unless the peer is a trusted proxy that names the client in its header. */
class ClientIpTest {

  private static final String HEADER = "X-Forwarded-For";

  @Test
  void withoutTrustedProxiesTheHeaderIsIgnored() {
    ClientIp ip = new ClientIp(List.of(), HEADER);
    assertEquals("203.0.113.7", ip.resolve("203.0.113.7", Map.of(HEADER, "198.51.100.1")::get));
  }

  @ParameterizedTest(name = "peer {0}, {1}: {2}")
  @CsvSource(delimiter = '|', value = {
    // The right-most address that is not a trusted proxy is the client.
    "10.0.0.5 | 198.51.100.1 | 198.51.100.1",
    "10.0.0.5 | 198.51.100.1, 10.0.0.9 | 198.51.100.1",
    "10.0.0.5 | 6.6.6.6, 198.51.100.1 | 198.51.100.1",
    // Every hop trusted: the left-most is the best guess.
    "10.0.0.5 | 10.0.0.1, 10.0.0.2 | 10.0.0.1",
    // An untrusted peer's header is not believed.
    "203.0.113.7 | 198.51.100.1 | 203.0.113.7",
    // IPv6 ranges too.
    "2001:db8::1 | 198.51.100.1 | 198.51.100.1",
    "2001:db9::1 | 198.51.100.1 | 2001:db9::1",
  })
  void aTrustedProxyNamesTheClient(String peer, String forwarded, String client) {
    ClientIp ip = new ClientIp(List.of("10.0.0.0/8", "2001:db8::/32"), HEADER);
    assertEquals(client, ip.resolve(peer, Map.of(HEADER, forwarded)::get));
  }

  @Test
  void aTrustedProxyWithoutTheHeaderIsTheClient() {
    ClientIp ip = new ClientIp(List.of("10.0.0.0/8"), HEADER);
    assertEquals("10.0.0.5", ip.resolve("10.0.0.5", Map.<String, String>of()::get));
    assertEquals("10.0.0.5", ip.resolve("10.0.0.5", Map.of(HEADER, " ")::get));
  }

  @Test
  void aPrefixThatIsNotAByteBoundaryMatchesByBits() {
    ClientIp ip = new ClientIp(List.of("192.168.4.0/22"), HEADER);
    assertEquals("198.51.100.1", ip.resolve("192.168.7.255", Map.of(HEADER, "198.51.100.1")::get));
    assertEquals("192.168.8.1", ip.resolve("192.168.8.1", Map.of(HEADER, "198.51.100.1")::get));
  }

  @ParameterizedTest
  @ValueSource(strings = {"proxy.example.com", "10.0.0.0/33", "10.0.0.0/x", "::1/129", "not an address"})
  void aTrustedProxyEntryThatIsNoAddressOrRangeStopsStartUp(String entry) {
    assertThrows(IllegalArgumentException.class, () -> new ClientIp(List.of(entry), HEADER));
  }
}
