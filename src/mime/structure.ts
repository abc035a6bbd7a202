/**
 * Incremental MIME structure parser: article bytes in (any chunking), a MimePart
 * tree with absolute byte offsets out (RFC 2045/2046 entities, RFC 9051 §7.5.2
 * BODYSTRUCTURE data, RFC 3516 decoded sizes).
 *
 * Why our own parser: the installed `@zone-eu/mailsplit` streams nodes but does
 * not report byte offsets, and the server must serve BODY[1.2]/BINARY[1.2] as a
 * byte range of a cached article without re-reading the rest; the parser also
 * must not hold the article (40 MB posts are common on binary groups).
 *
 * Lines and boundaries are found here; what each entity becomes is ./entity.ts.
 *
 * Memory: one line probe (LINE_PROBE bytes), the header being read (at most
 * MAX_HEADER_BYTES), a frame per open entity (at most MAX_DEPTH + 1 deep) and the
 * finished tree. Never throws on article bytes; `push` after `end` is a bug and
 * throws a plain Error.
 *
 * Tolerance: CRLF or bare LF line ends; boundary lines matched by prefix (the
 * longest open boundary wins, innermost on ties), so a boundary of an outer
 * multipart closes inner parts left open; a missing final boundary ends the parts
 * at the end of the article; a part without blank line has an empty body; a
 * multipart without parts gets one synthetic empty text/plain part; entities
 * nested deeper than MAX_DEPTH, multiparts without a usable boundary and
 * message/rfc822 parts in base64/QP are opaque application/octet-stream leaves.
 */
import { closeFrame, endFrameHeader, frameContent, frameEol, frameLines, newFrame, type Frame } from './entity.js';
import { LINE_PROBE } from './limits.js';
import type { MimePart } from './part.js';

export type { MimePart, Disposition } from './part.js';

/** See `StructureParser.progress`. */
export interface ParseProgress {
  root: MimePart;
  open: readonly Readonly<Frame>[];
  settled: number;
}

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;
const CR_BUF = Buffer.from('\r');
/** A line end followed by the start of a delimiter line. */
const NL_DASHES = Buffer.from('\n--');

export class StructureParser {
  private readonly stack: Frame[] = [];
  private pos = 0;
  private lineStart = 0;
  private lfCount = 0;
  private lastEol = 0;
  private carry: Buffer[] = [];
  private carryLen = 0;
  private tail: 'content' | 'skip' | null = null;
  private heldCR = false;
  /** Multipart frame whose (non-final) delimiter line is being read: a child starts after it. */
  private childOf: Frame | null = null;
  private done = false;
  private readonly root: MimePart;

  constructor() {
    this.root = this.open(0, 0, false, null).part;
  }

  /** Feeds the next chunk of the article. The chunk is not retained (copied as needed). */
  push(chunk: Buffer): void {
    if (this.done) throw new Error('StructureParser.push after end');
    const base = this.pos;
    let i = 0;
    while (i < chunk.length) {
      if (this.tail === null && this.carryLen === 0 && this.childOf === null) {
        const next = this.skimBody(chunk, i, base);
        if (next > i) {
          i = next;
          continue;
        }
        const after = this.skimHeader(chunk, i, base);
        if (after > i) {
          i = after;
          continue;
        }
      }
      const lf = chunk.indexOf(LF, i);
      if (this.tail !== null) {
        const stop = lf < 0 ? chunk.length : lf;
        const eol = this.tailPiece(chunk.subarray(i, stop), lf >= 0);
        if (lf < 0) break;
        i = lf + 1;
        this.finishLine(base + i, eol);
        continue;
      }
      if (this.carryLen === 0 && lf >= 0 && lf + 1 - i <= LINE_PROBE) {
        this.classify(chunk.subarray(i, lf + 1), true, base + lf + 1);
        i = lf + 1;
        continue;
      }
      const room = LINE_PROBE - this.carryLen;
      const end = Math.min(lf >= 0 ? lf + 1 : chunk.length, i + room);
      this.carry.push(Buffer.from(chunk.subarray(i, end)));
      this.carryLen += end - i;
      i = end;
      if (lf >= 0 && end === lf + 1) this.classifyCarry(true, base + end);
      else if (this.carryLen >= LINE_PROBE) this.classifyCarry(false, base + end);
    }
    this.pos = base + chunk.length;
  }

  /**
   * What the bytes pushed so far decide (locate.ts `locateSection`): the tree so far; the entities still open,
   * outermost first (their `bodyEnd`, sizes and counts, a multipart's list of children and a message part's
   * `message` are not final; an entity still in its header has no type yet); and `settled`, a bound no open
   * entity can end before (a delimiter line starts at the current line start or later, and takes the line
   * end before it). Everything else in the tree is final. A view of the parser's own state: read it before the next `push`.
   */
  progress(): ParseProgress {
    return { root: this.root, open: this.stack, settled: Math.max(0, this.lineStart - this.lastEol) };
  }

