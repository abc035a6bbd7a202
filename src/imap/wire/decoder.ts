/**
 * Decoder: reads one framed command (see framer.ts) by the grammar rules of
 * RFC 9051 §9 / RFC 3501 §9, on the octet-level steps of `Cursor`
 * (cursor.ts). Method names are rule names. Every method either
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
import type { FramedCommand } from './framer.js';
import { MONTHS, isAstringChar, isAtomChar, isDigit, isListChar, isTagChar } from './chars.js';
import { ParseError } from './errors.js';
import { decodeMailboxName } from './mutf7.js';
import { SequenceSet } from './sequence-set.js';
import { Cursor } from './cursor.js';

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

export class Decoder extends Cursor {
  private readonly utf8: boolean;

  constructor(cmd: Pick<FramedCommand, 'parts' | 'literals'>, opts: DecoderOptions = {}) {
    super(cmd);
    this.utf8 = opts.utf8 ?? false;
  }

  /** Build a decoder over a literal-free line (tests, SASL responses). */
  static ofText(text: string | Buffer, opts?: DecoderOptions): Decoder {
    return new Decoder({ parts: [typeof text === 'string' ? Buffer.from(text) : text], literals: [] }, opts);
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


}

function validDay(year: number, month: number, day: number): boolean {
  if (day < 1 || month < 1 || month > 12) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}
