/**
 * RFC 5322 §3.4 address lists → IMAP ENVELOPE address structures (RFC 9051 §7.5.2,
 * `address = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"`).
 *
 * Byte-preserving: names, local parts and domains are the header bytes (quoted
 * strings unquoted, encoded words NOT decoded — the client decodes them). Group
 * syntax `name: a, b;` becomes a start marker (host null, mailbox = group name)
 * and an end marker (all null). An address without a display name takes its name
 * from a comment, the Usenet style `user@host (Real Name)`. A missing local part
 * or domain is an empty Buffer, never null, because a null host means "group".
 * Never throws: garbage gives a best-effort list, possibly null.
 */
import { MAX_ADDRESSES } from './limits.js';

export interface Address {
  /** Display name (phrase), raw bytes; null when there is none. */
  name: Buffer | null;
  /** Source route; obsolete (RFC 5322 §4.4) and always reported as null. */
  adl: null;
  /** Local part, or the group name for a group start marker, or null for a group end. */
  mailbox: Buffer | null;
  /** Domain; null only for group markers. */
  host: Buffer | null;
}

type TokKind = 'word' | 'special' | 'comment';

interface Tok {
  kind: TokKind;
  text: string;
  /** White space (or a comment) stood before this token. */
  space: boolean;
}

const SPECIALS = new Set(['<', '>', '@', ',', ';', ':', '.']);
/** Characters that end an atom run. */
const ATOM_STOP = new Set([...SPECIALS, ' ', '\t', '\r', '\n', '(', ')', '"', '[']);

function tokenize(s: string): Tok[] {
  const toks: Tok[] = [];
  let space = false;
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      space = true;
      i++;
    } else if (c === '(') {
      let depth = 0;
      let text = '';
      for (; i < s.length; i++) {
        const d = s[i]!;
        if (d === '\\' && i + 1 < s.length) {
          text += s[++i];
          continue;
        }
        if (d === '(' && depth++ === 0) continue;
        if (d === ')' && --depth === 0) break;
        text += d;
      }
      i++;
      toks.push({ kind: 'comment', text: text.trim(), space });
      space = true;
    } else if (c === '"') {
      let text = '';
      for (i++; i < s.length; i++) {
        const d = s[i]!;
        if (d === '\\' && i + 1 < s.length) text += s[++i];
        else if (d === '"') break;
        else if (d !== '\r' && d !== '\n') text += d;
      }
      i++;
      toks.push({ kind: 'word', text, space });
      space = false;
    } else if (c === '[') {
      const close = s.indexOf(']', i);
      const end = close < 0 ? s.length : close + 1;
      toks.push({ kind: 'word', text: s.slice(i, end), space });
      i = end;
      space = false;
    } else if (SPECIALS.has(c)) {
      toks.push({ kind: 'special', text: c, space });
      i++;
      space = false;
    } else {
      const start = i;
      while (i < s.length && !ATOM_STOP.has(s[i]!)) i++;
      if (i === start) i++; // a stray ']' or similar: one char as a word
      toks.push({ kind: 'word', text: s.slice(start, i), space });
      space = false;
    }
  }
  return toks;
}

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Phrase text: words and specials joined, one space where white space stood. */
function phrase(toks: Tok[]): string {
  let out = '';
  for (const t of toks) {
    if (t.kind === 'comment') continue;
    if (t.space && out !== '') out += ' ';
    out += t.text;
  }
  return out;
}

/** Local part and domain from an addr-spec token run (split at the last '@'). */
function addrSpec(toks: Tok[]): { mailbox: string; host: string } {
  const words = toks.filter((t) => t.kind !== 'comment');
  let at = -1;
  for (let k = words.length - 1; k >= 0; k--) {
    if (words[k]!.kind === 'special' && words[k]!.text === '@') {
      at = k;
      break;
    }
  }
  const join = (ts: Tok[]): string => ts.map((t) => t.text).join('');
  if (at < 0) return { mailbox: join(words), host: '' };
  return { mailbox: join(words.slice(0, at)), host: join(words.slice(at + 1)) };
}

function firstComment(toks: Tok[]): string | null {
  for (const t of toks) if (t.kind === 'comment' && t.text !== '') return t.text;
  return null;
}

function itemToAddress(item: Tok[]): Address | null {
  if (!item.some((t) => t.kind !== 'comment')) return null;
  const lt = item.findIndex((t) => t.kind === 'special' && t.text === '<');
  let name: string | null;
  let spec: { mailbox: string; host: string };
  if (lt >= 0) {
    let gt = item.findIndex((t, k) => k > lt && t.kind === 'special' && t.text === '>');
    if (gt < 0) gt = item.length;
    let inner = item.slice(lt + 1, gt);
    // Obsolete source route "@a,@b:" (RFC 5322 §4.4): dropped, adl is reported as NIL.
    const colon = inner.findIndex((t) => t.kind === 'special' && t.text === ':');
    if (colon >= 0) inner = inner.slice(colon + 1);
    spec = addrSpec(inner);
    name = phrase(item.slice(0, lt)) || null;
    if (name === null) name = firstComment(item);
  } else {
    spec = addrSpec(item);
    name = firstComment(item);
  }
  return { name: name === null ? null : bytes(name), adl: null, mailbox: bytes(spec.mailbox), host: bytes(spec.host) };
}

