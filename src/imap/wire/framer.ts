/**
 * CommandFramer: splits the client byte stream into complete IMAP commands
 * (RFC 9051 §2.2, §4.3, §7.5). A command is one line, or several lines joined
 * by literals: `{n}` (synchronizing), `{n+}` (non-synchronizing, RFC 7888),
 * `~{n}` / `~{n+}` (literal8, RFC 3516). The framer knows nothing else of the
 * grammar; the `Decoder` parses what it emits.
 *
 *     C: A1 LOGIN {5}\r\n          → onContinuationNeeded(5, false, 'A1') → 'accept'
 *     S: + Ready                    (written by the connection)
 *     C: alice {6+}\r\nsecret\r\n   → { kind: 'command', parts: ['A1 LOGIN {5}', 'alice', ' {6+}', 'secret', ''] }
 *
 * Contract
 * - `push(chunk)` may be called with any split of the stream; it returns the
 *   items completed by this chunk, in stream order. The same stream split
 *   differently yields the same items.
 * - Lines end at LF; a CR before the LF is removed. RFC 9051 requires CRLF;
 *   we accept a bare LF (lenient on input) and leave a lone CR inside a line
 *   for the decoder to reject.
 * - Empty lines between commands are ignored.
 * - Synchronizing literal: when its announcement is complete the framer calls
 *   `onContinuationNeeded(size, isBinary, tag)` synchronously. On 'accept' the
 *   connection must send `+ ...`; the framer then reads `size` octets. On a
 *   rejection the framer emits an `error` item carrying it (the connection
 *   writes that item, not the callback) and expects a new command next, since
 *   the client sends no literal without `+`. Literals larger than
 *   `MAX_LITERAL_SIZE`, or that would push the command past
 *   `MAX_COMMAND_SIZE`, are refused (`BAD [TOOBIG]`) by the framer itself
 *   without calling the callback, so no `+` is ever sent for them.
 * - Non-synchronizing literal over `maxNonSyncLiteral` (default 4096,
 *   RFC 7888 LITERAL-) or over the command limit: an `error` item
 *   `BAD [TOOBIG]` is emitted for the tag; the announced octets and the rest of
 *   the command are read and discarded without buffering. Announcements over
 *   `MAX_SKIPPED_LITERAL_SIZE` produce a fatal `BYE` item and the framer
 *   ignores all further input: the connection must close.
 * - Line longer than `MAX_LINE_LENGTH`: `error` item `BAD` (with the tag if
 *   the first word is a valid tag), then everything up to the end of that
 *   command is discarded; at most `MAX_LINE_LENGTH` octets are ever buffered
 *   for a line.
 * - Memory: a command in progress holds at most `MAX_COMMAND_SIZE` octets.
 * - Lines that are not commands — a SASL response after `+` (RFC 9051
 *   §6.2.2), `DONE` ending IDLE (RFC 2177) — are framed like commands; the
 *   connection reads them as `parts[0]` (or `Decoder.rest()`). Such a line
 *   that is refused (too long) is an `error` item like any other: the
 *   connection answers the command waiting for the line with it, and the
 *   next line is a command again.
 */
import {
  MAX_COMMAND_SIZE,
  MAX_LINE_LENGTH,
  MAX_LITERAL_SIZE,
  MAX_LITERALS_PER_COMMAND,
  MAX_NONSYNC_LITERAL_SIZE,
  MAX_SKIPPED_LITERAL_SIZE,
  MAX_TAG_LENGTH,
} from '../limits.js';
import { isTagChar } from './chars.js';

/** How one literal of a command was announced. */
export interface LiteralInfo {
  /** `~{n}` literal8 (RFC 3516): may contain NUL. */
  binary: boolean;
  /** `{n}` (true) or `{n+}` (false). */
  sync: boolean;
}

/**
 * One complete command. `parts` alternates text and literal payloads:
 * `parts[0]` text, `parts[1]` literal 0, `parts[2]` text, … so
 * `parts.length === 2 * literals.length + 1`. Each text part that precedes a
 * literal still ends with its announcement (`{5}`, `~{3+}`); line ends are
 * removed.
 */
