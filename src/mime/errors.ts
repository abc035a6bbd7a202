/**
 * Errors of the MIME layer (`src/mime/`). Each has a stable `code`; the
 * IMAP layer maps them to responses in one place, e.g.
 * - `UNKNOWN_CTE` → `NO [UNKNOWN-CTE]` (RFC 3516 §4.3, BINARY of a part whose
 *   Content-Transfer-Encoding we cannot decode);
 * - `NO_SUCH_PART` → `NO [NONEXISTENT]`-ish / empty section (RFC 9051 §6.4.5 lets
 *   the server answer a missing part with an empty string; the caller decides);
 * - `BAD_SECTION` → `BAD` (HEADER/TEXT asked of a part that is not a message);
 * - `BAD_CACHE` → the cached structure is unreadable: re-parse the article.
 *
 * The parsers themselves never throw on hostile article bytes: broken input gives
 * a best-effort structure, never an exception.
 */
export type MimeErrorCode = 'UNKNOWN_CTE' | 'NO_SUCH_PART' | 'BAD_SECTION' | 'BAD_CACHE';

export class MimeError extends Error {
  readonly code: MimeErrorCode;
  constructor(code: MimeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MimeError';
    this.code = code;
  }
}
