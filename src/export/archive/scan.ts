/**
 * A streaming scanner for mboxrd files: finds each message's byte range and
 * computes, without producing them, the article's exact size after
 * `MboxrdUnquote` (./unquote.ts), its header size, its body line count and its
 * overview header fields.
 *
 * mboxrd (as in qmail's mbox(5) and RFC 4155): every line starting with
 * `From ` is a separator; a body line starting with `>*From ` was written with
 * one more `>`. A writer ends each message with one empty line, which is not
 * part of the message and is dropped here.
 *
 * Feed chunks split anywhere with `push`; call `end` at the end of the data.
 * Throws `MboxFormatError` when the data does not start with a `From ` line
 * (blank lines before it are tolerated). Memory: one entry per message plus at
 * most `MAX_HEADER_PARSE` bytes of the header being read.
 */
import { parseHeaderFields, type HeaderFields } from './header.js';

/** Header bytes kept for overview parsing; fields past this point are not seen. A 64 KiB header is already pathological. */
export const MAX_HEADER_PARSE = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const GT = 0x3e;
const FROM_ = Buffer.from('From ', 'latin1');

export class MboxFormatError extends Error {
  readonly code = 'MBOX_FORMAT' as const;
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = 'MboxFormatError';
    this.offset = offset;
  }
}

/** One message of an mbox file. Offsets are absolute byte offsets in the file. */
export interface MboxEntry extends HeaderFields {
  /** Offset of the `From ` separator line. */
  fromOffset: number;
  /** Raw message bytes are [start, end). */
  start: number;
  end: number;
  /** Raw offset just past the empty line that ends the header, or -1 when there is none. */
  headerEnd: number;
  /** Article size in octets after unquoting and CRLF conversion. */
  size: number;
  /** Size of the header block as `head()` returns it (with its empty line). */
  headSize: number;
  /** Body lines. */
  lines: number;
  /** `<…>` from the header, or ''; the index (./index-file.ts) replaces it with the message's key (./keys.ts). */
  messageId: string;
}

type Kind = 'sep' | 'quoted' | 'plain';

const enum Cls {
  Start,
  Gt,
  Match,
  Done,
}

interface Building {
  fromOffset: number;
  start: number;
  size: number;
  lines: number;
  headerEnd: number;
  headSize: number;
  inHeader: boolean;
  header: Buffer[];
  headerBytes: number;
  /** The previous line, in case it is the blank line that ends the message. */
  lastStart: number;
  lastContrib: number;
  lastBlank: boolean;
  lastBody: boolean;
}

export class MboxScanner {
  private offset: number;
  private readonly onEntry: (e: MboxEntry) => void;
  private cur: Building | undefined;
  // Current line state.
  private lineStart: number;
  private lineLen = 0;
  private cls: Cls = Cls.Start;
  private gt = 0;
  private matched = 0;
  private kind: Kind = 'plain';
  private prev = -1;
  private lineParts: Buffer[] = [];
  /** Bytes of the current line kept in `lineParts`. */
  private lineKept = 0;

  /** `baseOffset`: file offset of the first byte that will be pushed. */
  constructor(baseOffset: number, onEntry: (e: MboxEntry) => void) {
    this.offset = baseOffset;
    this.lineStart = baseOffset;
    this.onEntry = onEntry;
  }

  push(buf: Buffer): void {
    let i = 0;
    const n = buf.length;
    while (i < n) {
      if (this.cls !== Cls.Done) {
        i = this.classify(buf, i);
        continue;
      }
      const nl = buf.indexOf(LF, i);
      const stop = nl < 0 ? n : nl + 1;
      if (this.wantLine()) this.keep(buf.subarray(i, stop));
      this.lineLen += stop - i;
      if (nl < 0) {
        this.prev = buf[n - 1]!;
        i = n;
      } else {
        const before = nl > i ? buf[nl - 1]! : this.prev;
        this.endLine(true, before === CR);
        i = nl + 1;
      }
    }
    this.offset += n;
  }

  /** End of data: the last line (even without a line end) and the last message are emitted. */
  end(): void {
    if (this.lineLen > 0) this.endLine(false, false); // an undecided line is plain
    this.finish(this.offset);
  }