export interface FramedCommand {
  kind: 'command';
  /** The first word if it is a valid tag (best effort, for error replies). */
  tag: string | undefined;
  parts: Buffer[];
  literals: LiteralInfo[];
  /** Octets of text and literal data. */
  size: number;
}

/** A command the framer refused, or a fatal stream condition. */
export interface FramingError {
  kind: 'error';
  /** Tag to answer with; absent ⇒ answer untagged (`* BAD ...`). */
  tag: string | undefined;
  status: 'BAD' | 'NO' | 'BYE';
  code?: string;
  text: string;
  /** True for BYE: the connection must close; the framer ignores further input. */
  fatal: boolean;
}

export type FramedItem = FramedCommand | FramingError;

export type ContinuationDecision = 'accept' | { reject: 'BAD' | 'NO'; code?: string; text: string };

export interface FramerOptions {
  /** Called for each synchronizing literal within limits; see module contract. */
  onContinuationNeeded: (size: number, isBinary: boolean, tag: string | undefined) => ContinuationDecision;
  /**
   * Consulted for every literal announcement before any limit: a command that
   * will be refused anyway (APPEND to a read-only mailbox) is answered with this
   * decision, before `+` for a synchronizing literal, and the announced octets
   * of a non-synchronizing one are skipped. `firstLine` is the command's first line.
   */
  refuseEarly?: (firstLine: Buffer, size: number) => Exclude<ContinuationDecision, 'accept'> | undefined;
  /** Largest `{n+}` accepted (default MAX_NONSYNC_LITERAL_SIZE, RFC 7888 LITERAL-). */
  maxNonSyncLiteral?: number;
}

interface Marker {
  size: number;
  binary: boolean;
  sync: boolean;
}

type Mode = 'line' | 'literal' | 'skipLine' | 'skipLiteral' | 'dead';

const LF = 0x0a;
const CR = 0x0d;
/** Enough trailing bytes of a skipped line to see `~{<20 digits>+}`. */
const MARKER_TAIL = 32;
const MARKER_RE = /(~?)\{(\d{1,20})(\+?)\}$/;

export class CommandFramer {
  private readonly onContinuation: FramerOptions['onContinuationNeeded'];
  private readonly refuseEarly: FramerOptions['refuseEarly'];
  private readonly maxNonSync: number;
  private mode: Mode = 'line';
  private out: FramedItem[] = [];
  // current line
  private lineChunks: Buffer[] = [];
  private lineLen = 0;
  // current command
  private parts: Buffer[] = [];
  private literals: LiteralInfo[] = [];
  private size = 0;
  private tag: string | undefined;
  // literal being read
  private literalChunks: Buffer[] = [];
  private literalInfo: LiteralInfo = { binary: false, sync: true };
  private remaining = 0;
  // skipping
  private skipTail: Buffer = Buffer.alloc(0);

  constructor(opts: FramerOptions) {
    this.onContinuation = opts.onContinuationNeeded;
    this.refuseEarly = opts.refuseEarly;
    this.maxNonSync = opts.maxNonSyncLiteral ?? MAX_NONSYNC_LITERAL_SIZE;
  }

  /** True when no command is partly received (e.g. to decide whether EOF lost data). */
  get idle(): boolean {
    return this.mode === 'line' && this.parts.length === 0 && this.lineLen === 0;
  }

  /** Octets currently held for the command in progress (for memory checks and metrics). */
  get buffered(): number {
    let n = this.lineLen + this.size;
    for (const c of this.literalChunks) n += c.length;
    return n;
  }