/**
 * Parses an address header value (unfolded bytes) into ENVELOPE addresses, or
 * null when it holds none (ENVELOPE then says NIL). At most MAX_ADDRESSES entries.
 */
export function parseAddressList(raw: Buffer): Address[] | null {
  const simple = singleSimpleAddress(raw);
  return simple !== undefined ? [simple] : parseAddressListFully(raw);
}

/** `parseAddressList` without its fast path for the common single-address shapes (exported for the property test). */
export function parseAddressListFully(raw: Buffer): Address[] | null {
  const toks = tokenize(raw.toString('latin1'));
  const out: Address[] = [];
  let inGroup = false;
  let i = 0;
  while (i < toks.length && out.length < MAX_ADDRESSES) {
    const item: Tok[] = [];
    let inAngle = false;
    let delim: string | null = null;
    for (; i < toks.length; i++) {
      const t = toks[i]!;
      if (t.kind === 'special') {
        if (!inAngle && (t.text === ',' || t.text === ';')) {
          delim = t.text;
          i++;
          break;
        }
        if (t.text === ':' && !inAngle && !inGroup && !item.some((x) => x.kind === 'special' && (x.text === '@' || x.text === '<'))) {
          out.push({ name: null, adl: null, mailbox: bytes(phrase(item)), host: null });
          inGroup = true;
          item.length = 0;
          continue;
        }
        if (t.text === '<') inAngle = true;
        else if (t.text === '>') inAngle = false;
      }
      item.push(t);
    }
    const a = itemToAddress(item);
    if (a !== null) out.push(a);
    if (delim === ';' && inGroup) {
      out.push({ name: null, adl: null, mailbox: null, host: null });
      inGroup = false;
    }
  }
  if (inGroup) out.push({ name: null, adl: null, mailbox: null, host: null });
  return out.length === 0 ? null : out.slice(0, MAX_ADDRESSES);
}

/** RFC 5322 atext (ASCII only), and '.', which dot-atoms and plain phrases also hold. */
const DOT_ATEXT = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+/=?^_`{|}~-.") DOT_ATEXT[c.charCodeAt(0)] = 1;
const SP = 0x20;
const HT = 0x09;

/** Index past the last byte of [from, to) that is not SP or HT. */
function trimRight(b: Buffer, from: number, to: number): number {
  while (to > from && (b[to - 1] === SP || b[to - 1] === HT)) to--;
  return to;
}

/** `local@host` of dot-atext with exactly one '@' and non-empty sides, in b[from, to); -1 if not. */
function simpleSpecAt(b: Buffer, from: number, to: number): number {
  let at = -1;
  for (let i = from; i < to; i++) {
    const c = b[i]!;
    if (c === 0x40) {
      if (at >= 0) return -1;
      at = i;
    } else if (DOT_ATEXT[c] !== 1) return -1;
  }
  return at > from && at < to - 1 ? at : -1;
}

/**
 * The three shapes nearly every news article's From has, parsed without the
 * tokenizer (a listing parses one per article): `local@host`,
 * `Plain Name <local@host>` and `local@host (Name)`. Undefined when the value
 * is anything else (then the full parser runs); a property test checks both
 * give the same answer wherever this one answers.
 */
function singleSimpleAddress(b: Buffer): Address | undefined {
  const end = trimRight(b, 0, b.length);
  if (end === 0) return undefined;
  const copy = (from: number, to: number): Buffer => Buffer.from(b.subarray(from, to));
  if (b[end - 1] === 0x3e /* > */) {
    // Plain Name <local@host>: the name is dot-atext words with single spaces
    const lt = b.lastIndexOf(0x3c /* < */, end - 1);
    if (lt <= 0) return undefined;
    const at = simpleSpecAt(b, lt + 1, end - 1);
    if (at < 0) return undefined;
    const nameEnd = trimRight(b, 0, lt);
    if (nameEnd === 0) return undefined;
    for (let i = 0; i < nameEnd; i++) {
      const c = b[i]!;
      if (c === SP ? i === 0 || b[i - 1] === SP : DOT_ATEXT[c] !== 1) return undefined;
    }
    return { name: copy(0, nameEnd), adl: null, mailbox: copy(lt + 1, at), host: copy(at + 1, end - 1) };
  }
  if (b[end - 1] === 0x29 /* ) */) {
    // local@host (Name): the Usenet style, the name from the comment
    const open = b.indexOf(0x28 /* ( */);
    if (open < 0) return undefined;
    const specEnd = trimRight(b, 0, open);
    if (specEnd === open) return undefined; // no white space before the comment
    const at = simpleSpecAt(b, 0, specEnd);
    if (at < 0) return undefined;
    let from = open + 1;
    let to = end - 1;
    for (let i = from; i < to; i++) {
      const c = b[i]!;
      if (c < 0x20 || c > 0x7e || c === 0x28 || c === 0x29 || c === 0x5c) return undefined;
    }
    while (from < to && b[from] === SP) from++;
    while (to > from && b[to - 1] === SP) to--;
    return { name: from < to ? copy(from, to) : null, adl: null, mailbox: copy(0, at), host: copy(at + 1, specEnd) };
  }
  const at = simpleSpecAt(b, 0, end);
  return at < 0 ? undefined : { name: null, adl: null, mailbox: copy(0, at), host: copy(at + 1, end) };
}
