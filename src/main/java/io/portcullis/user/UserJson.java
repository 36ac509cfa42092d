package io.portcullis.user;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.TreeSet;
import java.util.UUID;

/** GoTrue's user object (as supabase-js reads it) from a {@code users} row. Never carries a hash, token or secret. */
public final class UserJson {

  /** The columns every user query selects, in the order {@link #fromRow} reads them by name. */
  public static final String COLUMNS = "u.id, u.aud, u.role, u.email, u.phone, u.encrypted_password, "
    + "u.email_confirmed_at, u.phone_confirmed_at, u.confirmation_sent_at, u.recovery_sent_at, u.new_email, "
    + "u.last_sign_in_at, u.banned_until, u.app_metadata, u.user_metadata, u.is_anonymous, u.created_at, "
    + "u.updated_at, u.email_change_sent_at, u.deleted_at, "
    + "ARRAY(SELECT r.role FROM user_roles r WHERE r.user_id = u.id ORDER BY r.role) AS roles, "
    + "(SELECT json_agg(json_build_object('id', f.id, 'status', f.status, 'friendly_name', f.friendly_name, "
    + "'factor_type', f.factor_type, 'created_at', f.created_at, 'updated_at', f.updated_at, "
    + "'last_challenged_at', f.last_challenged_at) ORDER BY f.created_at, f.id) "
    + "FROM mfa_factors f WHERE f.user_id = u.id) AS factors, "
    + "(SELECT jsonb_agg(jsonb_build_object('identity_id', i.id, 'id', i.provider_id, 'user_id', i.user_id, "
    + "'identity_data', i.identity_data, 'provider', i.provider, 'email', i.email, 'created_at', i.created_at, "
    + "'updated_at', i.updated_at, 'last_sign_in_at', i.last_sign_in_at) ORDER BY i.created_at) "
    + "FROM identities i WHERE i.user_id = u.id) AS external_identities";
  /** The role column of a user granted nothing. */
  private static final String DEFAULT_ROLE = "authenticated";
  /** The role in user_roles that makes a user an admin. */
  private static final String ADMIN_ROLE = "admin";

  private UserJson() {
  }

  public static String time(OffsetDateTime t) {
    return t == null ? null : t.withOffsetSameInstant(ZoneOffset.UTC).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
  }

  public static JsonObject fromRow(Row row) {
    UUID id = row.getUUID("id");
    String email = row.getString("email");
    OffsetDateTime confirmed = row.getOffsetDateTime("email_confirmed_at");
    OffsetDateTime created = row.getOffsetDateTime("created_at");
    OffsetDateTime updated = row.getOffsetDateTime("updated_at");
    OffsetDateTime lastSignIn = row.getOffsetDateTime("last_sign_in_at");
    TreeSet<String> roles = roles(row);
    JsonObject appMetadata = appMetadata(row, roles);
    String role = row.getString("role");
    if (DEFAULT_ROLE.equals(role) && roles.contains(ADMIN_ROLE)) {
      role = ADMIN_ROLE;
    }
    Object storedUser = row.getValue("user_metadata");
    JsonObject userMetadata = storedUser instanceof JsonObject stored ? stored.copy() : new JsonObject();

    JsonObject user = new JsonObject()
      .put("id", id.toString())
      .put("aud", row.getString("aud"))
      .put("role", role)
      .put("email", email == null ? "" : email)
      .put("phone", row.getString("phone") == null ? "" : row.getString("phone"));
    putTime(user, "email_confirmed_at", confirmed);
    putTime(user, "phone_confirmed_at", row.getOffsetDateTime("phone_confirmed_at"));
    putTime(user, "confirmed_at", confirmed);
    putTime(user, "confirmation_sent_at", row.getOffsetDateTime("confirmation_sent_at"));
    putTime(user, "recovery_sent_at", row.getOffsetDateTime("recovery_sent_at"));
    putTime(user, "email_change_sent_at", row.getOffsetDateTime("email_change_sent_at"));
    if (row.getString("new_email") != null) {
      user.put("new_email", row.getString("new_email"));
    }
    putTime(user, "last_sign_in_at", lastSignIn);
    putTime(user, "banned_until", row.getOffsetDateTime("banned_until"));
    user.put("app_metadata", appMetadata)
      .put("user_metadata", userMetadata)
      .put("identities", withExternal(
        appMetadata.getJsonArray("providers", new JsonArray()).contains("email")
          ? identities(id, email, confirmed, created, updated, lastSignIn) : new JsonArray(),
        row.getValue("external_identities")))
      .put("created_at", time(created))
      .put("updated_at", time(updated))
      .put("is_anonymous", row.getBoolean("is_anonymous"));
    putTime(user, "deleted_at", row.getOffsetDateTime("deleted_at"));
    // GoTrue omits factors when there are none; supabase-js's mfa.listFactors and
    // getAuthenticatorAssuranceLevel read them from every user object it is given.
    JsonArray factors = factors(row.getValue("factors"));
    if (!factors.isEmpty()) {
      user.put("factors", factors);
    }
    return user;
  }