  /** Feed socket bytes; returns the items completed by them. */
  push(chunk: Buffer): FramedItem[] {
    let pos = 0;
    while (pos < chunk.length && this.mode !== 'dead') {
      switch (this.mode) {
        case 'line':
          pos = this.readLine(chunk, pos);
          break;
        case 'literal':
          pos = this.readLiteral(chunk, pos);
          break;
        case 'skipLine':
          pos = this.skipLine(chunk, pos);
          break;
        case 'skipLiteral': {
          const n = Math.min(this.remaining, chunk.length - pos);
          this.remaining -= n;
          pos += n;
          if (this.remaining === 0) this.mode = 'skipLine';
          break;
        }
      }
    }
    const items = this.out;
    this.out = [];
    return items;
  }

  private readLine(chunk: Buffer, pos: number): number {
    const lf = chunk.indexOf(LF, pos);
    const end = lf < 0 ? chunk.length : lf;
    if (this.lineLen + (end - pos) > MAX_LINE_LENGTH) {
      this.lineOverflow(chunk.subarray(pos, end));
      return end; // skipLine mode continues from here (the LF, if any, ends the skipped line)
    }
    if (lf >= 0 && this.lineLen === 0) {
      // the whole line in this chunk (the common case): one copy, no view or list of pieces
      const stop = end > pos && chunk[end - 1] === CR ? end - 1 : end;
      // Copy: the chunk belongs to the socket and a sub-view would pin it.
      const line = Buffer.allocUnsafe(stop - pos);
      chunk.copy(line, 0, pos, stop);
      this.completeLine(line);
      return lf + 1;
    }
    if (end > pos) {
      this.lineChunks.push(chunk.subarray(pos, end));
      this.lineLen += end - pos;
    }
    if (lf < 0) return chunk.length;
    let line = this.lineChunks.length === 1 ? this.lineChunks[0]! : Buffer.concat(this.lineChunks, this.lineLen);
    this.lineChunks = [];
    this.lineLen = 0;
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    // Copy: the chunk belongs to the socket and a sub-view would pin it.
    this.completeLine(Buffer.from(line));
    return lf + 1;
  }

  private completeLine(line: Buffer): void {
    if (this.parts.length === 0) {
      if (line.length === 0) return;
      this.tag = recoverTag(line);
    }
    this.size += line.length;
    this.parts.push(line);
    const marker = findMarker(line);
    if (!marker && this.size > MAX_COMMAND_SIZE) {
      this.emitError('BAD', 'TOOBIG', `command longer than ${MAX_COMMAND_SIZE} octets`);
      this.resetCommand();
      return;
    }
    if (!marker) {
      this.out.push({ kind: 'command', tag: this.tag, parts: this.parts, literals: this.literals, size: this.size });
      this.resetCommand();
      return;
    }
    const early = this.refuseEarly?.(this.parts[0]!, marker.size);
    if (early) {
      this.refuse(early.reject, early.code, early.text, marker);
      return;
    }
    const tooBig =
      this.size + marker.size > MAX_COMMAND_SIZE ||
      marker.size > (marker.sync ? MAX_LITERAL_SIZE : this.maxNonSync) ||
      this.literals.length >= MAX_LITERALS_PER_COMMAND;
    if (tooBig) {
      this.refuse('BAD', 'TOOBIG', `literal of ${marker.size} octets exceeds the limit`, marker);
      return;
    }
    if (marker.sync) {
      const decision = this.onContinuation(marker.size, marker.binary, this.tag);
      if (decision !== 'accept') {
        this.refuse(decision.reject, decision.code, decision.text, marker);
        return;
      }
    }
    this.literalInfo = { binary: marker.binary, sync: marker.sync };
    this.remaining = marker.size;
    this.literalChunks = [];
    this.mode = 'literal';
    if (marker.size === 0) this.finishLiteral();
  }

  private readLiteral(chunk: Buffer, pos: number): number {
    const n = Math.min(this.remaining, chunk.length - pos);
    this.literalChunks.push(Buffer.from(chunk.subarray(pos, pos + n)));
    this.remaining -= n;
    if (this.remaining === 0) this.finishLiteral();
    return pos + n;
  }

