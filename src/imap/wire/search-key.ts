/**
 * SEARCH / UID SEARCH arguments → AST (RFC 9051 §6.4.4, RFC 3501 §6.4.4 keys,
 * RFC 4731 ESEARCH `RETURN (...)`, RFC 9394 PARTIAL, RFC 7162 §3.1.5 MODSEQ,
 * RFC 5182 `$`, RFC 8474 §6 EMAILID / THREADID).
 *
 *     C: A7 UID SEARCH RETURN (MIN COUNT) CHARSET UTF-8 OR FROM "bob" NOT (SEEN SINCE 1-Feb-2024) UID 100:*
 *     parseSearch(d) after "SEARCH" → { returnOptions: ['MIN','COUNT'], charset: 'UTF-8',
 *       key: { type: 'and', keys: [{ type: 'or', ... }, { type: 'uid', set }] } }
 *
 * Normal forms (so `parseSearch(render(x))` gives `x` back):
 * - FROM/TO/CC/BCC/SUBJECT become `header` keys with a lower-case field;
 * - ANSWERED/UNANSWERED, … KEYWORD/UNKEYWORD, RECENT become `flag` keys;
 * - several top-level keys form an `and`; a parenthesised list is always an
 *   `and`, even of one key.
 * Strings are decoded as UTF-8 when the charset is absent, UTF-8 or US-ASCII,
 * else as Latin-1: the handler answers `NO [BADCHARSET]` for other charsets.
 * Nesting (parentheses, NOT, OR) is bounded by MAX_NESTING_DEPTH and the
 * number of keys by MAX_SEARCH_KEYS; beyond them ParseError.
 */
import type { Decoder, ImapDate } from './decoder.js';
import { MONTHS } from './chars.js';
import type { SequenceSet } from './sequence-set.js';
import { ParseError } from './errors.js';
import { astring as encAstring, quoted as encQuoted } from './encoder.js';
import { MAX_SEARCH_KEYS } from '../limits.js';

export type ReturnOption = 'MIN' | 'MAX' | 'ALL' | 'COUNT' | 'SAVE' | 'PARTIAL';

/**
 * RFC 9394 `partial-range`: 1-based positions in the result list, both positive
 * (`first:last` from the oldest) or both negative (`-1` is the newest); `lo` ≤
 * `hi` in absolute value after normalising (`5:1` is `1:5`).
 */
export interface PartialRange {
  lo: number;
  hi: number;
}
export type DateOp = 'before' | 'on' | 'since';

export type SearchKey =
  | { type: 'all' }
  | { type: 'flag'; flag: string; set: boolean }
  | { type: 'new' }
  | { type: 'old' }
  | { type: 'header'; field: string; value: string }
  | { type: 'body'; value: string }
  | { type: 'text'; value: string }
  | { type: 'internaldate'; op: DateOp; date: ImapDate }
  | { type: 'sentdate'; op: DateOp; date: ImapDate }
  | { type: 'larger'; size: number }
  | { type: 'smaller'; size: number }
  | { type: 'uid'; set: SequenceSet | '$' }
  | { type: 'seq'; set: SequenceSet | '$' }
  | { type: 'modseq'; modseq: number; entry?: { flag: string; kind: 'priv' | 'shared' | 'all' } }
  | { type: 'emailid'; id: string }
  | { type: 'threadid'; id: string }
  | { type: 'not'; key: SearchKey }
  | { type: 'or'; a: SearchKey; b: SearchKey }
  | { type: 'and'; keys: SearchKey[] };

export interface SearchRequest {
  /** RETURN options (RFC 4731); `undefined` = no RETURN (plain `* SEARCH` answer); `[]` = RETURN () = ALL. */
  returnOptions?: ReturnOption[];
  /** With RETURN (PARTIAL range): the range (RFC 9394). */
  partial?: PartialRange;
  charset?: string;
  key: SearchKey;
}

const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ['\\Answered', true], UNANSWERED: ['\\Answered', false],
  DELETED: ['\\Deleted', true], UNDELETED: ['\\Deleted', false],
  DRAFT: ['\\Draft', true], UNDRAFT: ['\\Draft', false],
  FLAGGED: ['\\Flagged', true], UNFLAGGED: ['\\Flagged', false],
  SEEN: ['\\Seen', true], UNSEEN: ['\\Seen', false],
  RECENT: ['\\Recent', true],
};
const HEADER_KEYS = new Set(['FROM', 'TO', 'CC', 'BCC', 'SUBJECT']);
const DATE_KEYS: Record<string, ['internaldate' | 'sentdate', DateOp]> = {
  BEFORE: ['internaldate', 'before'], ON: ['internaldate', 'on'], SINCE: ['internaldate', 'since'],
  SENTBEFORE: ['sentdate', 'before'], SENTON: ['sentdate', 'on'], SENTSINCE: ['sentdate', 'since'],
};
const RETURN_OPTS = new Set<string>(['MIN', 'MAX', 'ALL', 'COUNT', 'SAVE', 'PARTIAL']);
const isKeyChar = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isSeqStart = (c: number): boolean => (c >= 0x30 && c <= 0x39) || c === 0x2a || c === 0x24;
/** RFC 8474 §7 `objectid`. */
const OBJECTID = /^[A-Za-z0-9_-]{1,255}$/;

