/**
 * Parsing of OVER/XOVER lines (RFC 3977 §8.3.2, §8.4):
 *
 *   3000234<TAB>Subject<TAB>From<TAB>Date<TAB><msg-id><TAB>References<TAB>bytes<TAB>lines<TAB>Xref: host g:1
 *
 * The first seven fields after the number are fixed; further fields come from
 * LIST OVERVIEW.FMT, full ones ("Xref:full") carry their header name.
 *
 * Two forms: `parseOverLine` keeps every field's bytes raw in `raw` beside
 * UTF-8 decoded strings (exact bytes: use `raw`); `parseOverRecord` (the bulk
 * path: a first SELECT reads a whole group) makes only the record, from a
 * range of the response's chunk, with one string decoded per line and the
 * fields cut out of it: no Buffer or array per line or field. Both give the
 * same strings and numbers for every input (a line with bytes that are not
 * UTF-8, or odd bytes in a number field, takes the first form's way).
 */
import type { OverLine, OverRecord } from './types.js';

const TAB = 0x09;

function splitTabs(line: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const t = line.indexOf(TAB, pos);
    if (t < 0) {
      out.push(line.subarray(pos));
      return out;
    }
    out.push(line.subarray(pos, t));
    pos = t + 1;
  }
}

function toInt(b: Buffer | undefined): number {
  if (!b) return 0;
  const n = Number(b.toString('latin1').trim());
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

const XREF_PREFIX = /^xref:\s?/i;

/** Parse one overview line; undefined if it has no valid article number (skipped). */
export function parseOverLine(line: Buffer): OverLine | undefined {
  const fields = splitTabs(line);
  const numText = fields[0]!.toString('latin1');
  if (!/^[0-9]{1,20}$/.test(numText)) return undefined;
  const number = Number(numText);
  if (!Number.isSafeInteger(number)) return undefined;
  const raw = fields.slice(1);
  const s = (i: number) => (raw[i] ? raw[i]!.toString('utf8') : '');
  const rec: OverLine = {
    number,
    subject: s(0),
    from: s(1),
    date: s(2),
    messageId: s(3),
    references: s(4),
    bytes: toInt(raw[5]),
    lines: toInt(raw[6]),
    raw,
  };
  for (let i = 7; i < raw.length; i++) {
    const text = raw[i]!.toString('utf8');
    if (XREF_PREFIX.test(text)) {
      rec.xref = text.replace(XREF_PREFIX, '');
      break;
    }
  }
  return rec;
}

/** The value of a full overview field (`Name: value`, RFC 3977 §8.4.2) without its name (`lname`: lower case, with the colon), trimmed; '' for an empty field. */
export function fullFieldValue(text: string | undefined, lname: string): string {
  if (text === undefined || text.length === 0) return '';
  return (text.slice(0, lname.length).toLowerCase() === lname ? text.slice(lname.length) : text).trim();
}

/** The line being cut by `parseOverRecord` and where its next field starts (-1: no more fields). */
let cutText = '';
let cutAt = -1;

/** The next field of `cutText` ('' when there is none). */
function cut(): string {
  const p = cutAt;
  if (p < 0) return '';
  const t = cutText.indexOf('\t', p);
  if (t < 0) {
    cutAt = -1;
    return p === 0 ? cutText : cutText.slice(p);
  }
  cutAt = t + 1;
  return cutText.slice(p, t);
}

/** `asciiInt` of the next field of `cutText`, read in place (no string made for the common all-digits field). */
function cutInt(): number {
  const p = cutAt;
  if (p < 0) return asciiInt('');
  const t = cutText.indexOf('\t', p);
  const end = t < 0 ? cutText.length : t;
  cutAt = t < 0 ? -1 : t + 1;
  const len = end - p;
  if (len === 0 || len > 15) return asciiInt(cutText.slice(p, end));
  let v = 0;
  for (let i = p; i < end; i++) {
    const c = cutText.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return asciiInt(cutText.slice(p, end)); // not digits only: the general reading
    v = v * 10 + (c - 0x30);
  }
  return v;
}

/** Length of the `Xref:` prefix (with one optional space, as XREF_PREFIX) at the start of `f`, or -1 (no match array made). */
function xrefPrefix(f: string): number {
  const c = f.charCodeAt(0);
  if ((c !== 0x78 && c !== 0x58) || !XREF_PREFIX.test(f)) return -1;
  return f.length > 5 && SPACE.test(f[5]!) ? 6 : 5;
}

const SPACE = /^\s$/;

/** Number(text.trim()) as `toInt` gives it when `text` is ASCII; -1 when it is not (then `toInt` must read the bytes). */
function asciiInt(text: string): number {
  let digitsOnly = text.length > 0 && text.length <= 15; // then the value is exact and Number() would give it too
  let v = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return -1;
    if (digitsOnly) {
      if (c >= 0x30 && c <= 0x39) v = v * 10 + (c - 0x30);
      else digitsOnly = false;
    }
  }
  if (digitsOnly) return v;
  const n = Number(text.trim());
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

/**
 * Parse the overview line in bytes [start, end) of `buf` (no CR LF) into a
 * record: the fields of `parseOverLine`, and with `inReplyTo` ≥ 0 (the index
 * of `In-Reply-To:full` among the fields after the number) its value,
 * `fullFieldValue` of that field. Undefined if the line has no valid article
 * number (skipped). Strings are new; nothing refers to `buf` afterwards.
 */
export function parseOverRecord(buf: Buffer, start: number, end: number, inReplyTo = -1): OverRecord | undefined {
  const text = buf.toString('utf8', start, end);
  // U+FFFD: bytes that are not UTF-8 (or the character itself); then per-field decoding is the reference
  if (text.indexOf('\ufffd') >= 0) return slowRecord(buf.subarray(start, end), inReplyTo);
  let numEnd = text.indexOf('\t');
  if (numEnd < 0) numEnd = text.length;
  if (numEnd < 1 || numEnd > 20) return undefined;
  let number = 0;
  for (let i = 0; i < numEnd; i++) {
    const c = text.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return undefined;
    number = number * 10 + c;
  }
  if (numEnd > 15) number = Number(text.slice(0, numEnd)); // beyond exact sums; rejected below if unsafe
  if (!Number.isSafeInteger(number)) return undefined;
  cutText = text;
  cutAt = numEnd < text.length ? numEnd + 1 : -1;
  const subject = cut();
  const from = cut();
  const date = cut();
  const messageId = cut();
  const references = cut();
  const bytes = cutInt();
  const lines = cutInt();
  if (bytes < 0 || lines < 0) {
    cutText = '';
    return slowRecord(buf.subarray(start, end), inReplyTo);
  }
  if (inReplyTo >= 0 && inReplyTo < 7) {
    cutText = '';
    return slowRecord(buf.subarray(start, end), inReplyTo); // not where LIST OVERVIEW.FMT puts it
  }
  let xref: string | undefined;
  let irt: string | undefined;
  for (let i = 7; cutAt >= 0 && (xref === undefined || (inReplyTo >= i && irt === undefined)); i++) {
    const f = cut();
    if (i === inReplyTo) irt = f;
    if (xref === undefined) {
      const k = xrefPrefix(f);
      if (k >= 0) xref = f.slice(k);
    }
  }
  cutText = '';
  const rec: OverRecord = { number, subject, from, date, messageId, references, bytes, lines };
  if (xref !== undefined) rec.xref = xref;
  if (inReplyTo >= 0) rec.inReplyTo = fullFieldValue(irt, 'in-reply-to:');
  return rec;
}

/** `parseOverRecord` by way of `parseOverLine`. */
function slowRecord(line: Buffer, inReplyTo: number): OverRecord | undefined {
  const o = parseOverLine(line);
  if (o === undefined) return undefined;
  const rec: OverRecord = {
    number: o.number, subject: o.subject, from: o.from, date: o.date, messageId: o.messageId,
    references: o.references, bytes: o.bytes, lines: o.lines,
  };
  if (o.xref !== undefined) rec.xref = o.xref;
  if (inReplyTo >= 0) rec.inReplyTo = fullFieldValue(o.raw[inReplyTo]?.toString('utf8'), 'in-reply-to:');
  return rec;
}

/** Parse one HDR/XHDR line "number value"; undefined if malformed (skipped). */
export function parseHdrLine(line: Buffer): { number: number; value: Buffer } | undefined {
  const sp = line.indexOf(0x20);
  const numText = (sp < 0 ? line : line.subarray(0, sp)).toString('latin1');
  if (!/^[0-9]{1,20}$/.test(numText)) return undefined;
  const number = Number(numText);
  if (!Number.isSafeInteger(number)) return undefined;
  return { number, value: sp < 0 ? Buffer.alloc(0) : line.subarray(sp + 1) };
}
