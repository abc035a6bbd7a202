/**
 * FETCH attribute list → AST (RFC 9051 §6.4.5 and §9 `fetch-att`, RFC 3501
 * RFC822.* items, RFC 3516 BINARY, RFC 7162 MODSEQ and fetch modifiers,
 * RFC 8474 EMAILID/THREADID, RFC 8970 PREVIEW [(LAZY)]).
 *
 *     C: A5 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)]<0.512>) (CHANGEDSINCE 12345 VANISHED)
 *     parseFetchItems(d) after "1:* " gives two items; the second answers as
 *     `BODY[HEADER.FIELDS (SUBJECT FROM)]<0>`, with changedSince 12345, vanished true.
 *
 * Each item carries `name`, the exact text the server must put before its
 * value in the FETCH response (BODY.PEEK answers as BODY, BINARY.PEEK as
 * BINARY, a partial answers `<origin>` only — RFC 9051 §7.5.2), and
 * `setsSeen`, true for items that set \Seen on a read-write mailbox.
 * Semantic checks left to the handler: VANISHED needs UID FETCH and
 * CHANGEDSINCE (RFC 7162 §3.2.6); MIME needs a part number (checked here).
 */
import type { Decoder } from './decoder.js';
import { astring } from './encoder.js';
import { ParseError } from './errors.js';
import { MAX_FETCH_ITEMS } from '../limits.js';

export type SectionText = 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';

/** `section-spec`: part path (empty = whole message) and optional text specifier. */
export interface Section {
  part: number[];
  text?: SectionText;
  /** Field names for HEADER.FIELDS[.NOT], as the client wrote them. */
  fields?: string[];
}

/** `partial`: `<origin.length>`. */
export interface Partial {
  origin: number;
  length: number;
}

export type SimpleFetchType =
  | 'ENVELOPE' | 'FLAGS' | 'INTERNALDATE' | 'RFC822.SIZE' | 'BODY' | 'BODYSTRUCTURE'
  | 'UID' | 'MODSEQ' | 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT' | 'EMAILID' | 'THREADID';

interface ItemBase {
  /** Name to use in the FETCH response. */
  name: string;
  setsSeen: boolean;
}

export type FetchItem =
  | (ItemBase & { type: SimpleFetchType })
  | (ItemBase & { type: 'BODY[]'; peek: boolean; section: Section; partial?: Partial })
  | (ItemBase & { type: 'BINARY'; peek: boolean; part: number[]; partial?: Partial })
  | (ItemBase & { type: 'BINARY.SIZE'; part: number[] })
  /** RFC 8970 §3: `lazy` answers NIL rather than compute a preview not at hand. */
  | (ItemBase & { type: 'PREVIEW'; lazy: boolean });

export type FetchMacro = 'ALL' | 'FAST' | 'FULL';

export interface FetchRequest {
  /** Items in request order, macros expanded. */
  items: FetchItem[];
  /** Set when the client used a macro instead of a list. */
  macro?: FetchMacro;
  /** CHANGEDSINCE modifier (RFC 7162 §3.1.4.1). */
  changedSince?: number;
  /** VANISHED modifier (RFC 7162 §3.2.6). */
  vanished: boolean;
}

