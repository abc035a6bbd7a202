/**
 * The MIME part tree (what BODYSTRUCTURE, BODY[section] and BINARY need) and the
 * mapping from a part's MIME header fields to its descriptive members
 * (RFC 2045 §5–8, RFC 2183, RFC 3066 Content-Language, RFC 1864 Content-MD5,
 * RFC 2557 Content-Location; field order of RFC 9051 §7.5.2 BODYSTRUCTURE).
 *
 * Raw header values (id, description, location, md5, envelope strings) are
 * Buffers as written, since IMAP sends them as is; decoded values (type names,
 * parameters) are strings. `serialize.ts` turns the tree into JSON and back.
 */
import type { Envelope } from './envelope.js';
import { findField, type HeaderField } from './header.js';
import { parseParamValue } from './params.js';
import { normalizeEncoding } from './decode.js';

export interface Disposition {
  /** Disposition type, lower-case (`inline`, `attachment`, ...). */
  type: string;
  params: [string, string][];
}

export interface MimePart {
  /** Media type, lower-case (`text`, `multipart`, ...). */
  type: string;
  /** Media subtype, lower-case. */
  subtype: string;
  /** Content-Type parameters: names lower-case, values RFC 2231-decoded to UTF-8. */
  params: [string, string][];
  /** Content-ID, raw. */
  id: Buffer | null;
  /** Content-Description, raw (encoded words not decoded). */
  description: Buffer | null;
  /** Content-Transfer-Encoding, upper-case; `7BIT` when absent. */
  encoding: string;
  disposition: Disposition | null;
  /** Content-Language tags, or null when absent. */
  language: string[] | null;
  /** Content-Location, raw. */
  location: Buffer | null;
  /** Content-MD5, raw. */
  md5: Buffer | null;
  /** Absolute offset of the part's MIME header (for the root: 0). */
  headerStart: number;
  /** Absolute offset of the body: just past the blank line ending the header. */
  bodyStart: number;
  /** Absolute offset just past the body (the CRLF before a boundary is not part of it). */
  bodyEnd: number;
  /** bodyEnd - bodyStart: the encoded body size in octets (BODYSTRUCTURE body-fld-octets). */
  size: number;
  /** Line ends (LF) in the body; IMAP renders it for text/* and message/rfc822. */
  lines: number;
  /** Decoded body size (BINARY.SIZE, RFC 3516) for leaf parts in a known encoding, else null. */
  decodedSize: number | null;
  /** Children of a multipart (always at least one). */
  parts?: MimePart[];
  /** The encapsulated message of a message/rfc822 (or message/global) part. */
  message?: { envelope: Envelope; body: MimePart };
  /**
   * Set when the declared type needed a structure that was not parsed (multipart
   * without boundary, nesting deeper than MAX_DEPTH, message/rfc822 in base64 ...):
   * the part is then reported as application/octet-stream and this holds the
   * declared `type/subtype`.
   */
  declared?: string;
  /** Set on the empty text/plain child made up for a multipart without parts. */
  synthetic?: true;
}

/** What the header says about the body: how the structure parser must treat it. */
export type BodyKind = 'leaf' | 'multipart' | 'message';

const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$/;

function rawValue(fields: readonly HeaderField[], lname: string): Buffer | null {
  const f = findField(fields, lname);
  if (f === undefined) return null;
  let e = f.value.length;
  while (e > 0 && (f.value[e - 1] === 0x20 || f.value[e - 1] === 0x09)) e--;
  return Buffer.from(f.value.subarray(0, e));
}

function stripComments(s: string): string {
  let out = '';
  let depth = 0;
  for (const c of s) {
    if (c === '(') depth++;
    else if (c === ')' && depth > 0) depth--;
    else if (depth === 0) out += c;
  }
  return out;
}

/**
 * Builds a part's descriptive members from its header fields. `inDigest`: the
 * parent is multipart/digest, so the default type is message/rfc822 (RFC 2046
 * §5.1.5). Offsets are left 0 for the caller to fill. Never throws.
 */