  /** Decide the line's kind from its first bytes; returns the new index. */
  private classify(buf: Buffer, i: number): number {
    const b = buf[i]!;
    if (this.cls === Cls.Start) {
      this.gt = 0;
      this.matched = 0;
      this.cls = Cls.Gt;
    }
    if (this.cls === Cls.Gt) {
      if (b === GT) {
        this.gt++;
        return this.take(buf, i);
      }
      this.cls = Cls.Match;
    }
    // Cls.Match
    if (b === FROM_[this.matched]) {
      this.matched++;
      const j = this.take(buf, i);
      if (this.matched === FROM_.length) {
        this.kind = this.gt === 0 ? 'sep' : 'quoted';
        this.cls = Cls.Done;
      }
      return j;
    }
    this.kind = 'plain';
    this.cls = Cls.Done;
    return i; // the byte is handled by the line copier
  }

  /** Consume one classified byte of the current line. */
  private take(buf: Buffer, i: number): number {
    if (this.wantLine()) this.keep(buf.subarray(i, i + 1));
    this.lineLen++;
    this.prev = buf[i]!;
    return i + 1;
  }

  private wantLine(): boolean {
    return this.cur !== undefined && this.cur.inHeader && this.cur.headerBytes + this.lineKept < MAX_HEADER_PARSE;
  }

  private keep(b: Buffer): void {
    this.lineParts.push(b);
    this.lineKept += b.length;
  }

  private endLine(terminated: boolean, crlf: boolean): void {
    const ls = this.lineStart;
    const len = this.lineLen;
    const le = ls + len;
    const kind: Kind = this.cls === Cls.Done ? this.kind : 'plain';
    const blank = terminated && (len === 1 || (len === 2 && crlf));
    const parts = this.lineParts;
    this.lineParts = [];
    this.lineKept = 0;
    this.lineStart = le;
    this.lineLen = 0;
    this.cls = Cls.Start;
    this.prev = -1;

    if (kind === 'sep') {
      this.finish(ls);
      this.cur = {
        fromOffset: ls, start: le, size: 0, lines: 0, headerEnd: -1, headSize: 0, inHeader: true,
        header: [], headerBytes: 0, lastStart: le, lastContrib: 0, lastBlank: false, lastBody: false,
      };
      return;
    }
    const c = this.cur;
    if (c === undefined) {
      if (blank) return;
      throw new MboxFormatError(`not an mbox file: no "From " line at offset ${ls}`, ls);
    }
    const contrib = len - (kind === 'quoted' ? 1 : 0) + (terminated ? (crlf ? 0 : 1) : 2);
    c.size += contrib;
    c.lastStart = ls;
    c.lastContrib = contrib;
    c.lastBlank = blank;
    if (c.inHeader) {
      c.lastBody = false;
      if (blank) {
        c.inHeader = false;
        c.headerEnd = le;
        c.headSize = c.size;
      } else if (parts.length > 0) {
        const line = Buffer.concat(parts); // a copy: never keep a view of a large chunk
        c.header.push(line);
        c.headerBytes += line.length;
      }
    } else {
      c.lastBody = true;
      c.lines++;
    }
  }

  private finish(end: number): void {
    const c = this.cur;
    if (c === undefined) return;
    this.cur = undefined;
    let e = end;
    if (c.lastBlank) {
      // The blank line a writer adds after each message is not part of it.
      e = c.lastStart;
      c.size -= c.lastContrib;
      if (c.lastBody) c.lines--;
      else c.headerEnd = -1;
    }
    const headerEnd = c.headerEnd;
    const headSize = headerEnd < 0 ? c.size + 2 : c.headSize;
    const f = parseHeaderFields(Buffer.concat(c.header));
    this.onEntry({
      fromOffset: c.fromOffset, start: c.start, end: e, headerEnd, size: c.size, headSize, lines: c.lines,
      subject: f.subject, from: f.from, date: f.date, messageId: f.messageId, references: f.references,
      newsgroups: f.newsgroups,
    });
  }
}