  private finishLiteral(): void {
    const data = Buffer.concat(this.literalChunks);
    this.literalChunks = [];
    this.parts.push(data);
    this.literals.push(this.literalInfo);
    this.size += data.length;
    this.mode = 'line';
  }

  /** The current line grew past MAX_LINE_LENGTH: answer it and skip the rest of the command. */
  private lineOverflow(more: Buffer): void {
    if (this.parts.length === 0) {
      const head = Buffer.concat([...this.lineChunks, more.subarray(0, MAX_TAG_LENGTH + 1)]);
      this.tag = recoverTag(head);
    }
    this.emitError('BAD', undefined, `line longer than ${MAX_LINE_LENGTH} octets`);
    this.skipTail = Buffer.concat([...this.lineChunks.slice(-2), more]).subarray(-MARKER_TAIL);
    this.lineChunks = [];
    this.lineLen = 0;
    this.resetCommand();
    this.mode = 'skipLine';
  }

  /** Discard up to the end of the current line; follow `{n+}` announcements so we stay in sync. */
  private skipLine(chunk: Buffer, pos: number): number {
    const lf = chunk.indexOf(LF, pos);
    const end = lf < 0 ? chunk.length : lf;
    this.skipTail = Buffer.concat([this.skipTail, chunk.subarray(Math.max(pos, end - MARKER_TAIL), end)]).subarray(-MARKER_TAIL);
    if (lf < 0) return chunk.length;
    let tail = this.skipTail;
    this.skipTail = Buffer.alloc(0);
    if (tail.length > 0 && tail[tail.length - 1] === CR) tail = tail.subarray(0, tail.length - 1);
    const marker = findMarker(tail);
    if (marker && !marker.sync) this.skipLiteral(marker.size);
    else this.mode = 'line'; // a sync literal is never sent: we gave no '+'
    return lf + 1;
  }

  private skipLiteral(size: number): void {
    if (size > MAX_SKIPPED_LITERAL_SIZE) {
      this.out.push({ kind: 'error', tag: undefined, status: 'BYE', code: 'TOOBIG', text: 'non-synchronizing literal too large', fatal: true });
      this.resetCommand();
      this.mode = 'dead';
      return;
    }
    this.remaining = size;
    this.mode = size === 0 ? 'skipLine' : 'skipLiteral';
  }

  /** Refuse the command whose current line announced `marker`. */
  private refuse(status: 'BAD' | 'NO', code: string | undefined, text: string, marker: Marker): void {
    this.emitError(status, code, text);
    this.resetCommand();
    if (marker.sync) this.mode = 'line';
    else this.skipLiteral(marker.size);
  }

  private emitError(status: 'BAD' | 'NO', code: string | undefined, text: string): void {
    const item: FramingError = { kind: 'error', tag: this.tag, status, text, fatal: false };
    if (code !== undefined) item.code = code;
    this.out.push(item);
  }

  private resetCommand(): void {
    this.parts = [];
    this.literals = [];
    this.size = 0;
    this.tag = undefined;
    this.mode = 'line';
  }
}

/** The literal announcement ending a line, if any. */
function findMarker(line: Buffer): Marker | undefined {
  if (line.length < 3 || line[line.length - 1] !== 0x7d /* } */) return undefined;
  const tail = line.subarray(-MARKER_TAIL).toString('latin1');
  const m = MARKER_RE.exec(tail);
  if (!m) return undefined;
  const size = Number(m[2]);
  return { size: Number.isSafeInteger(size) ? size : Number.MAX_SAFE_INTEGER, binary: m[1] === '~', sync: m[3] !== '+' };
}

/** `tag` of RFC 9051 §9: 1*<any ASTRING-CHAR except "+">, taken from the start of a line. */
export function recoverTag(line: Buffer): string | undefined {
  let i = 0;
  while (i < line.length && i <= MAX_TAG_LENGTH && isTagChar(line[i]!)) i++;
  if (i === 0 || i > MAX_TAG_LENGTH) return undefined;
  if (i < line.length && line[i] !== 0x20) return undefined;
  return line.toString('latin1', 0, i);
}
