package io.portcullis.bus;

/**
 * Every event-bus address and message header of Portcullis. The public ones take and give JSON, so
 * they work across a clustered bus and from any language; the internal ones connect Portcullis's own verticles.
 */
public final class Addresses {

  // Public: other verticles of the same Vert.x may call these
  public static final String USERS_SIGNUP = "auth.users.signup";
  public static final String TOKENS_PASSWORD = "auth.tokens.password";
  public static final String TOKENS_REFRESH = "auth.tokens.refresh";
  public static final String TOKENS_VERIFY = "auth.tokens.verify";
  public static final String USERS_GET = "auth.users.get";
  public static final String SESSIONS_END = "auth.sessions.end";
  /** {@code {}} → the JWKS document (public keys only), for resource servers that verify tokens themselves. */
  public static final String JWKS = "auth.keys.jwks";
  /** Published, never sent: one JSON per event. */
  public static final String EVENTS = "auth.events";
  /** Served by an application when hooks.custom_access_token is on: {@code {user_id, claims, authentication_method}} → {@code {claims}}. */
  public static final String HOOK_CUSTOM_ACCESS_TOKEN = "auth.hooks.custom_access_token";
  /** Served by an application when hooks.before_user_created is on: {@code {user}} → {@code {}} or {@code {decision: "reject", message}}. */
  public static final String HOOK_BEFORE_USER_CREATED = "auth.hooks.before_user_created";

  // Internal
  /** {@code {user_id, session_id?}} → the user, after checking the user and (if given) the session are alive. */
  public static final String SESSIONS_CHECK = "auth.internal.sessions.check";
  /** {@code {user_id, amr_method}} → a new session. */
  public static final String SESSIONS_ISSUE = "auth.internal.sessions.issue";
  /** {@code {user_id, session_id, email?, password?, data?}} → the updated user. */
  public static final String USERS_UPDATE = "auth.internal.users.update";
  /** {@code {}} → the public JWKS document. */
  public static final String KEYS_JWKS = "auth.internal.keys.jwks";
  /** {@code {}} → {@code {kid, activate_at}}: adds the next signing key (published now, signing later). */
  public static final String KEYS_ROTATE = "auth.internal.keys.rotate";
  /** Published, local only: {@code {verification: [JWK], published: [JWK]}} after the key set changed. */
  public static final String KEYS_CHANGED = "auth.internal.keys.changed";
  /**
   * Published cluster-wide after a rotation: {@code {kid, activate_at}}. Every process re-reads its keys now, and
   * again when the new key starts signing.
   */
  public static final String KEYS_ROTATED = "auth.internal.cluster.keys.rotated";
  /** {@code {}} → {@code {database: "up"}} or a failure. */
  public static final String READY = "auth.internal.ready";

  /** {@code {}} → wakes the mail sender after a mail was written to the outbox (send, no reply). */
  public static final String MAIL_KICK = "auth.internal.mail.kick";
  /** Account flows by mail: recover, otp, resend, verify, email change. */
  public static final String ACCOUNT_RECOVER = "auth.internal.account.recover";
  public static final String ACCOUNT_OTP = "auth.internal.account.otp";
  public static final String ACCOUNT_RESEND = "auth.internal.account.resend";
  public static final String ACCOUNT_VERIFY = "auth.internal.account.verify";
  /** Admin: {@code {type, email, ...}} → the user with {@code action_link, email_otp, hashed_token, ...}. */
  public static final String ADMIN_GENERATE_LINK = "auth.internal.account.generate_link";
  /** Admin: {@code {email, data?}} → the invited user (mail sent). */
  public static final String ADMIN_INVITE = "auth.internal.account.invite";

  /** {@code {auth_code, code_verifier}} → a session (grant_type=pkce). */
  public static final String FLOW_PKCE = "auth.internal.flow.pkce";

  /** External providers: {@code {provider, redirect_to?, ...}} → {@code {url}} of the provider. */
  public static final String EXTERNAL_AUTHORIZE = "auth.internal.external.authorize";
  /** {@code {state, code?, error?}} → {@code {location}}: where the browser goes next (errors included). */
  public static final String EXTERNAL_CALLBACK = "auth.internal.external.callback";
  /** {@code {provider, id_token, nonce?, access_token?, link_user_id?}} → a session (grant_type=id_token). */
  public static final String EXTERNAL_ID_TOKEN = "auth.internal.external.id_token";
  /** {@code {user_id, identity_id}} → {@code {}}: unlinks an identity, never the user's last. */
  public static final String EXTERNAL_UNLINK = "auth.internal.external.unlink";

  /** RFC 7662: {@code {token}} → {@code {active, ...}}. */
  public static final String TOKENS_INTROSPECT = "auth.internal.tokens.introspect";
  /** RFC 7009: {@code {token}} → {@code {}}; ends the refresh token's session. */
  public static final String TOKENS_REVOKE = "auth.internal.tokens.revoke";
  /** {@code {password}} → {@code {hash}}, on the credential workers. */
  public static final String PASSWORD_HASH = "auth.internal.password.hash";
  /** {@code {user_id?, session_id?, role}} → {@code {actor_id?}} when the token is an admin's, else 403 not_admin. */
  public static final String ADMIN_CHECK = "auth.internal.admin.check";
  /** Admin operations: {@code {op, ...}} with op one of list, create, get, update, delete, audit. */
  public static final String ADMIN = "auth.internal.admin";

  // Account security: session listing (public), the upgrade of a session to aal2, and the internal operations of
  // the account-security verticle ({@code {op, ...}}: MFA factors, recovery codes, anonymous users,
  // re-authentication).
  /** {@code {user_id}} → {@code {sessions:[{id, created_at, refreshed_at, aal, ip, user_agent}]}}, newest first. */
  public static final String SESSIONS_LIST = "auth.sessions.list";
  /** {@code {user_id, session_id, method, factor_id?}} → a new aal2 session token pair for that session. */
  public static final String SESSIONS_UPGRADE = "auth.internal.sessions.upgrade";
  /** {@code {op, ...}}: the account-security operations behind the HTTP routes. */
  public static final String SECURITY = "auth.internal.security";

  // Delivery headers carrying the caller's network identity into events
  public static final String HEADER_IP = "ip";
  public static final String HEADER_USER_AGENT = "user_agent";

  private static final String INTERNAL = "auth.internal.";
  private static final String CLUSTER = "auth.internal.cluster.";

  private Addresses() {
  }

  /** Internal addresses are served in-process only, except the few that must reach every member. */
  public static boolean isInternal(String address) {
    return address.startsWith(INTERNAL) && !address.startsWith(CLUSTER);
  }
}
