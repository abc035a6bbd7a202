/**
 * Modified UTF-7 for mailbox names (RFC 3501 §5.1.3, kept by RFC 9051 §5.1.3
 * for clients that have not enabled UTF8=ACCEPT).
 *
 * - Printable US-ASCII 0x20–0x7E stands for itself, except `&`, written `&-`.
 * - Any other run of characters is UTF-16BE, base64 encoded with `,` instead of
 *   `/` and no padding, between `&` and `-`.
 *
 * `decodeMutf7` is strict: it throws `Mutf7Error` for bad base64, leftover
 * non-zero bits, odd UTF-16 lengths, unpaired surrogates, encoded printable
 * ASCII and adjacent encoded runs (the RFC forbids all of these), so one
 * mailbox has exactly one wire name. Raw 8-bit or control characters are
 * rejected too.
 */
import { Mutf7Error } from './errors.js';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';
const B64_VALUE = new Map<string, number>([...B64].map((c, i) => [c, i]));

const isDirect = (code: number): boolean => code >= 0x20 && code <= 0x7e;

/** Encode a Unicode mailbox name as modified UTF-7. Never throws for well-formed strings. */
export function encodeMutf7(name: string): string {
  let out = '';
  let i = 0;
  while (i < name.length) {
    const code = name.charCodeAt(i);
    if (code === 0x26) {
      out += '&-';
      i++;
    } else if (isDirect(code)) {
      out += name[i];
      i++;
    } else {
      let j = i;
      while (j < name.length && !isDirect(name.charCodeAt(j))) j++;
      const bytes = Buffer.alloc((j - i) * 2);
      for (let k = i; k < j; k++) bytes.writeUInt16BE(name.charCodeAt(k), (k - i) * 2);
      out += '&' + bytes.toString('base64').replace(/=+$/, '').replace(/\//g, ',') + '-';
      i = j;
    }
  }
  return out;
}

/** Decode a modified UTF-7 mailbox name. Throws `Mutf7Error` if it is not canonical mUTF-7. */
export function decodeMutf7(wire: string): string {
  let out = '';
  let i = 0;
  let lastEncodedEnd = -1;
  while (i < wire.length) {
    const code = wire.charCodeAt(i);
    if (!isDirect(code)) throw new Mutf7Error(`character 0x${code.toString(16)} at ${i} must be encoded`);
    if (code !== 0x26) {
      out += wire[i];
      i++;
      continue;
    }
    const end = wire.indexOf('-', i + 1);
    if (end < 0) throw new Mutf7Error(`unterminated '&' at ${i}`);
    if (end === i + 1) {
      out += '&';
      i = end + 1;
      continue;
    }
    if (lastEncodedEnd === i) throw new Mutf7Error(`adjacent encoded runs at ${i}`);
    out += decodeRun(wire.slice(i + 1, end), i);
    i = end + 1;
    lastEncodedEnd = i;
  }
  return out;
}

function decodeRun(b64: string, at: number): string {
  let bits = 0;
  let nbits = 0;
  const units: number[] = [];
  let pending = 0;
  let havePending = false;
  for (const c of b64) {
    const v = B64_VALUE.get(c);
    if (v === undefined) throw new Mutf7Error(`bad base64 character '${c}' in run at ${at}`);
    bits = (bits << 6) | v;
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      const byte = (bits >> nbits) & 0xff;
      bits &= (1 << nbits) - 1;
      if (havePending) {
        units.push((pending << 8) | byte);
        havePending = false;
      } else {
        pending = byte;
        havePending = true;
      }
    }
  }
  if (havePending || bits !== 0 || nbits >= 6) throw new Mutf7Error(`bad base64 length or padding bits in run at ${at}`);
  for (let k = 0; k < units.length; k++) {
    const u = units[k]!;
    if (isDirect(u)) throw new Mutf7Error(`printable ASCII encoded in run at ${at}`);
    if (u >= 0xd800 && u <= 0xdbff) {
      const next = units[k + 1];
      if (next === undefined || next < 0xdc00 || next > 0xdfff) throw new Mutf7Error(`unpaired surrogate in run at ${at}`);
      k++;
    } else if (u >= 0xdc00 && u <= 0xdfff) {
      throw new Mutf7Error(`unpaired surrogate in run at ${at}`);
    }
  }
  return String.fromCharCode(...units);
}

/**
 * First character of a name whose wire form is not canonical modified UTF-7.
 * Such a name is still a valid `astring` (RFC 9051 §9), so the command is well
 * formed and gets no BAD; it just names no mailbox. A lone low surrogate never
 * comes out of `decodeMutf7` or of strict UTF-8 decoding, so a marked name
 * never equals a real mailbox name, and a marked LIST pattern matches none.
 */
const UNNAMABLE = '\udfff';

/**
 * Decode a mailbox name or LIST pattern from the wire. Never throws: a name
 * that is not canonical modified UTF-7 comes back marked (`isUnnamable`),
 * and the command answers as for any mailbox that does not exist
 * (NO [NONEXISTENT]; LIST: no match).
 */
export function decodeMailboxName(wire: string): string {
  try {
    return decodeMutf7(wire);
  } catch (err) {
    if (err instanceof Mutf7Error) return UNNAMABLE + wire;
    throw err;
  }
}

/** True for a name `decodeMailboxName` marked as naming no mailbox. */
export function isUnnamable(name: string): boolean {
  return name.startsWith(UNNAMABLE);
}

/** A name as the client writes it: modified UTF-7, or the client's own text for an unnamable name. */
export function wireName(name: string): string {
  return isUnnamable(name) ? name.slice(UNNAMABLE.length) : encodeMutf7(name);
}
