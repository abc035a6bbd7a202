/**
 * Response rendering primitives (RFC 9051 §4.3, §9). Each returns the wire
 * bytes of one grammar element as a Buffer; none writes to a socket.
 *
 * String form chosen (RFC 9051 §4.3):
 * - atom for `astring` when every octet is ASTRING-CHAR (never for `nstring`);
 * - quoted when every octet is a TEXT-CHAR (7-bit, no CR/LF/NUL), or valid
 *   UTF-8 when `utf8` is set (UTF8=ACCEPT / IMAP4rev2, RFC 6855 §3);
 * - literal `{n}\r\n<bytes>` otherwise (8-bit without UTF-8 mode, CR, LF, NUL).
 * Strings given as `string` are UTF-8 encoded first.
 */
import { MONTHS, isAstringChar } from './chars.js';
import { encodeMutf7 } from './mutf7.js';

export interface EncodeOptions {
  /** UTF-8 allowed in quoted strings and mailbox names (UTF8=ACCEPT enabled). */
  utf8?: boolean;
}

const NIL = Buffer.from('NIL');

const toBytes = (s: string | Buffer): Buffer => (typeof s === 'string' ? Buffer.from(s, 'utf8') : s);

function isValidUtf8(b: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

/** Can `b` be sent as a quoted string? */
export function isQuotable(b: Buffer, opts: EncodeOptions = {}): boolean {
  let eightBit = false;
  for (const c of b) {
    if (c === 0x00 || c === 0x0a || c === 0x0d) return false;
    if (c >= 0x80) eightBit = true;
  }
  return !eightBit || (opts.utf8 === true && isValidUtf8(b));
}

/** `quoted`: DQUOTE *QUOTED-CHAR DQUOTE. Throws RangeError if `s` is not quotable (check `isQuotable`). */
export function quoted(s: string | Buffer, opts: EncodeOptions = {}): Buffer {
  const b = toBytes(s);
  if (!isQuotable(b, opts)) throw new RangeError('string cannot be quoted; use a literal');
  let escapes = 0;
  for (const c of b) if (c === 0x22 || c === 0x5c) escapes++;
  const out = Buffer.allocUnsafe(b.length + escapes + 2);
  let o = 0;
  out[o++] = 0x22;
  for (const c of b) {
    if (c === 0x22 || c === 0x5c) out[o++] = 0x5c;
    out[o++] = c;
  }
  out[o++] = 0x22;
  return out;
}

/** `{size}\r\n` (or `~{size}\r\n` for literal8, RFC 3516), the head of a literal. */
export function literalHeader(size: number, binary = false): Buffer {
  return Buffer.from(`${binary ? '~' : ''}{${size}}\r\n`, 'latin1');
}

/** `literal`: header plus payload. */
export function literal(s: string | Buffer): Buffer {
  const b = toBytes(s);
  return Buffer.concat([literalHeader(b.length), b]);
}

/** `string`: quoted if possible, else literal. */
export function string(s: string | Buffer, opts: EncodeOptions = {}): Buffer {
  const b = toBytes(s);
  return isQuotable(b, opts) ? quoted(b, opts) : literal(b);
}

/** `astring`: atom if possible, else quoted, else literal. */
export function astring(s: string | Buffer, opts: EncodeOptions = {}): Buffer {
  const b = toBytes(s);
  if (b.length > 0 && b.every(isAstringChar)) return Buffer.from(b);
  return string(b, opts);
}

/** `nstring`: NIL for null/undefined, else quoted or literal (never an atom: "NIL" the text must be quoted). */
export function nstring(s: string | Buffer | null | undefined, opts: EncodeOptions = {}): Buffer {
  return s === null || s === undefined ? NIL : string(s, opts);
}

/** `flag-list`: "(" [flag *(SP flag)] ")". Flags are atoms already (`\Seen`, `$Junk`). */
export function flagList(flags: Iterable<string>): Buffer {
  return Buffer.from(`(${[...flags].join(' ')})`, 'latin1');
}

/**
 * `date-time` (RFC 9051 §9): `"dd-Mon-yyyy hh:mm:ss +zzzz"` with a space-padded
 * day. `zoneMinutes` is the offset east of UTC to show (default 0 → +0000);
 * the instant is the same whatever zone is chosen.
 */
export function dateTime(d: Date, zoneMinutes = 0): Buffer {
  return Buffer.from(dateTimeText(d, zoneMinutes), 'latin1');
}

const DAY_MS = 86_400_000;
/** "00" … "99". */
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
/** The last day rendered (`"dd-Mon-yyyy `): a listing renders runs of articles of one day. */
let lastDay = NaN;
let lastDayText = '';
let lastZone = 0;
let lastZoneText = '+0000"';

/**
 * `dateTime` as text (ASCII), for renderers that build their own buffer. On the
 * listing hot path (INTERNALDATE of every message): the day part is reused
 * from the previous call when it is the same day, the rest is table lookups
 * (measured: ~15% of a warm listing's CPU when built from Date getters and padStart).
 */
export function dateTimeText(d: Date, zoneMinutes = 0): string {
  const ms = d.getTime() + zoneMinutes * 60_000;
  if (!Number.isFinite(ms)) return `"${String(NaN)}"`;
  const day = Math.floor(ms / DAY_MS);
  if (day !== lastDay) {
    const local = new Date(day * DAY_MS);
    lastDayText = `"${String(local.getUTCDate()).padStart(2, ' ')}-${MONTHS[local.getUTCMonth()]}-${String(local.getUTCFullYear()).padStart(4, '0')} `;
    lastDay = day;
  }
  if (zoneMinutes !== lastZone) {
    const z = Math.trunc(Math.abs(zoneMinutes));
    lastZoneText = `${zoneMinutes < 0 ? '-' : '+'}${TWO_DIGITS[Math.floor(z / 60) % 100]}${TWO_DIGITS[z % 60]}"`;
    lastZone = zoneMinutes;
  }
  const sec = Math.floor((ms - day * DAY_MS) / 1000);
  return `${lastDayText}${TWO_DIGITS[Math.floor(sec / 3600)]}:${TWO_DIGITS[Math.floor(sec / 60) % 60]}:${TWO_DIGITS[sec % 60]} ${lastZoneText}`;
}

/** `mailbox`: INBOX, else modified UTF-7 (RFC 3501 §5.1.3) or UTF-8 when enabled, as an astring. */
export function mailbox(name: string, opts: EncodeOptions = {}): Buffer {
  if (name.toUpperCase() === 'INBOX') return Buffer.from('INBOX');
  return astring(opts.utf8 ? name : encodeMutf7(name), opts);
}