export function describePart(fields: readonly HeaderField[], inDigest: boolean): MimePart {
  let type = inDigest ? 'message' : 'text';
  let subtype = inDigest ? 'rfc822' : 'plain';
  let params: [string, string][] = inDigest ? [] : [['charset', 'us-ascii']];
  const ct = findField(fields, 'content-type');
  if (ct !== undefined) {
    const pv = parseParamValue(ct.value);
    const slash = pv.value.indexOf('/');
    const t = slash < 0 ? '' : pv.value.slice(0, slash);
    const st = slash < 0 ? '' : pv.value.slice(slash + 1);
    if (TOKEN.test(t) && TOKEN.test(st)) {
      type = t;
      subtype = st;
      params = pv.params;
    } else {
      // RFC 2045 §5.2: an invalid Content-Type means text/plain; charset=us-ascii.
      type = 'text';
      subtype = 'plain';
      params = [['charset', 'us-ascii']];
    }
  }
  const cte = findField(fields, 'content-transfer-encoding');
  const encoding = normalizeEncoding(cte === undefined ? '' : stripComments(cte.value.toString('latin1')));
  let disposition: Disposition | null = null;
  const cd = findField(fields, 'content-disposition');
  if (cd !== undefined) {
    const pv = parseParamValue(cd.value);
    if (pv.value !== '') disposition = { type: pv.value, params: pv.params };
  }
  let language: string[] | null = null;
  const cl = findField(fields, 'content-language');
  if (cl !== undefined) {
    const tags = stripComments(cl.value.toString('latin1'))
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (tags.length > 0) language = tags;
  }
  return {
    type,
    subtype,
    params,
    id: rawValue(fields, 'content-id'),
    description: rawValue(fields, 'content-description'),
    encoding,
    disposition,
    language,
    location: rawValue(fields, 'content-location'),
    md5: rawValue(fields, 'content-md5'),
    headerStart: 0,
    bodyStart: 0,
    bodyEnd: 0,
    size: 0,
    lines: 0,
    decodedSize: null,
  };
}

/** First value of a parameter (names are lower-case), or undefined. */
export function paramOf(part: Pick<MimePart, 'params'>, name: string): string | undefined {
  for (const [n, v] of part.params) if (n === name) return v;
  return undefined;
}

/** The empty text/plain part standing in for a multipart that has no parts. */
export function syntheticPart(at: number): MimePart {
  return {
    type: 'text',
    subtype: 'plain',
    params: [['charset', 'us-ascii']],
    id: null,
    description: null,
    encoding: '7BIT',
    disposition: null,
    language: null,
    location: null,
    md5: null,
    headerStart: at,
    bodyStart: at,
    bodyEnd: at,
    size: 0,
    lines: 0,
    decodedSize: 0,
    synthetic: true,
  };
}

/** Turns a part whose nested structure is not parsed into an opaque leaf. */
export function makeOpaque(part: MimePart): void {
  part.declared = `${part.type}/${part.subtype}`;
  part.type = 'application';
  part.subtype = 'octet-stream';
}

/**
 * Bytes of one part that SEARCH BODY/TEXT looks at: a larger part is searched in
 * its first MAX_SEARCH_PART_BYTES only (bounded memory per message, for the scan
 * and the index alike).
 */
export const MAX_SEARCH_PART_BYTES = 8 * 1024 * 1024;

/**
 * The parts whose text SEARCH BODY reads, in order: text/* and message/* leaves,
 * inside multiparts and message/rfc822; a multipart whose boundary never
 * appears (only made-up empty parts) counts with its raw body. Attachments of
 * other types are never searched. One rule for the scan and the index.
 */
export function searchTextLeaves(root: MimePart): MimePart[] {
  const leaves: MimePart[] = [];
  const walk = (p: MimePart): void => {
    if (p.parts && p.parts.every((c) => c.synthetic)) leaves.push(p);
    else if (p.parts) p.parts.forEach(walk);
    else if (p.message) walk(p.message.body);
    else if (p.type === 'text' || p.type === 'message') leaves.push(p);
  };
  walk(root);
  return leaves;
}
