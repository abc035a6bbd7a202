/**
 * ENVELOPE rendering (RFC 9051 §7.5.2):
 *
 *   ENVELOPE ("Mon, 7 Feb 1994 21:52:25 -0800" "afternoon meeting"
 *     (("Fred Foobar" NIL "foobar" "example.com")) ... NIL "<B27397-0100000@example.com>")
 *
 * Strings are the raw header bytes; 8-bit or CR/LF content goes out as a literal.
 */
import type { Address, Envelope } from '../../export/mime/envelope.js';
import { nstring } from '../wire/encoder.js';

export type Chunk = Buffer | string;

function addressList(list: readonly Address[] | null, out: Chunk[], utf8: boolean): void {
  if (!list || list.length === 0) {
    out.push('NIL');
    return;
  }
  out.push('(');
  for (const a of list) {
    out.push('(', nstring(a.name, { utf8 }), ' NIL ', nstring(a.mailbox, { utf8 }), ' ', nstring(a.host, { utf8 }), ')');
  }
  out.push(')');
}

/** Appends the parenthesised envelope to `out`. */
export function renderEnvelope(e: Envelope, out: Chunk[], utf8 = false): void {
  out.push('(', nstring(e.date, { utf8 }), ' ', nstring(e.subject, { utf8 }), ' ');
  addressList(e.from, out, utf8);
  out.push(' ');
  addressList(e.sender ?? e.from, out, utf8);
  out.push(' ');
  addressList(e.replyTo ?? e.from, out, utf8);
  out.push(' ');
  addressList(e.to, out, utf8);
  out.push(' ');
  addressList(e.cc, out, utf8);
  out.push(' ');
  addressList(e.bcc, out, utf8);
  out.push(' ', nstring(e.inReplyTo, { utf8 }), ' ', nstring(e.messageId, { utf8 }), ')');
}