const SIMPLE: ReadonlySet<string> = new Set<SimpleFetchType>([
  'ENVELOPE', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'BODY', 'BODYSTRUCTURE',
  'UID', 'MODSEQ', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT', 'EMAILID', 'THREADID',
]);
const MACROS: Record<FetchMacro, SimpleFetchType[]> = {
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};
const isNameChar = (c: number): boolean =>
  (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2e;

const simple = (type: SimpleFetchType): FetchItem => ({ type, name: type, setsSeen: type === 'RFC822' || type === 'RFC822.TEXT' });

/**
 * Parse `("ALL" / "FULL" / "FAST" / fetch-att / "(" fetch-att *(SP fetch-att) ")")
 * [SP "(" fetch-modifier *(SP fetch-modifier) ")"]`. Starts at the first
 * attribute; does not call `d.end()`. Throws ParseError.
 */
export function parseFetchItems(d: Decoder): FetchRequest {
  const req: FetchRequest = { items: [], vanished: false };
  if (d.peekByte() === 0x28) {
    req.items = d.list(() => fetchAtt(d));
    if (req.items.length > MAX_FETCH_ITEMS) d.fail(`at most ${MAX_FETCH_ITEMS} fetch attributes`);
  } else {
    const at = d.offset;
    const name = d.takeWhile(isNameChar, 'fetch attribute').toUpperCase();
    if (name in MACROS && d.peekByte() !== 0x5b) {
      req.macro = name as FetchMacro;
      req.items = MACROS[req.macro].map(simple);
    } else {
      req.items = [fetchAttNamed(d, name, at)];
    }
  }
  if (d.maybe(' (')) {
    const seen = new Set<string>();
    do {
      const at = d.offset;
      const mod = d.atom().toUpperCase();
      if (seen.has(mod)) throw new ParseError(`fetch modifier ${mod} once only`, at);
      seen.add(mod);
      if (mod === 'CHANGEDSINCE') {
        d.sp();
        req.changedSince = d.number64();
      } else if (mod === 'VANISHED') {
        req.vanished = true;
      } else {
        throw new ParseError('fetch-modifier CHANGEDSINCE or VANISHED', at);
      }
    } while (d.maybe(' '));
    d.expect(')');
  }
  return req;
}

/** One `fetch-att`. */
export function fetchAtt(d: Decoder): FetchItem {
  const at = d.offset;
  return fetchAttNamed(d, d.takeWhile(isNameChar, 'fetch attribute').toUpperCase(), at);
}

function fetchAttNamed(d: Decoder, name: string, at: number): FetchItem {
  const bracket = d.peekByte() === 0x5b;
  if (!bracket) {
    if (SIMPLE.has(name)) return simple(name as SimpleFetchType);
    if (name === 'PREVIEW') return preview(d);
    throw new ParseError('fetch attribute', at);
  }
  switch (name) {
    case 'BODY':
    case 'BODY.PEEK': {
      const peek = name === 'BODY.PEEK';
      const section = parseSection(d);
      const partial = maybePartial(d);
      const item: FetchItem = { type: 'BODY[]', peek, section, name: `BODY[${renderSection(section)}]`, setsSeen: !peek };
      return withPartial(item, partial);
    }
    case 'BINARY':
    case 'BINARY.PEEK': {
      const peek = name === 'BINARY.PEEK';
      const part = sectionBinary(d);
      const partial = maybePartial(d);
      return withPartial({ type: 'BINARY', peek, part, name: `BINARY[${part.join('.')}]`, setsSeen: !peek }, partial);
    }
    case 'BINARY.SIZE': {
      const part = sectionBinary(d);
      return { type: 'BINARY.SIZE', part, name: `BINARY.SIZE[${part.join('.')}]`, setsSeen: false };
    }
    default:
      throw new ParseError('BODY[, BODY.PEEK[, BINARY[, BINARY.PEEK[ or BINARY.SIZE[', at);
  }
}

/**
 * After `PREVIEW`: `[SP "(" preview-mod *(SP preview-mod) ")"]` with preview-mod
 * `LAZY` (RFC 8970 §5). Only a list starting with LAZY is taken, so that
 * `FETCH 1 PREVIEW (CHANGEDSINCE 5)` keeps its fetch modifiers.
 */
function preview(d: Decoder): FetchItem {
  let lazy = false;
  if (d.peek(' (LAZY')) {
    d.expect(' (');
    do {
      const at = d.offset;
      if (d.atom().toUpperCase() !== 'LAZY') throw new ParseError('preview-mod LAZY', at);
      lazy = true;
    } while (d.maybe(' '));
    d.expect(')');
  }
  return { type: 'PREVIEW', lazy, name: 'PREVIEW', setsSeen: false };
}

function withPartial<T extends FetchItem & { partial?: Partial }>(item: T, partial: Partial | undefined): T {
  if (partial) {
    item.partial = partial;
    item.name += `<${partial.origin}>`;
  }
  return item;
}

/** `section`: "[" [section-spec] "]". */
export function parseSection(d: Decoder): Section {
  d.expect('[');
  const section: Section = { part: [] };
  if (d.maybe(']')) return section;
  let dot = false;
  while (d.peekByte() >= 0x30 && d.peekByte() <= 0x39) {
    section.part.push(d.nzNumber());
    dot = d.maybe('.');
    if (!dot) break;
  }
  const at = d.offset;
  if (section.part.length === 0 || dot) {
    const word = d.takeWhile(isNameChar, 'section text').toUpperCase();
    switch (word) {
      case 'HEADER':
      case 'TEXT':
        section.text = word;
        break;
      case 'MIME':
        if (section.part.length === 0) throw new ParseError('part number before MIME', at);
        section.text = word;
        break;
      case 'HEADER.FIELDS':
      case 'HEADER.FIELDS.NOT':
        section.text = word;
        d.sp();
        section.fields = d.list(() => d.astring());
        break;
      default:
        throw new ParseError('HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT, TEXT or MIME', at);
    }
  }
  d.expect(']');
  return section;
}

/** `section-binary`: "[" [section-part] "]". */
function sectionBinary(d: Decoder): number[] {
  d.expect('[');
  const part: number[] = [];
  if (!d.maybe(']')) {
    do part.push(d.nzNumber());
    while (d.maybe('.'));
    d.expect(']');
  }
  return part;
}

/** `partial`: "<" number64 "." nz-number64 ">". */
function maybePartial(d: Decoder): Partial | undefined {
  if (!d.maybe('<')) return undefined;
  const origin = d.number64();
  d.expect('.');
  const at = d.offset;
  const length = d.number64();
  if (length === 0) throw new ParseError('nz-number64', at);
  d.expect('>');
  return { origin, length };
}

/** Section spec as it appears inside `BODY[...]` in a response. */
export function renderSection(s: Section): string {
  let out = s.part.join('.');
  if (s.text) {
    if (out) out += '.';
    out += s.text;
    if (s.fields) out += ' (' + s.fields.map((f) => astring(f).toString('utf8')).join(' ') + ')';
  }
  return out;
}