  /**
   * Roles live in user_roles and in the role column (both checked on every admin request); tokens carry a copy for
   * resource servers, which must see the same whichever way a role was granted: app_metadata.roles lists every
   * role the user holds, and the role claim is "admin" for an admin either way.
   */
  private static TreeSet<String> roles(Row row) {
    String[] granted = row.getArrayOfStrings("roles");
    TreeSet<String> roles = new TreeSet<>(granted == null ? List.of() : List.of(granted));
    String role = row.getString("role");
    if (!DEFAULT_ROLE.equals(role)) {
      roles.add(role);
    }
    return roles;
  }

  private static JsonObject appMetadata(Row row, TreeSet<String> roles) {
    // An anonymous user has no identity yet, so no provider (as GoTrue answers until the email is confirmed).
    JsonObject appMetadata = row.getBoolean("is_anonymous")
      ? new JsonObject()
      : new JsonObject().put("provider", "email").put("providers", new JsonArray().add("email"));
    if (row.getValue("app_metadata") instanceof JsonObject stored) {
      appMetadata.mergeIn(stored);
    }
    if (!roles.isEmpty()) {
      appMetadata.put("roles", new JsonArray(List.copyOf(roles)));
    }
    return appMetadata;
  }

  /** The factor objects of the {@code factors} column, timestamps in the form of every other timestamp here. */
  private static JsonArray factors(Object column) {
    JsonArray out = new JsonArray();
    if (!(column instanceof JsonArray stored)) {
      return out;
    }
    for (Object entry : stored) {
      JsonObject factor = ((JsonObject) entry).copy();
      for (String field : new String[] {"created_at", "updated_at", "last_challenged_at"}) {
        Object value = factor.getValue(field);
        if (value instanceof String text) {
          factor.put(field, time(OffsetDateTime.parse(text)));
        } else {
          factor.remove(field);
        }
      }
      if (factor.getValue("friendly_name") == null) {
        factor.remove("friendly_name");
      }
      out.add(factor);
    }
    return out;
  }

  /**
   * What a fresh sign-up awaiting confirmation answers, for an address that already has an account: random ids,
   * the given metadata, the same fields, so the answer does not tell the two apart.
   */
  public static JsonObject unconfirmedLookalike(String email, JsonObject metadata, OffsetDateTime at) {
    UUID id = UUID.randomUUID();
    OffsetDateTime now = at.truncatedTo(java.time.temporal.ChronoUnit.MICROS); // as PostgreSQL would store it
    JsonObject user = new JsonObject()
      .put("id", id.toString())
      .put("aud", "authenticated")
      .put("role", "authenticated")
      .put("email", email)
      .put("phone", "")
      .put("confirmation_sent_at", time(now))
      .put("app_metadata", new JsonObject().put("provider", "email").put("providers", new JsonArray().add("email")))
      .put("user_metadata", metadata.copy())
      .put("identities", identities(id, email, null, now, now, null))
      .put("created_at", time(now))
      .put("updated_at", time(now))
      .put("is_anonymous", false);
    return user;
  }

  /** One email identity per user, as GoTrue reports it; its id is derived so it is stable across reads. */
  public static UUID emailIdentityId(UUID userId) {
    return UUID.nameUUIDFromBytes(("email:" + userId).getBytes(StandardCharsets.UTF_8));
  }

  private static JsonArray identities(UUID id, String email, OffsetDateTime confirmed, OffsetDateTime created,
                                      OffsetDateTime updated, OffsetDateTime lastSignIn) {
    if (email == null) {
      return new JsonArray();
    }
    String identityId = emailIdentityId(id).toString();
    JsonObject identity = new JsonObject()
      .put("identity_id", identityId)
      .put("id", id.toString())
      .put("user_id", id.toString())
      .put("identity_data", new JsonObject()
        .put("sub", id.toString())
        .put("email", email)
        .put("email_verified", confirmed != null)
        .put("phone_verified", false))
      .put("provider", "email")
      .put("created_at", time(created))
      .put("updated_at", time(updated))
      .put("email", email);
    putTime(identity, "last_sign_in_at", lastSignIn);
    return new JsonArray().add(identity);
  }

  /** The email identity (when the user has one) followed by the identities at external providers. */
  private static JsonArray withExternal(JsonArray identities, Object external) {
    if (external instanceof JsonArray list) {
      list.forEach(identity -> {
        JsonObject json = (JsonObject) identity;
        for (String field : new String[] {"created_at", "updated_at", "last_sign_in_at"}) {
          if (json.getValue(field) instanceof String at) {
            json.put(field, time(OffsetDateTime.parse(at)));
          } else {
            json.remove(field);
          }
        }
        identities.add(json);
      });
    }
    return identities;
  }

  private static void putTime(JsonObject json, String key, OffsetDateTime value) {
    if (value != null) {
      json.put(key, time(value));
    }
  }
}
