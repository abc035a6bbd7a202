/**
 * mboxrd → article bytes, as a Transform stream.
 *
 * Input: the raw bytes of ONE message as stored in an mboxrd file (without its
 * `From ` separator line and without the blank line that ends it in the file).
 * Output: the article, exactly:
 * - a line matching `^>+From ` loses one `>` (mboxrd quoting undone by one
 *   level; `>>From ` becomes `>From `);
 * - a line ending in a bare LF ends in CRLF; a CRLF ending is kept;
 * - a final line without any line end gets CRLF.
 *
 * Chunk-boundary safe: any split of the input gives the same output. At most
 * six bytes are held back (one `>` and a partial `From `), so memory does not
 * depend on the article or line size. `mboxOutputSize` in ./scan.ts computes
 * the same output length without producing it; tests check they agree.
 */
import { Transform, type TransformCallback } from 'node:stream';

const LF = 0x0a;
const CR = 0x0d;
const GT = 0x3e;
const FROM_ = Buffer.from('From ', 'latin1');
const CRLF = Buffer.from('\r\n', 'latin1');
const ONE_GT = Buffer.from('>', 'latin1');

const enum State {
  /** At the first byte of a line. */
  LineStart,
  /** Inside a run of `>` at line start; the first `>` is held back. */
  InGt,
  /** After a `>` run, matching `From ` (held back: `>` + the matched part). */
  MatchFrom,
  /** Decided: copy bytes to the end of the line. */
  MidLine,
}

/** The unquoting state machine, without stream machinery (chunks in, bytes out). */
export class Unquoter {
  private state: State = State.LineStart;
  private matched = 0;
  /** Last byte of the line content seen so far (CR check for a LF that starts a chunk). */
  private prev = -1;
  /** True when bytes of the current line have been consumed. */
  private inLine = false;
  /** Output pieces of the current input chunk. */
  private out: Buffer[] = [];

  /** Output for the next chunk of input (may be empty). */
  write(chunk: Buffer): Buffer {
    this.feed(chunk);
    return this.take();
  }

  /** Output at the end of input (held bytes, final CRLF). */
  end(): Buffer {
    this.releaseHeld();
    if (this.inLine) this.out.push(CRLF);
    this.inLine = false;
    return this.take();
  }

  private take(): Buffer {
    const b = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out);
    this.out = [];
    return b;
  }

  private releaseHeld(): void {
    if (this.state === State.InGt) this.out.push(ONE_GT);
    else if (this.state === State.MatchFrom) this.out.push(Buffer.concat([ONE_GT, FROM_.subarray(0, this.matched)]));
    this.state = State.MidLine;
  }

  private feed(buf: Buffer): void {
    let i = 0;
    const n = buf.length;
    while (i < n) {
      switch (this.state) {
        case State.LineStart: {
          if (buf[i] === GT) {
            this.state = State.InGt;
            this.inLine = true;
            this.prev = GT;
            i++;
          } else {
            this.state = State.MidLine;
          }
          break;
        }
        case State.InGt: {
          // Extra `>` are emitted at once: the run is homogeneous, so emitting the
          // held first `>` later gives the same bytes.
          let j = i;
          while (j < n && buf[j] === GT) j++;
          if (j > i) this.out.push(buf.subarray(i, j));
          i = j;
          if (i < n) {
            this.state = State.MatchFrom;
            this.matched = 0;
          }
          break;
        }
        case State.MatchFrom: {
          if (buf[i] === FROM_[this.matched]) {
            this.matched++;
            this.prev = buf[i]!;
            i++;
            if (this.matched === FROM_.length) {
              this.out.push(FROM_); // one `>` dropped
              this.state = State.MidLine;
            }
          } else {
            this.releaseHeld(); // not a quoted From_: give back what was held
          }
          break;
        }
        case State.MidLine: {
          const nl = buf.indexOf(LF, i);
          if (nl < 0) {
            this.out.push(buf.subarray(i));
            this.prev = buf[n - 1]!;
            this.inLine = true;
            i = n;
            break;
          }
          const before = nl > i ? buf[nl - 1]! : this.inLine ? this.prev : -1;
          if (before === CR) {
            this.out.push(buf.subarray(i, nl + 1));
          } else {
            if (nl > i) this.out.push(buf.subarray(i, nl));
            this.out.push(CRLF);
          }
          i = nl + 1;
          this.state = State.LineStart;
          this.inLine = false;
          this.prev = -1;
          break;
        }
      }
    }
  }
}

/** Unquote a whole message held in memory. */
export function unquoteBuffer(raw: Buffer): Buffer {
  const u = new Unquoter();
  const a = u.write(raw);
  const b = u.end();
  return b.length === 0 ? a : Buffer.concat([a, b]);
}

/** The same transformation as a Transform stream (chunk-boundary safe). */
export class MboxrdUnquote extends Transform {
  private readonly u = new Unquoter();

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      const out = this.u.write(chunk);
      if (out.length > 0) this.push(out);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    const out = this.u.end();
    if (out.length > 0) this.push(out);
    cb();
  }
}
