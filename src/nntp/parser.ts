/**
 * Incremental NNTP response parser (RFC 3977 §3.1.1, §3.2), fed arbitrary chunks.
 *
 * Wire examples:
 *   S: 211 1234 3000234 3002322 misc.test\r\n            (status line only)
 *   S: 220 3000234 <45223423@example.com>\r\n            (status line, then data)
 *   S: Path: pathost!demo!whitehouse!not-for-mail\r\n
 *   S: ..a stuffed line that starts with one dot\r\n
 *   S: .\r\n                                              (terminator)
 *
 * The parser knows nothing about commands: after each status line it asks its
 * sink whether a multi-line data block follows (`status()` returns true). Data
 * is un-dot-stuffed byte-exactly (a line starting with "." loses that one ".";
 * CRLF and every other byte, 8-bit included, is passed through untouched) and
 * handed to `data()` in slices of the input (no copies except for the 1–2
 * byte carry when a chunk ends right after a line start); the terminator
 * ".\r\n" at the start of a line calls `end()` and is not passed on.
 * A line is ended only by LF; a CR not followed by LF is ordinary data.
 *
 * Errors: a status line longer than `maxLineBytes` makes `feed` throw an
 * `NntpError('PROTOCOL')`; the caller must then drop the connection. Sink
 * callbacks may throw; the exception propagates out of `feed` the same way.
 *
 * `halt()` (called from a sink callback) stops parsing after the current
 * event; `feed` then returns the bytes not yet consumed (needed when the
 * transport changes after STARTTLS or COMPRESS, RFC 4642 / RFC 8054).
 */
import { NntpError } from './errors.js';

export interface ResponseSink {
  /** A complete status line without its CRLF. Return true iff a data block follows. */
  status(line: Buffer): boolean;
  /** Un-stuffed bytes of the current data block (CRLFs included). */
  data(chunk: Buffer): void;
  /** The data block's terminator was read. */
  end(): void;
}

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const LF_DOT = Buffer.from('\n.');

export class ResponseParser {
  private inData = false;
  /** In a data block, true when the next byte starts a line. */
  private atLineStart = true;
  /** Partial status line, or the 1–2 bytes after a line start still undecided (".", ".\r"). */
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private halted = false;

  constructor(
    private readonly sink: ResponseSink,
    private readonly maxLineBytes: number,
  ) {}

  /** Stop after the current event; `feed` returns what is left. */
  halt(): void {
    this.halted = true;
  }

  /**
   * Consume `chunk`. Returns undefined normally, or the unconsumed remainder
   * (possibly empty) if `halt()` was called during this call.
   */
  feed(chunk: Buffer): Buffer | undefined {
    this.halted = false;
    let buf = chunk;
    if (this.carryBytes > 0) {
      buf = Buffer.concat([...this.carry, chunk]);
      this.carry = [];
      this.carryBytes = 0;
    }
    let pos = 0;
    while (pos < buf.length) {
      pos = this.inData ? this.parseData(buf, pos) : this.parseStatus(buf, pos);
      if (this.halted) return buf.subarray(pos);
    }
    return undefined;
  }

  private keep(buf: Buffer): void {
    if (buf.length === 0) return;
    this.carry.push(Buffer.from(buf)); // copy: the caller may reuse its chunk
    this.carryBytes += buf.length;
  }

  private parseStatus(buf: Buffer, pos: number): number {
    const lf = buf.indexOf(LF, pos);
    if (lf < 0) {
      if (buf.length - pos > this.maxLineBytes) throw this.tooLong();
      this.keep(buf.subarray(pos));
      return buf.length;
    }
    if (lf - pos > this.maxLineBytes) throw this.tooLong();
    const end = lf > pos && buf[lf - 1] === CR ? lf - 1 : lf;
    const line = buf.subarray(pos, end);
    if (this.sink.status(line)) {
      this.inData = true;
      this.atLineStart = true;
    }
    return lf + 1;
  }

  private parseData(buf: Buffer, pos: number): number {
    if (this.atLineStart) {
      if (buf[pos] === DOT) {
        // Need up to 3 bytes to tell ".\r\n" (end) from a stuffed line.
        const avail = buf.length - pos;
        if (avail >= 2 && buf[pos + 1] === CR) {
          if (avail < 3) {
            this.keep(buf.subarray(pos));
            return buf.length;
          }
          if (buf[pos + 2] === LF) {
            this.inData = false;
            this.sink.end();
            return pos + 3;
          }
        } else if (avail < 2) {
          this.keep(buf.subarray(pos));
          return buf.length;
        }
        pos += 1; // drop the stuffing dot
      }
      this.atLineStart = false;
    }
    // Pass through everything up to and including the next LF that is followed by
    // a dot (or up to the end of the chunk) unchanged.
    const hit = buf.indexOf(LF_DOT, pos);
    if (hit >= 0) {
      this.emit(buf.subarray(pos, hit + 1));
      this.atLineStart = true;
      return hit + 1;
    }
    this.emit(buf.subarray(pos));
    this.atLineStart = buf[buf.length - 1] === LF;
    return buf.length;
  }

  private emit(slice: Buffer): void {
    if (slice.length > 0) this.sink.data(slice);
  }

  private tooLong(): NntpError {
    return new NntpError('PROTOCOL', `status line longer than ${this.maxLineBytes} bytes`);
  }
}
