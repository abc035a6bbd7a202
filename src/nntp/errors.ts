/**
 * Typed errors of the NNTP client. Every failure the client reports is an
 * `NntpError` with a stable `code`; the layer above (src/export/) maps codes to
 * its own `SourceError` with `{ cause }`.
 *
 * Status mapping (RFC 3977 §3.2, RFC 4643 §2.3):
 *   411                → NO_SUCH_GROUP
 *   420, 423, 430      → NO_SUCH_ARTICLE
 *   480                → AUTH_REQUIRED
 *   481, 482           → AUTH_FAILED
 *   400, 502, 503      → UNAVAILABLE
 *   anything else      → UNEXPECTED_STATUS (with `status`)
 * Transport problems: PROTOCOL (garbage or oversized line; the connection is
 * destroyed), TIMEOUT, TLS, CLOSED (connection gone; everything in flight fails).
 */

export type NntpErrorCode =
  | 'NO_SUCH_GROUP'
  | 'NO_SUCH_ARTICLE'
  | 'AUTH_REQUIRED'
  | 'AUTH_FAILED'
  | 'UNAVAILABLE'
  | 'PROTOCOL'
  | 'TIMEOUT'
  | 'TLS'
  | 'CLOSED'
  | 'UNEXPECTED_STATUS';

export class NntpError extends Error {
  readonly code: NntpErrorCode;
  /** The NNTP status code that caused this error, when there was one. */
  readonly status?: number;

  constructor(code: NntpErrorCode, message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NntpError';
    this.code = code;
    if (options?.status !== undefined) this.status = options.status;
  }
}

/** True if `err` is an NntpError with one of the given codes. */
export function isNntpError(err: unknown, ...codes: NntpErrorCode[]): err is NntpError {
  return err instanceof NntpError && (codes.length === 0 || codes.includes(err.code));
}

/**
 * The typed error for a failure status `code` answered to `command`.
 * `command` is only used in the message (never credentials: callers pass a
 * redacted form for AUTHINFO PASS).
 */
export function errorForStatus(code: number, text: string, command: string): NntpError {
  const msg = `${command}: ${code} ${text}`.trim();
  switch (code) {
    case 411:
      return new NntpError('NO_SUCH_GROUP', msg, { status: code });
    case 420:
    case 423:
    case 430:
      return new NntpError('NO_SUCH_ARTICLE', msg, { status: code });
    case 480:
      return new NntpError('AUTH_REQUIRED', msg, { status: code });
    case 481:
    case 482:
      return new NntpError('AUTH_FAILED', msg, { status: code });
    case 400:
    case 502:
    case 503:
      return new NntpError('UNAVAILABLE', msg, { status: code });
    default:
      return new NntpError('UNEXPECTED_STATUS', msg, { status: code });
  }
}
