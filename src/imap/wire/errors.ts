/**
 * Error classes of the wire layer, each with a stable `code` (STYLE §7).
 * The connection turns a `ParseError` into `BAD [CLIENTBUG] <message>`; a
 * `WireWriteError` means the response stream is broken and the connection
 * must be closed; `ConnectionClosed` that it is closed already.
 */

/** A command does not match the grammar (RFC 9051 §9). */
export class ParseError extends Error {
  readonly code = 'PARSE' as const;
  /** Offset in the command (text and literal bytes counted) where parsing failed. */
  readonly offset: number;
  constructor(expected: string, offset: number, options?: { cause?: unknown }) {
    super(`expected ${expected} at offset ${offset}`, options);
    this.name = 'ParseError';
    this.offset = offset;
  }
}

export type WireWriteErrorCode = 'LITERAL_LENGTH' | 'SOURCE_FAILED';

/**
 * Writing a response failed in a way that leaves the protocol stream unusable:
 * a literal whose source yielded a length other than announced
 * (`LITERAL_LENGTH`), or whose source failed part way (`SOURCE_FAILED`). The
 * connection must close the socket.
 */
export class WireWriteError extends Error {
  readonly code: WireWriteErrorCode;
  constructor(code: WireWriteErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WireWriteError';
    this.code = code;
  }
}

/**
 * The client's connection is gone (or going): a write or a read of the next
 * line cannot happen. Not an error of the command: nothing is answered.
 */
export class ConnectionClosed extends Error {
  readonly code = 'CONNECTION_CLOSED' as const;
  constructor(message = 'connection closed') {
    super(message);
    this.name = 'ConnectionClosed';
  }
}

/** A mailbox name is not valid modified UTF-7 (RFC 3501 §5.1.3). */
export class Mutf7Error extends Error {
  readonly code = 'MUTF7' as const;
  constructor(message: string) {
    super(message);
    this.name = 'Mutf7Error';
  }
}
