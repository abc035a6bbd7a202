/**
 * ENVELOPE rendering (RFC 9051 §7.5.2):
 *
 *   ENVELOPE ("Mon, 7 Feb 1994 21:52:25 -0800" "afternoon meeting"
 *     (("Fred Foobar" NIL "foobar" "example.com")) ... NIL "<B27397-0100000@example.com>")
 *
 * Strings are the raw header bytes; 8-bit or CR/LF content goes out as a literal.
 */
import type { Address, Envelope } from '../../mime/index.js';
import { ByteWriter } from '../wire/byte-writer.js';
import { Slab } from '../../util/slab.js';
import type { Chunk } from '../wire/writer.js';

function addressList(list: readonly Address[] | null, w: ByteWriter, utf8: boolean): void {
  if (!list || list.length === 0) {
    w.ascii('NIL');
    return;
  }
  w.ascii('(');
  for (const a of list) {
    w.ascii('(').nstring(a.name, utf8).ascii(' NIL ').nstring(a.mailbox, utf8).ascii(' ').nstring(a.host, utf8).ascii(')');
  }
  w.ascii(')');
}

/** One writer for every rendering (each is synchronous); its result is copied out. */
const scratch = new ByteWriter(4096);
/** Renderings are kept (render cache): copies share slabs. */
const slab = new Slab();

/** The parenthesised envelope as bytes. */
export function envelopeBytes(e: Envelope, utf8 = false): Buffer {
  const w = scratch.reset(64 * 1024, 4096); // a huge header's rendering is not kept around
  w.ascii('(').nstring(e.date, utf8).ascii(' ').nstring(e.subject, utf8).ascii(' ');
  addressList(e.from, w, utf8);
  w.ascii(' ');
  addressList(e.sender ?? e.from, w, utf8);
  w.ascii(' ');
  addressList(e.replyTo ?? e.from, w, utf8);
  w.ascii(' ');
  addressList(e.to, w, utf8);
  w.ascii(' ');
  addressList(e.cc, w, utf8);
  w.ascii(' ');
  addressList(e.bcc, w, utf8);
  w.ascii(' ').nstring(e.inReplyTo, utf8).ascii(' ').nstring(e.messageId, utf8).ascii(')');
  return w.finish(slab);
}

/** Appends the parenthesised envelope to `out`. */
export function renderEnvelope(e: Envelope, out: Chunk[], utf8 = false): void {
  out.push(envelopeBytes(e, utf8));
}
