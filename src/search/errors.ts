/**
 * Errors of the search index. The index is a cache: a caller that gets one of
 * these can always answer by scanning instead (DESIGN.md "Search"). SQLite
 * failures are wrapped as `cause`.
 */

export type SearchIndexErrorCode =
  /** The file cannot be opened as a search database (or FTS5 trigram is missing). */
  | 'OPEN_FAILED'
  /** The file was written by a newer schema; delete it to rebuild. */
  | 'NEWER_SCHEMA'
  /** Used after `close()`. */
  | 'CLOSED'
  /** Input rejected before anything was written. */
  | 'INVALID_INPUT'
  /** The writer (worker thread) died or a statement failed; see `cause`. */
  | 'STORAGE';

export class SearchIndexError extends Error {
  readonly code: SearchIndexErrorCode;
  constructor(code: SearchIndexErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SearchIndexError';
    this.code = code;
  }
}
