/**
 * Cursor: the octets of one framed command (see framer.ts) as the decoder
 * reads them — text parts with literal payloads between them, a position, and
 * the lexical steps every grammar rule is made of (peek, expect, a run of
 * characters, a literal's payload, fixed digits). It knows no IMAP rule; the
 * `Decoder` (decoder.ts) builds the RFC 9051 §9 rules on it.
 *
 * A command's parts alternate text and literal payload: text part p (even) is
 * followed by literal p/2. Offsets in errors count every octet of the command
 * (text and literal bytes), so `ParseError.offset` points into what the client
 * sent. Every failing step throws `ParseError`.
 */
import type { FramedCommand, LiteralInfo } from './framer.js';
import { isDigit } from './chars.js';
import { ParseError } from './errors.js';
import { MAX_NESTING_DEPTH } from '../limits.js';

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export class Cursor {
  private readonly parts: Buffer[];
  private readonly literalInfo: LiteralInfo[];
  private part = 0;
  protected pos = 0;
  private base = 0;
  private depth = 0;

  constructor(cmd: Pick<FramedCommand, 'parts' | 'literals'>) {
    this.parts = cmd.parts;
    this.literalInfo = cmd.literals;
  }

  /** Absolute offset of the next octet in the command. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** Throw ParseError for `expected` at the current offset. */
  fail(expected: string): never {
    throw new ParseError(expected, this.offset);
  }

  /** The current text part. */
  protected get text(): Buffer {
    return this.parts[this.part]!;
  }

  /** Next octet of the current text part, or -1 at its end. */
  peekByte(): number {
    const t = this.text;
    return this.pos < t.length ? t[this.pos]! : -1;
  }

  /** Nothing left in the command. */
  atEnd(): boolean {
    return this.part === this.parts.length - 1 && this.pos === this.text.length;
  }

  /** Does the input continue with `s` (ASCII, case-insensitive)? Does not consume. */
  peek(s: string): boolean {
    const t = this.text;
    if (this.pos + s.length > t.length) return false;
    for (let i = 0; i < s.length; i++) {
      const a = t[this.pos + i]!;
      const b = s.charCodeAt(i);
      if (a === b) continue;
      const la = a | 0x20;
      if (la !== (b | 0x20) || la < 0x61 || la > 0x7a) return false;
    }
    return true;
  }

  /** Consume `s` if the input continues with it (case-insensitive). */
  maybe(s: string): boolean {
    if (!this.peek(s)) return false;
    this.pos += s.length;
    return true;
  }

  /** Consume `s` or throw. */
  expect(s: string): void {
    if (!this.maybe(s)) this.fail(`"${s}"`);
  }

  sp(): void {
    this.expect(' ');
  }

  /** Consume one SP if present. */
  maybeSp(): boolean {
    return this.maybe(' ');
  }

  /** Nothing may follow (RFC 9051 §9 `command` ends with CRLF). */
  end(): void {
    if (!this.atEnd()) this.fail('end of command');
  }

  /** Consume 1*octet satisfying `pred` from the current text part; `what` names it in errors. */
  takeWhile(pred: (c: number) => boolean, what: string): string {
    const t = this.text;
    const start = this.pos;
    while (this.pos < t.length && pred(t[this.pos]!)) this.pos++;
    if (this.pos === start) this.fail(what);
    return t.toString('latin1', start, this.pos);
  }

  /** Remaining text of the current part, consumed (e.g. a SASL response line). */
  rest(): Buffer {
    const r = this.text.subarray(this.pos);
    this.pos = this.text.length;
    return r;
  }

  /**
   * A literal's announcement `{n}` / `{n+}` (`~{n}` when `binary`) at the end
   * of the current text part, and its payload, which the framer has already
   * read; the cursor moves to the text after it.
   */
  protected literalPayload(binary: boolean): Buffer {
    const at = this.offset;
    if (binary) this.expect('~');
    this.expect('{');
    this.takeWhile(isDigit, 'literal size');
    this.maybe('+');
    this.expect('}');
    const info = this.literalInfo[this.part / 2]; // text part p (even) is followed by literal p/2
    if (this.pos !== this.text.length || info === undefined || this.part + 1 >= this.parts.length) {
      throw new ParseError('literal announcement at end of line', at);
    }
    if (info.binary !== binary) throw new ParseError(binary ? 'literal8' : 'literal (not literal8)', at);
    const data = this.parts[this.part + 1]!;
    this.base += this.text.length + data.length;
    this.part += 2;
    this.pos = 0;
    return data;
  }

  /** 1*DIGIT as a number at most `max`. */
  protected digits(max: number, what: string): number {
    const at = this.offset;
    const s = this.takeWhile(isDigit, what);
    const n = s.length > 20 ? Infinity : Number(s);
    if (n > max) throw new ParseError(`${what} at most ${max}`, at);
    return n;
  }

  /** Run `fn` one nesting level deeper; ParseError beyond MAX_NESTING_DEPTH (no stack overflow). */
  nest<T>(fn: () => T): T {
    if (this.depth >= MAX_NESTING_DEPTH) this.fail(`nesting at most ${MAX_NESTING_DEPTH} deep`);
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }

  /** Exactly `n` digits. */
  protected fixedDigits(n: number): number {
    const t = this.text;
    for (let i = 0; i < n; i++) if (!isDigit(t[this.pos + i] ?? -1)) this.fail(`${n} digits`);
    const v = Number(t.toString('latin1', this.pos, this.pos + n));
    this.pos += n;
    return v;
  }

  /** `b` as UTF-8; ParseError at `at` when it is not valid UTF-8. */
  protected decodeUtf8(b: Buffer, at = this.offset): string {
    try {
      return utf8Decoder.decode(b);
    } catch (err) {
      throw new ParseError('valid UTF-8', at, { cause: err });
    }
  }
}
