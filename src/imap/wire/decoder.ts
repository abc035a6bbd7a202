/**
 * Decoder: reads one framed command (see framer.ts) by the grammar rules of
 * RFC 9051 §9 / RFC 3501 §9. Method names are rule names. Every method either
 * consumes exactly its production and returns its value, or throws
 * `ParseError` saying what was expected at which offset; the connection
 * answers that with `BAD [CLIENTBUG]` (STYLE §6). Handlers end with `end()`.
 *
 *     const d = new Decoder(cmd, { utf8: session.utf8Enabled });
 *     const tag = d.tag(); d.sp(); const name = d.atom().toUpperCase();
 *     if (name === 'LOGIN') { d.sp(); const user = d.astring(); d.sp(); const pass = d.astring(); d.end(); }
 *
 * Leniency (documented, deliberate): quoted strings may hold UTF-8 even
 * before ENABLE UTF8=ACCEPT; mailbox names with 8-bit octets are taken as
 * UTF-8 rather than refused. Everything else follows the ABNF. A mailbox
 * name that is not modified UTF-7 is still a valid astring, so no error: it
 * comes back marked as naming no mailbox (mutf7.ts `decodeMailboxName`).
 * Numbers: `number64` values above 2^53-1 saturate (see `number64`).
 */
import type { FramedCommand, LiteralInfo } from './framer.js';
import { MONTHS, isAstringChar, isAtomChar, isDigit, isListChar, isTagChar } from './chars.js';
import { ParseError } from './errors.js';
import { decodeMailboxName } from './mutf7.js';
import { SequenceSet } from './sequence-set.js';
import { MAX_NESTING_DEPTH } from '../limits.js';

export { MONTHS, isAstringChar, isAtomChar } from './chars.js';

export interface DecoderOptions {
  /** UTF8=ACCEPT (RFC 6855) or IMAP4rev2 enabled: mailbox names are UTF-8, not modified UTF-7. */
  utf8?: boolean;
}

/** A calendar date of SEARCH (RFC 9051 §9 `date`); month 1–12. */
export interface ImapDate {
  year: number;
  month: number;
  day: number;
}

