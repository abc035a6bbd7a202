/**
 * Structured MIME header values with parameters: Content-Type (RFC 2045 §5.1)
 * and Content-Disposition (RFC 2183), with RFC 2231 parameter continuations,
 * charsets and languages decoded to UTF-8 strings.
 *
 * Tolerant by design (never throws): comments are dropped where white space may
 * stand, a parenthesis inside an unquoted value is kept (`name=a(1).pdf`), an
 * unterminated quoted string runs to the end, parameters without `=` are ignored.
 * RFC 2047 encoded words inside parameter values (illegal but common) are left
 * as written; IMAP clients decode them themselves.
 */
import { isUtf8 } from 'node:buffer';
import { decode as decodeCharset } from 'libmime/lib/charset.js';

export interface ParamValue {
  /** The main value, lower-case, white space and comments removed (`text/plain`, `attachment`). */
  value: string;
  /** Parameters in order of first appearance; names lower-case, values decoded to UTF-8. */
  params: [string, string][];
}

/** Bytes as text: UTF-8 when they are valid UTF-8, else latin-1 (which never fails). */
export function bytesToText(b: Buffer): string {
  return isUtf8(b) ? b.toString('utf8') : b.toString('latin1');
}

function isWsp(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

/** Skips a (nested) comment starting at s[i] === '('; returns the index after it. */
function skipComment(s: string, i: number): number {
  let depth = 0;
  for (; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  return s.length;
}

function skipCfws(s: string, i: number): number {
  while (i < s.length) {
    if (isWsp(s[i])) i++;
    else if (s[i] === '(') i = skipComment(s, i);
    else break;
  }
  return i;
}

/** Reads a quoted string starting at s[i] === '"'; returns [content, next index]. */
function readQuoted(s: string, i: number): [string, number] {
  let out = '';
  for (i++; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) out += s[++i];
    else if (c === '"') return [out, i + 1];
    else if (c !== '\r' && c !== '\n') out += c;
  }
  return [out, i];
}

/** Parses a parameterised value. `raw` is the unfolded header value bytes. */
export function parseParamValue(raw: Buffer): ParamValue {
  const s = raw.toString('latin1');
  let i = skipCfws(s, 0);
  let value = '';
  while (i < s.length && s[i] !== ';') {
    if (s[i] === '(') i = skipComment(s, i);
    else if (s[i] === '"') {
      const [q, n] = readQuoted(s, i);
      value += q;
      i = n;
    } else {
      if (!isWsp(s[i])) value += s[i];
      i++;
    }
  }
  const entries: [string, string][] = [];
  while (i < s.length) {
    i = skipCfws(s, i + 1); // past ';'
    const nameStart = i;
    while (i < s.length && s[i] !== '=' && s[i] !== ';' && !isWsp(s[i])) i++;
    const name = s.slice(nameStart, i).toLowerCase();
    i = skipCfws(s, i);
    if (s[i] !== '=' || name === '') {
      while (i < s.length && s[i] !== ';') i = s[i] === '"' ? readQuoted(s, i)[1] : i + 1;
      continue;
    }
    i = skipCfws(s, i + 1);
    let v = '';
    if (s[i] === '"') {
      [v, i] = readQuoted(s, i);
    } else {
      const vs = i;
      while (i < s.length && s[i] !== ';' && !isWsp(s[i])) i++;
      v = s.slice(vs, i);
    }
    entries.push([name, v]);
    // Anything up to the next ';' (comments, junk) is ignored.
    while (i < s.length && s[i] !== ';') i = s[i] === '(' ? skipComment(s, i) : s[i] === '"' ? readQuoted(s, i)[1] : i + 1;
  }
  return { value: value.toLowerCase(), params: combine2231(entries) };
}

interface Section {
  n: number;
  extended: boolean;
  value: string;
}

/** RFC 2231 §3–4: joins `name*0*=`, `name*1=` …, decodes `charset'lang'%xx` values. */
function combine2231(entries: [string, string][]): [string, string][] {
  const order: string[] = [];
  const plain = new Map<string, string>();
  const ext = new Map<string, Section[]>();
  for (const [rawName, v] of entries) {
    let name = rawName;
    let extended = false;
    if (name.endsWith('*')) {
      extended = true;
      name = name.slice(0, -1);
    }
    const m = /^(.+)\*(\d{1,6})$/.exec(name);
    const base = m ? m[1]! : name;
    if (!order.includes(base)) order.push(base);
    if (m || extended) {
      const list = ext.get(base) ?? [];
      list.push({ n: m ? Number(m[2]) : 0, extended, value: v });
      ext.set(base, list);
    } else if (!plain.has(base)) {
      plain.set(base, v);
    }
  }
  const out: [string, string][] = [];
  for (const base of order) {
    const sections = ext.get(base);
    if (sections) out.push([base, decodeSections(sections)]);
    else out.push([base, bytesToText(Buffer.from(plain.get(base)!, 'latin1'))]);
  }
  return out;
}

function decodeSections(sections: Section[]): string {
  sections.sort((a, b) => a.n - b.n);
  let charset: string | null = null;
  const bytes: Buffer[] = [];
  sections.forEach((sec, idx) => {
    let v = sec.value;
    if (idx === 0 && sec.extended) {
      const q1 = v.indexOf("'");
      const q2 = q1 < 0 ? -1 : v.indexOf("'", q1 + 1);
      if (q2 >= 0) {
        charset = v.slice(0, q1) || null;
        v = v.slice(q2 + 1);
      }
    }
    bytes.push(sec.extended ? percentDecode(v) : Buffer.from(v, 'latin1'));
  });
  const all = Buffer.concat(bytes);
  if (charset !== null) {
    try {
      return decodeCharset(all, charset);
    } catch {
      return bytesToText(all);
    }
  }
  return bytesToText(all);
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

function percentDecode(v: string): Buffer {
  const src = Buffer.from(v, 'latin1');
  const out = Buffer.allocUnsafe(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const b = src[i]!;
    if (b === 0x25 && i + 2 < src.length) {
      const h = hexVal(src[i + 1]!);
      const l = hexVal(src[i + 2]!);
      if (h >= 0 && l >= 0) {
        out[n++] = (h << 4) | l;
        i += 2;
        continue;
      }
    }
    out[n++] = b;
  }
  return out.subarray(0, n);
}
