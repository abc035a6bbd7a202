/**
 * Test oracle: BODY/BODYSTRUCTURE rendering as it was before the single-pass
 * writer (chunk lists and the encoder's `nstring`), kept to check that
 * src/imap/render/bodystructure.ts sends the same bytes. Not used by the server.
 */
import type { MimePart } from '../../../src/mime/index.js';
import { nstring } from '../../../src/imap/wire/encoder.js';
import { renderEnvelope } from '../../../src/imap/render/envelope.js';
import type { Chunk } from '../../../src/imap/wire/writer.js';

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
export function referenceBodyStructure(part: MimePart, out: Chunk[], extended: boolean, utf8 = false, depth = 0): void {
  out.push('(');
  if (part.parts && part.parts.length > 0) {
    for (const child of part.parts) referenceBodyStructure(child, out, extended, utf8, depth + 1);
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
    referenceBodyStructure(part.message.body, out, extended, utf8, depth + 1);
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
