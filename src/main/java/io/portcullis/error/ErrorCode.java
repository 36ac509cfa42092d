package io.portcullis.error;

/** Stable wire error codes (GoTrue's, so supabase-js recognizes them), each with the HTTP status it answers with. */
public enum ErrorCode {
  INVALID_CREDENTIALS(400, "invalid_credentials"),
  EMAIL_NOT_CONFIRMED(400, "email_not_confirmed"),
  USER_BANNED(400, "user_banned"),
  VALIDATION_FAILED(400, "validation_failed"),
  BAD_JSON(400, "bad_json"),
  NOT_FOUND(404, "not_found"),
  METHOD_NOT_ALLOWED(405, "method_not_allowed"),
  REQUEST_TOO_LARGE(413, "request_too_large"),
  USER_ALREADY_EXISTS(422, "user_already_exists"),
  EMAIL_EXISTS(422, "email_exists"),
  WEAK_PASSWORD(422, "weak_password"),
  SAME_PASSWORD(422, "same_password"),
  SIGNUP_DISABLED(422, "signup_disabled"),
  NO_AUTHORIZATION(401, "no_authorization"),
  BAD_JWT(403, "bad_jwt"),
  USER_NOT_FOUND(403, "user_not_found"),
  SESSION_NOT_FOUND(403, "session_not_found"),
  REFRESH_TOKEN_NOT_FOUND(400, "refresh_token_not_found"),
  REFRESH_TOKEN_ALREADY_USED(400, "refresh_token_already_used"),
  SESSION_EXPIRED(400, "session_expired"),
  UNSUPPORTED_GRANT_TYPE(400, "unsupported_grant_type"),
  NOT_ADMIN(403, "not_admin"),
  ORIGIN_NOT_ALLOWED(403, "origin_not_allowed"),
  OTP_EXPIRED(403, "otp_expired"),
  OVER_REQUEST_RATE_LIMIT(429, "over_request_rate_limit"),
  OVER_EMAIL_SEND_RATE_LIMIT(429, "over_email_send_rate_limit"),
  // Account security: MFA, anonymous users, re-authentication (GoTrue's codes and statuses)
  MFA_FACTOR_NOT_FOUND(404, "mfa_factor_not_found"),
  MFA_CHALLENGE_EXPIRED(422, "mfa_challenge_expired"),
  MFA_VERIFICATION_FAILED(422, "mfa_verification_failed"),
  MFA_IP_ADDRESS_MISMATCH(422, "mfa_ip_address_mismatch"),
  MFA_FACTOR_NAME_CONFLICT(422, "mfa_factor_name_conflict"),
  TOO_MANY_ENROLLED_MFA_FACTORS(422, "too_many_enrolled_mfa_factors"),
  MFA_PHONE_ENROLL_NOT_ENABLED(422, "mfa_phone_enroll_not_enabled"),
  MFA_WEBAUTHN_ENROLL_NOT_ENABLED(422, "mfa_webauthn_enroll_not_enabled"),
  INSUFFICIENT_AAL(403, "insufficient_aal"),
  ANONYMOUS_PROVIDER_DISABLED(422, "anonymous_provider_disabled"),
  REAUTHENTICATION_NEEDED(400, "reauthentication_needed"),
  REAUTHENTICATION_NOT_VALID(422, "reauthentication_not_valid"),
  // Browser and federated sign-in
  FLOW_STATE_NOT_FOUND(404, "flow_state_not_found"),
  FLOW_STATE_EXPIRED(422, "flow_state_expired"),
  FLOW_STATE_ALREADY_USED(400, "flow_state_already_used"),
  BAD_CODE_VERIFIER(400, "bad_code_verifier"),
  BAD_OAUTH_STATE(400, "bad_oauth_state"),
  BAD_OAUTH_CALLBACK(400, "bad_oauth_callback"),
  BAD_ID_TOKEN(400, "bad_id_token"),
  IDENTITY_ALREADY_EXISTS(422, "identity_already_exists"),
  IDENTITY_NOT_FOUND(422, "identity_not_found"),
  SINGLE_IDENTITY_NOT_DELETABLE(422, "single_identity_not_deletable"),
  MANUAL_LINKING_DISABLED(404, "manual_linking_disabled"),
  CSRF_FAILED(403, "csrf_failed"),
  SERVICE_UNAVAILABLE(503, "service_unavailable"),
  HOOK_REJECTED(403, "hook_rejected"),
  HOOK_FAILED(500, "hook_failed"),
  UNEXPECTED_FAILURE(500, "unexpected_failure");

  private final int status;
  private final String code;

  ErrorCode(int status, String code) {
    this.status = status;
    this.code = code;
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  public static ErrorCode fromCode(String code) {
    for (ErrorCode c : values()) {
      if (c.code.equals(code)) {
        return c;
      }
    }
    return UNEXPECTED_FAILURE;
  }
}