const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft', '\\Recent'];
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export class Decoder {
  private readonly parts: Buffer[];
  private readonly literalInfo: LiteralInfo[];
  private readonly utf8: boolean;
  private part = 0;
  private pos = 0;
  private base = 0;
  private depth = 0;

  constructor(cmd: Pick<FramedCommand, 'parts' | 'literals'>, opts: DecoderOptions = {}) {
    this.parts = cmd.parts;
    this.literalInfo = cmd.literals;
    this.utf8 = opts.utf8 ?? false;
  }

  /** Build a decoder over a literal-free line (tests, SASL responses). */
  static ofText(text: string | Buffer, opts?: DecoderOptions): Decoder {
    return new Decoder({ parts: [typeof text === 'string' ? Buffer.from(text) : text], literals: [] }, opts);
  }

  /** Absolute offset of the next octet in the command. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** Throw ParseError for `expected` at the current offset. */
  fail(expected: string): never {
    throw new ParseError(expected, this.offset);
  }

  private get text(): Buffer {
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

  /** `tag`: 1*<ASTRING-CHAR except "+">. */
  tag(): string {
    return this.takeWhile(isTagChar, 'tag');
  }

  /** `atom`: 1*ATOM-CHAR. */
  atom(): string {
    return this.takeWhile(isAtomChar, 'atom');
  }

  /** `astring`: 1*ASTRING-CHAR / string. */
  astring(): string {
    return this.decodeUtf8(this.astringBytes());
  }

  astringBytes(): Buffer {
    const c = this.peekByte();
    if (c === 0x22 || c === 0x7b) return this.stringBytes(); // "~" starts an atom here: astring has no literal8
    return Buffer.from(this.takeWhile(isAstringChar, 'astring'), 'latin1');
  }

  /** `string`: quoted / literal, decoded as UTF-8. */
  string(): string {
    return this.decodeUtf8(this.stringBytes());
  }

  stringBytes(): Buffer {
    const c = this.peekByte();
    if (c === 0x22) return this.quotedBytes();
    if (c === 0x7b) return this.literal();
    return this.fail('string');
  }

  /** `nstring`: string / nil. */
  nstring(): string | null {
    if (this.peek('NIL') && !isAstringChar(this.text[this.pos + 3] ?? -1)) {
      this.pos += 3;
      return null;
    }
    return this.string();
  }

  /** `quoted`: DQUOTE *QUOTED-CHAR DQUOTE. */
  quoted(): string {
    return this.decodeUtf8(this.quotedBytes());
  }

  private quotedBytes(): Buffer {
    this.expect('"');
    const t = this.text;
    const close = t.indexOf(0x22, this.pos);
    if (close >= 0) {
      // Fast path: no escapes and no forbidden octets before the closing quote.
      const body = t.subarray(this.pos, close);
      if (!body.includes(0x5c) && !body.includes(0x00) && !body.includes(0x0a) && !body.includes(0x0d)) {
        this.pos = close + 1;
        return Buffer.from(body);
      }
    }
    const out: number[] = [];
    for (;;) {
      if (this.pos >= t.length) this.fail('closing DQUOTE');
      const c = t[this.pos]!;
      if (c === 0x22) break;
      if (c === 0x5c) {
        const n = t[this.pos + 1];
        if (n !== 0x22 && n !== 0x5c) this.fail('quoted-special after "\\"');
        out.push(n);
        this.pos += 2;
        continue;
      }
      if (c === 0x00 || c === 0x0a || c === 0x0d) this.fail('TEXT-CHAR in quoted string');
      out.push(c);
      this.pos++;
    }
    this.pos++;
    return Buffer.from(out);
  }

  /** `literal`: "{" number64 ["+"] "}" CRLF *CHAR8 — returns the payload (no NUL allowed). */
  literal(): Buffer {
    const data = this.literalPayload(false);
    if (data.includes(0)) this.fail('literal without NUL (use literal8)');
    return data;
  }

  /** `literal8` (RFC 3516): "~{" number64 ["+"] "}" CRLF *OCTET. */
  literal8(): Buffer {
    return this.literalPayload(true);
  }

  private literalPayload(binary: boolean): Buffer {
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

  /** `number`: 1*DIGIT, 0..2^32-1. */
  number(): number {
    return this.digits(0xffffffff, 'number');
  }

  /** `nz-number`: 1..2^32-1. */
  nzNumber(): number {
    const at = this.offset;
    const n = this.number();
    if (n === 0) throw new ParseError('nz-number', at);
    return n;
  }

  /**
   * `number64` (RFC 9051): 0..2^63-1. Values above 2^53-1 (not exact in a JS
   * number) are returned as Number.MAX_SAFE_INTEGER: every size, offset and
   * mod-sequence newsfront itself produces is below that, so comparisons
   * against such a value give the same answer as the exact value would
   * (e.g. a foreign QRESYNC modseq 20050715194045000 is "newer than anything").
   */
  number64(): number {
    const at = this.offset;
    const s = this.takeWhile(isDigit, 'number64');
    if (s.length > 19 || BigInt(s) > 0x7fffffffffffffffn) throw new ParseError('number64 below 2^63', at);
    return Math.min(Number(s), Number.MAX_SAFE_INTEGER);
  }

  private digits(max: number, what: string): number {
    const at = this.offset;
    const s = this.takeWhile(isDigit, what);
    const n = s.length > 20 ? Infinity : Number(s);
    if (n > max) throw new ParseError(`${what} at most ${max}`, at);
    return n;
  }

  /**
   * `mailbox`: "INBOX" (any case) / astring, decoded (modified UTF-7 unless
   * UTF-8 mode; a name that is not modified UTF-7 is marked, see `isUnnamable`).
   */
  mailbox(): string {
    const at = this.offset;
    return this.mailboxName(this.astringBytes(), at);
  }

  /** `list-mailbox` (LIST/LSUB pattern): 1*list-char / string; `%` and `*` kept. */
  listMailbox(): string {
    const at = this.offset;
    const c = this.peekByte();
    const raw = c === 0x22 || c === 0x7b ? this.stringBytes() : Buffer.from(this.takeWhile(isListChar, 'list-mailbox'), 'latin1');
    return this.mailboxName(raw, at, true);
  }

  private mailboxName(raw: Buffer, at: number, pattern = false): string {
    if (!pattern && raw.length === 5 && raw.toString('latin1').toUpperCase() === 'INBOX') return 'INBOX';
    const eightBit = raw.some((b) => b >= 0x80);
    if (this.utf8 || eightBit) return this.decodeUtf8(raw, at);
    return decodeMailboxName(raw.toString('latin1'));
  }

  /** `flag`: system flag (canonical case returned), `\` atom extension, or keyword atom. */
  flag(): string {
    const at = this.offset;
    if (this.maybe('\\')) {
      const name = '\\' + this.atom();
      const sys = SYSTEM_FLAGS.find((f) => f.toLowerCase() === name.toLowerCase());
      if (sys === '\\Recent') throw new ParseError('flag other than \\Recent', at);
      return sys ?? name;
    }
    return this.atom();
  }

  /** `flag-list`: "(" [flag *(SP flag)] ")". */
  flagList(): string[] {
    return this.list(() => this.flag(), { allowEmpty: true });
  }

  /**
   * Parenthesised list "(" item *(SP item) ")" (empty "()" only if allowed).
   * Counts toward the nesting limit.
   */
  list<T>(item: () => T, opts: { allowEmpty?: boolean } = {}): T[] {
    return this.nest(() => {
      this.expect('(');
      const out: T[] = [];
      if (this.maybe(')')) {
        if (!opts.allowEmpty) this.fail('list item');
        return out;
      }
      do out.push(item());
      while (this.maybe(' '));
      this.expect(')');
      return out;
    });
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

  /** `sequence-set`. */
  sequenceSet(): SequenceSet {
    const at = this.offset;
    const text = this.takeWhile((c) => isDigit(c) || c === 0x2a || c === 0x3a || c === 0x2c, 'sequence-set');
    try {
      return SequenceSet.parse(text);
    } catch (err) {
      if (err instanceof ParseError) throw new ParseError(err.message.replace(/^expected /, '').replace(/ at offset \d+$/, ''), at + err.offset);
      throw err;
    }
  }

  /** `sequence-set / "$"` (RFC 5182 saved search result). */
  sequenceSetOrSaved(): SequenceSet | '$' {
    if (this.maybe('$')) return '$';
    return this.sequenceSet();
  }

  /** `date-time`: DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE. */
  dateTime(): Date {
    const at = this.offset;
    this.expect('"');
    const day = this.maybe(' ') ? this.fixedDigits(1) : this.fixedDigits(2);
    this.expect('-');
    const month = this.month();
    this.expect('-');
    const year = this.fixedDigits(4);
    this.sp();
    const hh = this.fixedDigits(2);
    this.expect(':');
    const mm = this.fixedDigits(2);
    this.expect(':');
    const ss = this.fixedDigits(2);
    this.sp();
    const sign = this.maybe('+') ? 1 : this.maybe('-') ? -1 : this.fail('zone sign');
    const zh = this.fixedDigits(2);
    const zm = this.fixedDigits(2);
    this.expect('"');
    if (!validDay(year, month, day) || hh > 23 || mm > 59 || ss > 60 || zm > 59) throw new ParseError('valid date-time', at);
    const utc = Date.UTC(year, month - 1, day, hh, mm, Math.min(ss, 59)) - sign * (zh * 60 + zm) * 60_000;
    return new Date(utc);
  }

  /** `date`: date-text / DQUOTE date-text DQUOTE. */
  date(): ImapDate {
    const at = this.offset;
    const q = this.maybe('"');
    const day = this.digits(31, 'date-day');
    this.expect('-');
    const month = this.month();
    this.expect('-');
    const year = this.fixedDigits(4);
    if (q) this.expect('"');
    if (!validDay(year, month, day)) throw new ParseError('valid date', at);
    return { year, month, day };
  }

  private month(): number {
    const i = MONTHS.findIndex((m) => this.peek(m));
    if (i < 0) this.fail('date-month');
    this.pos += 3;
    return i + 1;
  }

  private fixedDigits(n: number): number {
    const t = this.text;
    for (let i = 0; i < n; i++) if (!isDigit(t[this.pos + i] ?? -1)) this.fail(`${n} digits`);
    const v = Number(t.toString('latin1', this.pos, this.pos + n));
    this.pos += n;
    return v;
  }

  private decodeUtf8(b: Buffer, at = this.offset): string {
    try {
      return utf8Decoder.decode(b);
    } catch (err) {
      throw new ParseError('valid UTF-8', at, { cause: err });
    }
  }
}

function validDay(year: number, month: number, day: number): boolean {
  if (day < 1 || month < 1 || month > 12) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}
