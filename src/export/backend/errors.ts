/**
 * Mapping of lower-layer failures to `BackendError` (STYLE §7): each layer wraps
 * the one below with `{ cause }`, and the IMAP connection turns the code into a
 * response code in one place.
 *
 * - source `NO_SUCH_GROUP` / `NO_SUCH_ARTICLE` ⇒ NONEXISTENT;
 * - everything else from a source (UNAVAILABLE, AUTH_REQUIRED, PROTOCOL,
 *   INVALID_ARCHIVE, NNTP client CLOSED/TIMEOUT leaking through, I/O errors)
 *   ⇒ UNAVAILABLE: the data exists, we cannot reach it now;
 * - a `BackendError` passes through unchanged.
 *
 * Codes are matched on the error's `code` string rather than its class, so an
 * `NntpError` that a source forgot to wrap maps the same way as a `SourceError`.
 */
import { BackendError } from '../interface.js';

const NONEXISTENT_CODES = new Set(['NO_SUCH_GROUP', 'NO_SUCH_ARTICLE']);

function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const c = (err as { code?: unknown }).code;
  return typeof c === 'string' ? c : undefined;
}

/** The BackendError for `err`, thrown while doing `what` (used as message prefix). */
export function toBackendError(err: unknown, what: string): BackendError {
  if (err instanceof BackendError) return err;
  const code = codeOf(err);
  const msg = `${what}: ${err instanceof Error ? err.message : String(err)}`;
  if (code !== undefined && NONEXISTENT_CODES.has(code)) return new BackendError('NONEXISTENT', msg, { cause: err });
  return new BackendError('UNAVAILABLE', msg, { cause: err });
}

/** True when `err` says the article (or group) is gone upstream. */
export function isGone(err: unknown): boolean {
  if (err instanceof BackendError) return err.code === 'NONEXISTENT';
  const code = codeOf(err);
  return code !== undefined && NONEXISTENT_CODES.has(code);
}
