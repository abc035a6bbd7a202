/**
 * Test oracle: the structure parser as it was before its fast paths (every
 * line classified on its own, no skimming), kept to check that the fast
 * paths of src/mime/structure.ts change nothing. Not used by the server.
 */
import { closeFrame, endFrameHeader, frameContent, frameEol, newFrame, type Frame } from '../../../src/mime/entity.js';
import { LINE_PROBE } from '../../../src/mime/limits.js';
import type { MimePart } from '../../../src/mime/part.js';

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;
const CR_BUF = Buffer.from('\r');

export class ReferenceParser {
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
    if (this.done) throw new Error('ReferenceParser.push after end');
    const base = this.pos;
    let i = 0;
    while (i < chunk.length) {
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
export function referenceParse(article: Buffer): MimePart {
  const p = new ReferenceParser();
  p.push(article);
  return p.end();
}
