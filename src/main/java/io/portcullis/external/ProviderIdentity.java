package io.portcullis.external;

import io.vertx.core.json.JsonObject;

/**
 * Who an external provider says signed in: its stable subject, the email and whether the provider verified it, the
 * claims kept as identity data, and the provider's own tokens (returned to the app as {@code provider_token}).
 */
public record ProviderIdentity(String provider, String subject, String email, boolean emailVerified, JsonObject data,
                               String accessToken, String refreshToken) {
}
