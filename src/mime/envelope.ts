/**
 * The IMAP ENVELOPE of a message (RFC 9051 §7.5.2, RFC 3501 §7.4.2) from its
 * parsed header fields. Typed data only; the IMAP layer renders it.
 *
 * Contract:
 * - string members are the raw, unfolded header bytes of the FIRST field of that
 *   name (encoded words are not decoded: the envelope carries them as written),
 *   or null when the field is absent;
 * - address members are `Address[] | null` (see address.ts), null when the field
 *   is absent or holds no address;
 * - sender and replyTo default to from when absent or empty (RFC 3501 §7.4.2);
 * - every Buffer is a fresh copy (it does not pin the header block in memory);
 * - never throws.
 */
import { parseAddressList, type Address } from './address.js';
import { FieldNames, findField, type HeaderField } from './header.js';

export type { Address };

export interface Envelope {
  date: Buffer | null;
  subject: Buffer | null;
  from: Address[] | null;
  sender: Address[] | null;
  replyTo: Address[] | null;
  to: Address[] | null;
  cc: Address[] | null;
  bcc: Address[] | null;
  inReplyTo: Buffer | null;
  messageId: Buffer | null;
}

function trimEnd(b: Buffer): Buffer {
  let e = b.length;
  while (e > 0 && (b[e - 1] === 0x20 || b[e - 1] === 0x09)) e--;
  return b.subarray(0, e);
}

function text(fields: readonly HeaderField[], lname: string): Buffer | null {
  const f = findField(fields, lname);
  return f === undefined ? null : Buffer.from(trimEnd(f.value));
}

function addresses(fields: readonly HeaderField[], lname: string): Address[] | null {
  const f = findField(fields, lname);
  return f === undefined ? null : parseAddressList(f.value);
}

/** The fields `envelopeOf` reads: `parseHeader(block, ENVELOPE_FIELDS)` skips the others. */
export const ENVELOPE_FIELDS = new FieldNames(['date', 'subject', 'from', 'sender', 'reply-to', 'to', 'cc', 'bcc', 'in-reply-to', 'message-id']);

export function envelopeOf(fields: readonly HeaderField[]): Envelope {
  const from = addresses(fields, 'from');
  return {
    date: text(fields, 'date'),
    subject: text(fields, 'subject'),
    from,
    sender: addresses(fields, 'sender') ?? from,
    replyTo: addresses(fields, 'reply-to') ?? from,
    to: addresses(fields, 'to'),
    cc: addresses(fields, 'cc'),
    bcc: addresses(fields, 'bcc'),
    inReplyTo: text(fields, 'in-reply-to'),
    messageId: text(fields, 'message-id'),
  };
}