  /** Ends the input and returns the tree (the root is the whole article). */
  end(): MimePart {
    if (this.done) return this.root;
    if (this.carryLen > 0) this.classifyCarry(true, this.pos);
    if (this.tail === 'content' && this.heldCR) this.sinkContent(CR_BUF);
    this.tail = null;
    this.heldCR = false;
    this.done = true;
    while (this.stack.length > 0) this.closeTop(this.pos, this.lfCount, true);
    return this.root;
  }

  // ---- lines -------------------------------------------------------------

  private classifyCarry(complete: boolean, lineEndAbs: number): void {
    const line = this.carry.length === 1 ? this.carry[0]! : Buffer.concat(this.carry);
    this.carry = [];
    this.carryLen = 0;
    this.classify(line, complete, lineEndAbs);
  }

  /**
   * Classifies a line (complete: with its line end, or at EOF without one) or the
   * first LINE_PROBE bytes of a longer line (then the rest follows as a tail).
   */
  private classify(line: Buffer, complete: boolean, lineEndAbs: number): void {
    let eol = 0;
    if (complete && line.length > 0 && line[line.length - 1] === LF) eol = line.length > 1 && line[line.length - 2] === CR ? 2 : 1;
    const content = line.subarray(0, line.length - eol);
    if (content.length >= 2 && content[0] === DASH && content[1] === DASH) {
      const k = this.matchBoundary(content);
      if (k >= 0) {
        const mp = this.stack[k]!;
        const b = mp.boundary!;
        const isFinal = content.length >= b.length + 2 && content[b.length] === DASH && content[b.length + 1] === DASH;
        this.onBoundary(k, isFinal);
        if (complete) this.finishLine(lineEndAbs, eol);
        else {
          this.tail = 'skip';
          this.heldCR = content[content.length - 1] === CR;
        }
        return;
      }
    }
    const top = this.stack[this.stack.length - 1]!;
    if (top.state === 'header' && complete && eol > 0 && content.length === 0) {
      this.finishLine(lineEndAbs, eol);
      this.endHeader(top, lineEndAbs);
      return;
    }
    if (complete) {
      this.sinkContent(content);
      if (eol > 0) this.sinkEol(eol);
      this.finishLine(lineEndAbs, eol);
    } else {
      this.tail = 'content';
      this.heldCR = content[content.length - 1] === CR;
      this.sinkContent(this.heldCR ? content.subarray(0, content.length - 1) : content);
    }
  }

  /**
   * Bytes of an already classified long line; `atLf`: the line's LF follows the
   * piece. A trailing CR is held back until it is known whether it ends the line.
   * Returns the line end length (1 or 2) when `atLf`, else 0.
   */
  private tailPiece(piece: Buffer, atLf: boolean): number {
    if (piece.length > 0) {
      const endsCR = piece[piece.length - 1] === CR;
      if (this.tail === 'content') {
        if (this.heldCR) this.sinkContent(CR_BUF);
        this.sinkContent(endsCR ? piece.subarray(0, piece.length - 1) : piece);
      }
      this.heldCR = endsCR;
    }
    if (!atLf) return 0;
    const eol = this.heldCR ? 2 : 1;
    this.heldCR = false;
    if (this.tail === 'content') this.sinkEol(eol);
    this.tail = null;
    return eol;
  }

  /** Bookkeeping at the end of a line (`eol`: its line end length, 0 at EOF). */
  private finishLine(lineEndAbs: number, eol: number): void {
    if (eol > 0) this.lfCount++;
    this.lastEol = eol;
    this.lineStart = lineEndAbs;
    if (this.childOf !== null) {
      const mp = this.childOf;
      this.childOf = null;
      if (eol > 0) this.open(lineEndAbs, mp.depth + 1, mp.part.subtype === 'digest', null, mp);
    }
  }

  /**
   * Fast path through the body of the innermost entity, from a line start `i`:
   * only a line starting with "--" can be a delimiter (and only while some
   * multipart awaits one), so whole lines up to the first such line (or up to
   * the chunk's last line end) are handed on at once, found with memchr-like
   * searches (`indexOf`) instead of one classification per line. Same effect as
   * classifying each line: its bytes reach the decoder in order with the last
   * line end held back (frameLines), line ends are counted. Returns where
   * the next line starts, or `i` when nothing could be skipped.
   */
  private skimBody(chunk: Buffer, i: number, base: number): number {
    const top = this.stack[this.stack.length - 1];
    if (top === undefined || top.state !== 'body') return i;
    const last = chunk.lastIndexOf(LF);
    if (last < i) return i;
    let stop = last + 1;
    if (this.awaitsBoundary()) {
      if (chunk[i] === DASH && (i + 1 === chunk.length || chunk[i + 1] === DASH)) return i; // may be a delimiter
      const d = chunk.indexOf(NL_DASHES, i);
      if (d >= 0) stop = d + 1;
    }
    let n = 0;
    for (let j = chunk.indexOf(LF, i); j >= 0 && j < stop; j = chunk.indexOf(LF, j + 1)) n++;
    const eol: 1 | 2 = stop - 2 >= i && chunk[stop - 2] === CR ? 2 : 1;
    frameLines(top, chunk.subarray(i, stop), eol);
    this.lfCount += n - 1; // finishLine counts the last one
    this.finishLine(base + stop, eol);
    return stop;
  }

