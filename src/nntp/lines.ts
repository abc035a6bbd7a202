/**
 * Splits the un-stuffed data of a text response (LIST, OVER, HDR, LISTGROUP,
 * CAPABILITIES) into lines. Lines end with LF; a CR before it is removed, and
 * nothing else is touched (bytes stay bytes).
 *
 * Throws `NntpError('PROTOCOL')` from `push` when a line exceeds `maxLineBytes`;
 * the connection must then be dropped (we cannot resynchronise on the stream).
 */
import { NntpError } from './errors.js';

const LF = 0x0a;
const CR = 0x0d;

export class LineSplitter {
  private parts: Buffer[] = [];
  private partBytes = 0;

  constructor(
    private readonly onLine: (line: Buffer) => void,
    private readonly maxLineBytes: number,
  ) {}

  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      const lf = chunk.indexOf(LF, pos);
      if (lf < 0) {
        this.partBytes += chunk.length - pos;
        if (this.partBytes > this.maxLineBytes) throw this.tooLong();
        this.parts.push(Buffer.from(chunk.subarray(pos)));
        return;
      }
      let line = chunk.subarray(pos, lf);
      if (this.parts.length > 0) {
        this.parts.push(line);
        line = Buffer.concat(this.parts);
        this.parts = [];
        this.partBytes = 0;
      }
      if (line.length > this.maxLineBytes) throw this.tooLong();
      if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
      this.onLine(line);
      pos = lf + 1;
    }
  }

  /** Data ended: a last line without LF (a protocol slip we tolerate) is delivered. */
  end(): void {
    if (this.parts.length > 0) {
      const line = Buffer.concat(this.parts);
      this.parts = [];
      this.partBytes = 0;
      this.onLine(line);
    }
  }

  private tooLong(): NntpError {
    return new NntpError('PROTOCOL', `response line longer than ${this.maxLineBytes} bytes`);
  }
}
