/**
 * BODY and BODYSTRUCTURE rendering (RFC 9051 §7.5.2, RFC 3501 §7.4.2):
 *
 *   BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23 NIL NIL NIL NIL)
 *     ("APPLICATION" "OCTET-STREAM" ("NAME" "x.bin") NIL NIL "BASE64" 4554 NIL
 *      ("ATTACHMENT" ("FILENAME" "x.bin")) NIL NIL) "MIXED" ("BOUNDARY" "b") NIL NIL NIL)
 *
 * `extended` selects BODYSTRUCTURE (with extension data) over BODY.
 * Rendered in one pass into a ByteWriter (a listing renders one per article):
 * strings follow the encoder's rules (encoder.ts: quoted when every octet is a
 * TEXT-CHAR, or valid UTF-8 in UTF-8 mode, else a literal; strings are UTF-8).
 */
import type { MimePart } from '../../mime/index.js';
import { ByteWriter } from '../wire/byte-writer.js';
import { envelopeBytes } from './envelope.js';
import type { Chunk } from '../wire/writer.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** `nstring` of a decoded (UTF-8) value: ASCII without CR, LF or NUL is quoted here; the rest as the encoder would. */
function str(w: ByteWriter, s: string | null | undefined, utf8: boolean): void {
  if (s === null || s === undefined) {
    w.ascii('NIL');
    return;
  }
  let plain = true;
  let escapes = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === QUOTE || c === BACKSLASH) escapes = true;
    else if (c >= 0x80 || c === 0x00 || c === 0x0a || c === 0x0d) {
      plain = false;
      break;
    }
  }
  if (!plain) w.nstring(Buffer.from(s, 'utf8'), utf8);
  else if (escapes) w.ascii(`"${s.replace(/["\\]/g, '\\$&')}"`);
  else w.ascii('"').ascii(s).ascii('"');
}

function params(w: ByteWriter, p: ReadonlyArray<readonly [string, string]> | null | undefined, utf8: boolean): void {
  if (!p || p.length === 0) {
    w.ascii('NIL');
    return;
  }
  w.ascii('(');
  for (let i = 0; i < p.length; i++) {
    if (i > 0) w.ascii(' ');
    str(w, p[i]![0], utf8);
    w.ascii(' ');
    str(w, p[i]![1], utf8);
  }
  w.ascii(')');
}

function extension(w: ByteWriter, part: MimePart, utf8: boolean): void {
  w.ascii(' ');
  if (part.disposition) {
    w.ascii('(');
    str(w, part.disposition.type, utf8);
    w.ascii(' ');
    params(w, part.disposition.params, utf8);
    w.ascii(')');
  } else w.ascii('NIL');
  w.ascii(' ');
  if (part.language && part.language.length > 0) {
    w.ascii('(');
    part.language.forEach((l, i) => {
      if (i > 0) w.ascii(' ');
      str(w, l, utf8);
    });
    w.ascii(')');
  } else w.ascii('NIL');
  w.ascii(' ').nstring(part.location, utf8);
}

function render(w: ByteWriter, part: MimePart, extended: boolean, utf8: boolean): void {
  w.ascii('(');
  if (part.parts && part.parts.length > 0) {
    for (const child of part.parts) render(w, child, extended, utf8);
    w.ascii(' ');
    str(w, part.subtype, utf8);
    if (extended) {
      w.ascii(' ');
      params(w, part.params, utf8);
      extension(w, part, utf8);
    }
    w.ascii(')');
    return;
  }
  str(w, part.type, utf8);
  w.ascii(' ');
  str(w, part.subtype, utf8);
  w.ascii(' ');
  params(w, part.params, utf8);
  w.ascii(' ').nstring(part.id, utf8).ascii(' ').nstring(part.description, utf8).ascii(' ');
  str(w, part.encoding, utf8);
  w.ascii(' ').ascii(String(part.size));
  if (part.message) {
    w.ascii(' ').bytes(envelopeBytes(part.message.envelope, utf8)).ascii(' ');
    render(w, part.message.body, extended, utf8);
    w.ascii(' ').ascii(String(part.lines ?? 0));
  } else if (part.type.toLowerCase() === 'text') {
    w.ascii(' ').ascii(String(part.lines ?? 0));
  }
  if (extended) {
    w.ascii(' ').nstring(part.md5, utf8);
    extension(w, part, utf8);
  }
  w.ascii(')');
}

/** One writer for every rendering (each is synchronous); its result is copied out. */
const scratch = new ByteWriter(4096);

/** The parenthesised body structure of `part`, in a Buffer of its own. */
export function bodyStructureBytes(part: MimePart, extended: boolean, utf8 = false): Buffer {
  const w = scratch.reset(64 * 1024, 4096); // a huge structure's rendering is not kept around
  render(w, part, extended, utf8);
  return w.finish();
}

/** Appends the parenthesised body structure of `part` to `out`. */
export function renderBodyStructure(part: MimePart, out: Chunk[], extended: boolean, utf8 = false): void {
  out.push(bodyStructureBytes(part, extended, utf8));
}