/**
 * Parse `[SP "RETURN" SP "(" ... ")"] SP ["CHARSET" SP charset SP] search-key *(SP search-key)`,
 * starting right after the word SEARCH. Does not call `d.end()`. Throws ParseError.
 */
export function parseSearch(d: Decoder): SearchRequest {
  const req: SearchRequest = { key: { type: 'all' } };
  d.sp();
  if (d.maybe('RETURN ')) {
    parseReturn(d, req);
    d.sp();
  }
  if (d.maybe('CHARSET ')) {
    req.charset = d.peekByte() === 0x22 ? d.quoted() : d.atom();
    d.sp();
  }
  req.key = parseKeys(d, req.charset);
  return req;
}

/**
 * `"(" [search-return-opt *(SP search-return-opt)] ")"` after RETURN SP, into
 * `req.returnOptions` / `req.partial`. PARTIAL and ALL together are a client
 * error (RFC 9394 §3.1). Throws ParseError.
 */
export function parseReturn(d: Decoder, req: { returnOptions?: ReturnOption[]; partial?: PartialRange }): void {
  const opts = d.list(() => {
    const at = d.offset;
    const o = d.atom().toUpperCase();
    if (!RETURN_OPTS.has(o)) throw new ParseError('search-return-opt MIN, MAX, ALL, COUNT, SAVE or PARTIAL', at);
    if (o === 'PARTIAL') {
      d.sp();
      req.partial = partialRange(d);
    }
    return o as ReturnOption;
  }, { allowEmpty: true });
  req.returnOptions = [...new Set(opts)];
  if (req.returnOptions.includes('PARTIAL') && req.returnOptions.includes('ALL')) {
    throw new ParseError('RETURN options without ALL: PARTIAL and ALL exclude each other', d.offset);
  }
}

/** RFC 9394 `partial-range-first / partial-range-last`. */
function partialRange(d: Decoder): PartialRange {
  const at = d.offset;
  const negative = d.maybe('-');
  const a = d.nzNumber();
  d.expect(':');
  if (negative) d.expect('-');
  else if (d.peekByte() === 0x2d) throw new ParseError('partial-range: both ends of one sign', d.offset);
  const b = d.nzNumber();
  if (a > 0xffffffff || b > 0xffffffff) throw new ParseError('partial-range within 32 bits', at);
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  return negative ? { lo: -lo, hi: -hi } : { lo, hi };
}

/**
 * `search-key *(SP search-key)` as one key (an `and` of several). `charset`
 * other than UTF-8/US-ASCII makes strings Latin-1 (the handler refuses such
 * charsets with NO [BADCHARSET] anyway). Does not call `d.end()`.
 */
export function parseKeys(d: Decoder, charset: string | undefined): SearchKey {
  const latin1 = charset !== undefined && !/^(utf-8|us-ascii)$/i.test(charset);
  const p = new KeyParser(d, latin1);
  const keys = [p.key()];
  while (d.maybe(' ')) keys.push(p.key());
  return keys.length === 1 ? keys[0]! : { type: 'and', keys };
}

/** `charset SP search-key *(SP search-key)` of SORT and THREAD (RFC 5256 §5: the charset is required). */
export function parseCharsetAndKeys(d: Decoder): { charset: string; key: SearchKey } {
  const charset = d.peekByte() === 0x22 ? d.quoted() : d.atom();
  d.sp();
  return { charset, key: parseKeys(d, charset) };
}

class KeyParser {
  private count = 0;
  constructor(private readonly d: Decoder, private readonly latin1: boolean) {}

