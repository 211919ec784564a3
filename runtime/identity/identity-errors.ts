/** Failures of sign-in, sessions, binding and the token broker; the HTTP adapters map them. */

/** No valid session cookie. → 401 */
export class NotSignedInError extends Error {
  override name = 'NotSignedInError';
}

/** A state-changing request without the session's CSRF token, or from another origin. → 403 */
export class CsrfError extends Error {
  override name = 'CsrfError';
}

/** Unknown, reused, expired or foreign OAuth state, or a failed code exchange. → 400 */
export class AuthFlowError extends Error {
  override name = 'AuthFlowError';
}

/** The signed-in user's own token does not show this installation. → 403 */
export class InstallationNotVisibleError extends Error {
  override name = 'InstallationNotVisibleError';
}

/** The signed-in user has no tenant yet. → 409 */
export class NoTenantError extends Error {
  override name = 'NoTenantError';
}

/** A token request outside what the broker may grant. → 403 */
export class TokenRequestRefusedError extends Error {
  override name = 'TokenRequestRefusedError';
}

/** The broker's caller did not prove it is a tenant runtime. → 401 */
export class CallerNotAuthenticatedError extends Error {
  override name = 'CallerNotAuthenticatedError';
}

/** A body that is not what the endpoint takes. → 400 */
export class BadRequestError extends Error {
  override name = 'BadRequestError';
}

/** Signup asked for a tenant id that is already registered and not this account's. → 409 */
export class TenantIdTakenError extends Error {
  override name = 'TenantIdTakenError';
}

/** One client asked too often (sign-in states per window). → 429 with Retry-After */
export class RateLimitedError extends Error {
  override name = 'RateLimitedError';
  constructor(
    message: string,
    /** Seconds until the client's window has room again. */
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}
