/**
 * BODY and BODYSTRUCTURE rendering (RFC 9051 §7.5.2, RFC 3501 §7.4.2):
 *
 *   BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23 NIL NIL NIL NIL)
 *     ("APPLICATION" "OCTET-STREAM" ("NAME" "x.bin") NIL NIL "BASE64" 4554 NIL
 *      ("ATTACHMENT" ("FILENAME" "x.bin")) NIL NIL) "MIXED" ("BOUNDARY" "b") NIL NIL NIL)
 *
 * `extended` selects BODYSTRUCTURE (with extension data) over BODY.
 */
import type { MimePart } from '../../mime/index.js';
import { nstring } from '../wire/encoder.js';
import { renderEnvelope } from './envelope.js';
import type { Chunk } from '../wire/writer.js';

function str(v: string | Buffer | null | undefined, utf8: boolean): Buffer | string {
  return nstring(v ?? null, { utf8 });
}

function params(p: ReadonlyArray<readonly [string, string]> | null | undefined, out: Chunk[], utf8: boolean): void {
  if (!p || p.length === 0) {
    out.push('NIL');
    return;
  }
  out.push('(');
  p.forEach(([k, v], i) => {
    if (i > 0) out.push(' ');
    out.push(str(k, utf8), ' ', str(v, utf8));
  });
  out.push(')');
}

function extension(part: MimePart, out: Chunk[], utf8: boolean): void {
  out.push(' ');
  if (part.disposition) {
    out.push('(', str(part.disposition.type, utf8), ' ');
    params(part.disposition.params, out, utf8);
    out.push(')');
  } else out.push('NIL');
  out.push(' ');
  if (part.language && part.language.length > 0) {
    out.push('(');
    part.language.forEach((l, i) => out.push(i > 0 ? ' ' : '', str(l, utf8)));
    out.push(')');
  } else out.push('NIL');
  out.push(' ', str(part.location, utf8));
}

/** Appends the parenthesised body structure of `part` to `out`. */
export function renderBodyStructure(part: MimePart, out: Chunk[], extended: boolean, utf8 = false, depth = 0): void {
  out.push('(');
  if (part.parts && part.parts.length > 0) {
    for (const child of part.parts) renderBodyStructure(child, out, extended, utf8, depth + 1);
    out.push(' ', str(part.subtype, utf8));
    if (extended) {
      out.push(' ');
      params(part.params, out, utf8);
      extension(part, out, utf8);
    }
    out.push(')');
    return;
  }
  out.push(str(part.type, utf8), ' ', str(part.subtype, utf8), ' ');
  params(part.params, out, utf8);
  out.push(' ', str(part.id, utf8), ' ', str(part.description, utf8), ' ', str(part.encoding, utf8), ' ', String(part.size));
  if (part.message) {
    out.push(' ');
    renderEnvelope(part.message.envelope, out, utf8);
    out.push(' ');
    renderBodyStructure(part.message.body, out, extended, utf8, depth + 1);
    out.push(' ', String(part.lines ?? 0));
  } else if (part.type.toLowerCase() === 'text') {
    out.push(' ', String(part.lines ?? 0));
  }
  if (extended) {
    out.push(' ', str(part.md5, utf8));
    extension(part, out, utf8);
  }
  out.push(')');
}