  /**
   * Fast path through a header, from a line start `i`: when the blank line
   * ending the header is in this chunk (and, while a multipart awaits a
   * delimiter, no header line starts with "--"), the header lines are handed
   * on as one piece and the blank line ends the header, as classifying line
   * by line would: the same bytes reach the header (line ends included, up to
   * MAX_HEADER_BYTES), the same line ends are counted. Returns where the body
   * starts, or `i` when nothing could be skipped.
   */
  private skimHeader(chunk: Buffer, i: number, base: number): number {
    const top = this.stack[this.stack.length - 1];
    if (top === undefined || top.state !== 'header') return i;
    const guard = this.awaitsBoundary();
    let lines = 0;
    let at = i; // a line start
    for (;;) {
      if (at >= chunk.length) return i; // no blank line in this chunk
      const c = chunk[at]!;
      const eol = c === LF ? 1 : c === CR && at + 1 < chunk.length && chunk[at + 1] === LF ? 2 : 0;
      if (eol > 0) {
        if (at > i) frameContent(top, chunk.subarray(i, at));
        this.lfCount += lines; // the header's lines; finishLine counts the blank one
        const end = at + eol;
        this.finishLine(base + end, eol);
        this.endHeader(top, base + end);
        return end;
      }
      if (guard && c === DASH && at + 1 < chunk.length && chunk[at + 1] === DASH) return i; // may be a delimiter
      const lf = chunk.indexOf(LF, at);
      if (lf < 0) return i;
      lines++;
      at = lf + 1;
    }
  }

  /** True while some open multipart awaits a delimiter line. */
  private awaitsBoundary(): boolean {
    for (const f of this.stack) if (f.boundary !== null && !f.final) return true;
    return false;
  }

  // ---- boundaries --------------------------------------------------------

  /** Index in the stack of the multipart whose delimiter starts `content`, or -1. */
  private matchBoundary(content: Buffer): number {
    let best = -1;
    let bestLen = -1;
    for (let k = this.stack.length - 1; k >= 0; k--) {
      const f = this.stack[k]!;
      const b = f.boundary;
      if (b === null || f.final || b.length <= bestLen || b.length > content.length) continue;
      if (content.compare(b, 0, b.length, 0, b.length) === 0) {
        best = k;
        bestLen = b.length;
      }
    }
    return best;
  }

  private onBoundary(k: number, isFinal: boolean): void {
    const end = Math.max(0, this.lineStart - this.lastEol);
    const lfAtEnd = this.lfCount - (this.lastEol > 0 ? 1 : 0);
    while (this.stack.length - 1 > k) this.closeTop(end, lfAtEnd, false);
    const mp = this.stack[k]!;
    if (isFinal) mp.final = true;
    else this.childOf = mp;
  }

  // ---- frames (./entity.ts) ---------------------------------------------

  private open(headerStart: number, depth: number, inDigest: boolean, owner: MimePart | null, parent?: Frame): Frame {
    const frame = newFrame(headerStart, depth, inDigest, owner);
    if (parent !== undefined) (parent.part.parts ??= []).push(frame.part);
    this.stack.push(frame);
    return frame;
  }

  private endHeader(f: Frame, bodyStart: number): void {
    endFrameHeader(f, bodyStart, this.lfCount);
    if (f.kind === 'message') this.open(bodyStart, f.depth + 1, false, f.part);
  }

  /** Closes the innermost open entity at `end` (line ends before it: `lfAtEnd`). */
  private closeTop(end: number, lfAtEnd: number, eof: boolean): void {
    closeFrame(this.stack.pop()!, end, lfAtEnd, eof);
  }

  private sinkContent(bytes: Buffer): void {
    frameContent(this.stack[this.stack.length - 1]!, bytes);
  }

  private sinkEol(eol: number): void {
    frameEol(this.stack[this.stack.length - 1]!, eol as 1 | 2);
  }
}

/** Parses a whole article held in memory (tests, small articles). */
export function parseStructure(article: Buffer): MimePart {
  const p = new StructureParser();
  p.push(article);
  return p.end();
}

/** Parses an article stream; the caller owns (and closes) the stream. */
export async function parseStructureStream(stream: AsyncIterable<Buffer | string>): Promise<MimePart> {
  const p = new StructureParser();
  for await (const chunk of stream) p.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
  return p.end();
}
