/**
 * Splits the un-stuffed data of a text response (LIST, OVER, HDR, LISTGROUP,
 * CAPABILITIES) into lines. Lines end with LF; a CR before it is removed, and
 * nothing else is touched (bytes stay bytes).
 *
 * A line is handed over as a range of a buffer, `onLine(buf, start, end)`
 * (`end` exclusive, the line without its CR LF), so no Buffer object is made
 * per line: `buf` is the pushed chunk itself, or, for a line split across
 * chunks, a copy of its pieces joined. `buf` is valid only during the call
 * (the caller may reuse its chunk): take a copy of what outlives it.
 *
 * Throws `NntpError('PROTOCOL')` from `push` when a line exceeds `maxLineBytes`;
 * the connection must then be dropped (we cannot resynchronise on the stream).
 */
import { NntpError } from './errors.js';

const LF = 0x0a;
const CR = 0x0d;

/** Receives one line: bytes [start, end) of `buf`. */
export type LineRange = (buf: Buffer, start: number, end: number) => void;

export class LineSplitter {
  private parts: Buffer[] = [];
  private partBytes = 0;

  constructor(
    private readonly onLine: LineRange,
    private readonly maxLineBytes: number,
  ) {}

  push(chunk: Buffer): void {
    let pos = 0;
    const n = chunk.length;
    while (pos < n) {
      const lf = chunk.indexOf(LF, pos);
      if (lf < 0) {
        this.partBytes += n - pos;
        if (this.partBytes > this.maxLineBytes) throw this.tooLong();
        this.parts.push(Buffer.from(chunk.subarray(pos)));
        return;
      }
      if (this.parts.length > 0) {
        this.parts.push(chunk.subarray(pos, lf));
        const line = Buffer.concat(this.parts);
        this.parts = [];
        this.partBytes = 0;
        this.deliver(line, 0, line.length);
      } else {
        this.deliver(chunk, pos, lf);
      }
      pos = lf + 1;
    }
  }

  /** Data ended: a last line without LF (a protocol slip we tolerate) is delivered (its CR kept, as before any LF). */
  end(): void {
    if (this.parts.length > 0) {
      const line = Buffer.concat(this.parts);
      this.parts = [];
      this.partBytes = 0;
      this.onLine(line, 0, line.length);
    }
  }

  private deliver(buf: Buffer, start: number, end: number): void {
    if (end - start > this.maxLineBytes) throw this.tooLong();
    this.onLine(buf, start, end > start && buf[end - 1] === CR ? end - 1 : end);
  }

  private tooLong(): NntpError {
    return new NntpError('PROTOCOL', `response line longer than ${this.maxLineBytes} bytes`);
  }
}
