/**
 * Building and checking command lines (RFC 3977 §3.1): arguments are single
 * tokens without controls, the whole line with CRLF is at most 512 octets.
 * Violations throw `NntpError('PROTOCOL')` before anything is sent.
 */
import { NntpError } from './errors.js';
import { MAX_COMMAND_BYTES } from './limits.js';

const ARG_RE = /^[^\0\r\n\t ]+$/;
/** RFC 3977 §3.6: "<" 1*248(A-NOTGT) ">" — we only refuse what would break the line. */
const MSGID_RE = /^<[^\0\r\n\t <>]+>$/;

/** "VERB arg arg", each argument checked. */
export function commandLine(verb: string, ...args: string[]): string {
  for (const a of args) {
    if (!ARG_RE.test(a)) throw new NntpError('PROTOCOL', `invalid command argument ${JSON.stringify(a.slice(0, 60))}`);
  }
  return checkCommandLine([verb, ...args].join(' '));
}

/** A free-form line (AUTHINFO): no CR, LF or NUL, at most 512 octets with CRLF. */
export function checkCommandLine(line: string): string {
  if (/[\0\r\n]/.test(line) || Buffer.byteLength(line) + 2 > MAX_COMMAND_BYTES)
    throw new NntpError('PROTOCOL', 'command line invalid or longer than 512 bytes (RFC 3977 §3.1)');
  return line;
}

export function rangeArg([low, high]: [number, number]): string {
  return `${checkNumber(low)}-${checkNumber(high)}`;
}

export function checkNumber(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new NntpError('PROTOCOL', `invalid article number ${n}`);
  return n;
}

export function articleRef(ref: number | string): string {
  if (typeof ref === 'number') return String(checkNumber(ref));
  if (!MSGID_RE.test(ref)) throw new NntpError('PROTOCOL', `invalid message-id ${JSON.stringify(ref.slice(0, 80))}`);
  return ref;
}

/** "220 3000234 <45223423@example.com>" → number and Message-ID (RFC 3977 §6.2.1). */
export function parseArticleStatus(text: string): { number: number; messageId: string } {
  const [n, id] = text.split(' ');
  const number = Number(n);
  return { number: Number.isSafeInteger(number) ? number : 0, messageId: id ?? '' };
}