  key(): SearchKey {
    const d = this.d;
    if (++this.count > MAX_SEARCH_KEYS) d.fail(`at most ${MAX_SEARCH_KEYS} search keys`);
    const c = d.peekByte();
    if (c === 0x28) return { type: 'and', keys: d.list(() => this.key()) };
    if (isSeqStart(c)) return { type: 'seq', set: d.sequenceSetOrSaved() };
    const at = d.offset;
    const word = d.takeWhile(isKeyChar, 'search-key').toUpperCase();
    const flag = FLAG_KEYS[word];
    if (flag) return { type: 'flag', flag: flag[0], set: flag[1] };
    const date = DATE_KEYS[word];
    if (date) {
      d.sp();
      return { type: date[0], op: date[1], date: d.date() };
    }
    if (HEADER_KEYS.has(word)) {
      d.sp();
      return { type: 'header', field: word.toLowerCase(), value: this.str() };
    }
    switch (word) {
      case 'ALL':
        return { type: 'all' };
      case 'NEW':
        return { type: 'new' };
      case 'OLD':
        return { type: 'old' };
      case 'KEYWORD':
      case 'UNKEYWORD':
        d.sp();
        return { type: 'flag', flag: d.atom(), set: word === 'KEYWORD' };
      case 'HEADER': {
        d.sp();
        const field = d.astring().toLowerCase();
        d.sp();
        return { type: 'header', field, value: this.str() };
      }
      case 'BODY':
      case 'TEXT':
        d.sp();
        return { type: word === 'BODY' ? 'body' : 'text', value: this.str() };
      case 'LARGER':
      case 'SMALLER':
        d.sp();
        return { type: word === 'LARGER' ? 'larger' : 'smaller', size: d.number64() };
      case 'UID':
        d.sp();
        return { type: 'uid', set: d.sequenceSetOrSaved() };
      case 'NOT':
        d.sp();
        return d.nest(() => ({ type: 'not', key: this.key() }));
      case 'OR':
        return d.nest(() => {
          d.sp();
          const a = this.key();
          d.sp();
          return { type: 'or', a, b: this.key() };
        });
      case 'MODSEQ':
        return this.modseq();
      case 'EMAILID':
      case 'THREADID': {
        d.sp();
        const idAt = d.offset;
        const id = d.atom();
        if (!OBJECTID.test(id)) throw new ParseError('objectid (1*255 ALPHA / DIGIT / "_" / "-")', idAt);
        return { type: word === 'EMAILID' ? 'emailid' : 'threadid', id };
      }
      default:
        throw new ParseError('search-key', at);
    }
  }

  /** `search-modsequence` (RFC 7162 §3.1.5): "MODSEQ" [SP entry-name SP entry-type-req] SP mod-sequence-valzer. */
  private modseq(): SearchKey {
    const d = this.d;
    d.sp();
    if (d.peekByte() === 0x22) {
      const at = d.offset;
      const entry = d.quoted();
      if (!entry.toLowerCase().startsWith('/flags/') || entry.length <= 7) throw new ParseError('entry-flag-name "/flags/<flag>"', at);
      d.sp();
      const kat = d.offset;
      const kind = d.atom().toLowerCase();
      if (kind !== 'priv' && kind !== 'shared' && kind !== 'all') throw new ParseError('entry-type-req priv, shared or all', kat);
      d.sp();
      return { type: 'modseq', modseq: d.number64(), entry: { flag: entry.slice(7), kind } };
    }
    return { type: 'modseq', modseq: d.number64() };
  }

  private str(): string {
    return this.latin1 ? this.d.astringBytes().toString('latin1') : this.d.astring();
  }
}

/** Render a key in wire form (for logs and tests); strings are quoted, so they must be quotable. */
export function renderSearchKey(k: SearchKey): string {
  const s = (v: string): string => encAstring(v, { utf8: true }).toString('utf8');
  const date = (x: ImapDate): string => `${x.day}-${MONTHS[x.month - 1]}-${String(x.year).padStart(4, '0')}`;
  switch (k.type) {
    case 'all':
      return 'ALL';
    case 'new':
      return 'NEW';
    case 'old':
      return 'OLD';
    case 'flag': {
      const named = Object.entries(FLAG_KEYS).find(([, [f, set]]) => f === k.flag && set === k.set);
      if (named) return named[0];
      return `${k.set ? 'KEYWORD' : 'UNKEYWORD'} ${k.flag}`;
    }
    case 'header':
      return `HEADER ${s(k.field)} ${s(k.value)}`;
    case 'body':
      return `BODY ${s(k.value)}`;
    case 'text':
      return `TEXT ${s(k.value)}`;
    case 'internaldate':
      return `${k.op.toUpperCase()} ${date(k.date)}`;
    case 'sentdate':
      return `SENT${k.op.toUpperCase()} ${date(k.date)}`;
    case 'larger':
      return `LARGER ${k.size}`;
    case 'smaller':
      return `SMALLER ${k.size}`;
    case 'uid':
      return `UID ${k.set.toString()}`;
    case 'seq':
      return k.set.toString();
    case 'modseq':
      return k.entry
        ? `MODSEQ ${encQuoted('/flags/' + k.entry.flag).toString('latin1')} ${k.entry.kind} ${k.modseq}`
        : `MODSEQ ${k.modseq}`;
    case 'emailid':
      return `EMAILID ${k.id}`;
    case 'threadid':
      return `THREADID ${k.id}`;
    case 'not':
      return `NOT ${renderSearchKey(k.key)}`;
    case 'or':
      return `OR ${renderSearchKey(k.a)} ${renderSearchKey(k.b)}`;
    case 'and':
      return `(${k.keys.map(renderSearchKey).join(' ')})`;
  }
}
