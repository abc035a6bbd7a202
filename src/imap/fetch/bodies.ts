/**
 * The bodies fast path of FETCH (commands/fetch.ts): a batch of messages
 * whose items are byte ranges of the whole article (BODY[], BODY[TEXT],
 * RFC822, BINARY[], partials of them), header sections, UID, FLAGS, MODSEQ
 * and RFC822.SIZE — what an offline client's sync asks (invariant 6 aside:
 * these do read bodies).
 *
 *   C: a1 UID FETCH 1:1000 (BODY.PEEK[])
 *   S: * 1 FETCH (UID 1 BODY[] {2301}
 *   S: <2301 octets>)
 *
 * Cached short articles are lent by the backend (`MailboxHandle.lend`: a
 * view of its read buffer, copied once, straight into the output) or come
 * back as Buffers at once (`MailboxHandle.bytes`); their responses are
 * rendered into buffers of about OUTPUT_CHUNK octets, two of them reused in
 * turn (outbox.ts): no promise, chunk list, string or copy of its own per
 * message. A message is rendered whole or not at all: when a lent body is
 * not at hand after all (or not of the size its head announced), what was
 * rendered of it is taken back and it goes the other way. A message whose
 * bytes are not at hand (a download, a long article's file) is written on
 * its own by `sendParts` after the responses before it, so responses keep
 * their order, the writer's backpressure holds (at most two chunks plus one
 * article are gathered here) and a stream is never held whole.
 */
import type { CommandContext } from '../command.js';
import type { FetchItem, Section } from '../wire/fetch-att.js';
import type { ByteWriter } from '../wire/byte-writer.js';
import type { MailboxHandle, MessageMeta } from '../../export/interface.js';
import type { FlagView } from '../../stateagent/flagstore.js';
import { fetchOpen, uidOnly as isUidOnly } from '../uidonly.js';
import { FlagRunText } from './flag-runs.js';
import { byteRange, clip, topSection, type BodyData, type BodySource } from './body.js';
import { sendParts, type ResponsePart } from './send.js';
import { writeFetchHead, writeFetchTail, writeSnapshotItem } from './listing.js';
import { Outbox } from './outbox.js';

/** Responses are gathered up to about this many octets before they are written (the writer's own batch size). */
const OUTPUT_CHUNK = 64 * 1024;
/** Room kept for a response's protocol text (head, FLAGS, tail) beside its bodies, when deciding to write a chunk first. */
const RESPONSE_TEXT = 512;

const SIMPLE = new Set(['UID', 'FLAGS', 'MODSEQ', 'RFC822.SIZE', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT']);

/**
 * True when every item is one `bodyBatch` answers and at least one reads
 * article bytes (else the listing path is the one to take).
 */
export function bodiesPath(items: readonly FetchItem[]): boolean {
  let reads = false;
  for (const i of items) {
    if (i.type === 'BODY[]' || i.type === 'BINARY') {
      if ((i.type === 'BODY[]' ? i.section.part : i.part).length > 0) return false;
      reads ||= i.type === 'BINARY' || i.section.text === undefined || i.section.text === 'TEXT';
    } else if (SIMPLE.has(i.type)) reads ||= i.type === 'RFC822' || i.type === 'RFC822.TEXT';
    else return false;
  }
  return reads;
}

const WHOLE: Section = { part: [] };
const TEXT: Section = { part: [], text: 'TEXT' };
const HEADER: Section = { part: [], text: 'HEADER' };

/** The section of the whole message an item names (its `type` is one `bodiesPath` accepted). */
function sectionOf(item: FetchItem): Section | undefined {
  switch (item.type) {
    case 'RFC822':
      return WHOLE;
    case 'RFC822.TEXT':
      return TEXT;
    case 'RFC822.HEADER':
      return HEADER;
    case 'BODY[]':
      return item.section;
    case 'BINARY':
      return WHOLE;
    default:
      return undefined;
  }
}

/** Name as sent: `BODY[]<0>`, `RFC822`, `BINARY[]`. */
const nameOf = (item: FetchItem): string => (item.type === 'BODY[]' || item.type === 'BINARY' ? item.name : item.type);

/**
 * Writes the FETCH responses of one batch (`seqs`/`uids` in order; `metas`
 * as the backend read them: a message without one vanished and is skipped).
 * Rejects as the backend's reads do (a vanished article: BackendError
 * NONEXISTENT, caught by the caller per message in the general path; here
 * the message is skipped the same way).
 */
export async function bodyBatch(
  ctx: CommandContext,
  seqs: readonly number[],
  uids: readonly number[],
  items: readonly FetchItem[],
  metas: ReadonlyMap<number, MessageMeta> | undefined,
  flags: FlagView | undefined,
  skipGone: (err: unknown) => boolean,
): Promise<void> {
  const sel = ctx.session.selected!;
  const handle = sel.handle;
  const condstore = ctx.session.condstore;
  // `fetchOpen`'s two forms, written without a string per message
  const uidOnly = isUidOnly(ctx.session);
  const flagText = flags && uids.length > 0 ? new FlagRunText(flags, uids[0]!, uids[uids.length - 1]!) : undefined;
  const got: Array<Buffer | Promise<BodySource> | BodySource | undefined> = new Array(items.length);
  const out = new Outbox(ctx, OUTPUT_CHUNK);
  const w = out.w;
  const lend = handle.lend?.bind(handle);
  /** Writes an opened body (a Buffer of the announced size: checked before rendering). */
  const opened = (k: number): boolean => {
    writeLiteral(w, items[k]!, got[k] as Buffer);
    got[k] = undefined;
    return true;
  };
  for (let i = 0; i < seqs.length; i++) {
    const uid = uids[i]!;
    const meta = metas?.get(uid);
    if (!meta) continue; // the article vanished upstream; expiry announces it later
    if (lend !== undefined) {
      if (!out.fits(bodyOctets(items, meta) + RESPONSE_TEXT)) await out.ship();
      const mark = w.length;
      let lent = false;
      try {
        lent = renderMessage(w, handle, uidOnly, seqs[i]!, uid, meta, items, condstore, flagText, flags, (k, s, e) => {
          let fits = false;
          const at = lend(uid, { start: s, end: e }, (b) => {
            if (b.length !== e - s) return; // not what the head announces: the other way, below
            writeLiteral(w, items[k]!, b);
            fits = true;
          });
          return at && fits;
        });
      } catch {
        // (a vanished article, say) the other way meets it again and answers for it
      }
      if (lent) {
        if (w.length >= OUTPUT_CHUNK) await out.ship();
        continue;
      }
      w.truncate(mark);
    }
    // open every body first: a message is written whole or not at all
    let atHand = true;
    let octets = RESPONSE_TEXT;
    for (let k = 0; k < items.length; k++) {
      got[k] = undefined;
      const sec = sectionOf(items[k]!);
      if (sec === undefined || !reads(sec)) continue;
      const [s, e] = rangeOf(sec, meta, partialOf(items[k]!));
      if (e <= s) continue;
      let o: Buffer | Promise<BodySource> | BodySource;
      try {
        o = openBytes(handle, uid, s, e);
      } catch (err) {
        if (skipGone(err)) {
          atHand = false;
          break;
        }
        throw err;
      }
      if (o instanceof Promise) o.catch(() => undefined); // awaited later (sendParts), maybe after a write
      got[k] = o;
      if (!Buffer.isBuffer(o) || o.length !== e - s) atHand = false;
      else octets += o.length;
    }
    if (!atHand) {
      await out.ship();
      await slowMessage(ctx, seqs[i]!, uid, meta, items, flagText, flags, got, skipGone);
      continue;
    }
    if (!out.fits(octets)) await out.ship();
    renderMessage(w, handle, uidOnly, seqs[i]!, uid, meta, items, condstore, flagText, flags, opened);
    if (w.length >= OUTPUT_CHUNK) await out.ship();
  }
  await out.end();
}

/**
 * Renders one message's response into `w`. `body(k, start, end)` writes item
 * k's literal, a non-empty byte range of the article, or returns false: the
 * rendering stops there and returns false (the caller takes back what was
 * rendered). Header sections and empty ranges need no read.
 */
function renderMessage(
  w: ByteWriter,
  handle: MailboxHandle,
  uidOnly: boolean,
  seq: number,
  uid: number,
  meta: MessageMeta,
  items: readonly FetchItem[],
  condstore: boolean,
  flagText: FlagRunText | undefined,
  flags: FlagView | undefined,
  body: (k: number, start: number, end: number) => boolean,
): boolean {
  writeFetchHead(w, uidOnly, seq, uid);
  let sentFlags = false;
  let sentModseq = false;
  for (let k = 0; k < items.length; k++) {
    const item = items[k]!;
    if (k > 0) w.ascii(' ');
    const done = writeSnapshotItem(w, item.type, uid, meta, flagText, flags);
    if (done !== undefined) {
      sentFlags ||= done === 'FLAGS';
      sentModseq ||= done === 'MODSEQ';
      continue;
    }
    w.ascii(nameOf(item)).ascii(' ');
    const sec = sectionOf(item)!;
    const partial = partialOf(item);
    if (reads(sec)) {
      const [s, e] = rangeOf(sec, meta, partial);
      if (e > s) {
        if (!body(k, s, e)) return false;
        continue;
      }
    }
    // an empty range or a header section, at hand without a read
    const d = topSection(handle, { uid, meta }, sec, partial)!;
    if (d.kind === 'nil') w.ascii('NIL');
    else if (d.kind === 'bytes') w.ascii(d.binary && d.bytes.includes(0) ? `~{${d.bytes.length}}\r\n` : `{${d.bytes.length}}\r\n`).bytes(d.bytes);
    else w.ascii(item.type === 'BINARY' ? '~{0}\r\n' : '{0}\r\n');
  }
  writeFetchTail(w, uid, condstore && sentFlags && !sentModseq, flags);
  return true;
}

/** A body item's literal: `{n}` CRLF (`~{n}` for BINARY) and the bytes. */
function writeLiteral(w: ByteWriter, item: FetchItem, b: Buffer): void {
  w.ascii(item.type === 'BINARY' ? '~{' : '{').uint(b.length).ascii('}\r\n').bytes(b);
}

const partialOf = (item: FetchItem): { origin: number; length: number } | undefined =>
  item.type === 'BODY[]' || item.type === 'BINARY' ? (item as { partial?: { origin: number; length: number } }).partial : undefined;

/** Octets of the article the items read (an upper bound: what the output needs room for). */
function bodyOctets(items: readonly FetchItem[], meta: MessageMeta): number {
  let n = 0;
  for (const item of items) {
    const sec = sectionOf(item);
    if (sec === undefined || !reads(sec)) continue;
    const [s, e] = rangeOf(sec, meta, partialOf(item));
    if (e > s) n += e - s;
  }
  return n;
}

/** True when the section is a byte range of the article (not a header section). */
const reads = (sec: Section): boolean => sec.part.length === 0 && (sec.text === undefined || sec.text === 'TEXT');

function rangeOf(sec: Section, meta: MessageMeta, partial: { origin: number; length: number } | undefined): [number, number] {
  return sec.text === 'TEXT' ? clip(meta.header.length, meta.size, partial) : clip(0, meta.size, partial);
}

function openBytes(handle: MailboxHandle, uid: number, start: number, end: number): Buffer | Promise<BodySource> {
  return handle.bytes !== undefined ? handle.bytes(uid, { start, end }) : handle.content(uid, { start, end });
}

/** One message whose bytes are not all at hand: its parts as `writeMessage` makes them, written by `sendParts` with what was opened. */
async function slowMessage(
  ctx: CommandContext,
  seq: number,
  uid: number,
  meta: MessageMeta,
  items: readonly FetchItem[],
  flagText: FlagRunText | undefined,
  flags: FlagView | undefined,
  got: Array<Buffer | Promise<BodySource> | BodySource | undefined>,
  skipGone: (err: unknown) => boolean,
): Promise<void> {
  const handle = ctx.session.selected!.handle;
  const parts: ResponsePart[] = [];
  const opened: Array<Buffer | Promise<BodySource> | BodySource | undefined> = [];
  let sentFlags = false;
  let sentModseq = false;
  for (let k = 0; k < items.length; k++) {
    const item = items[k]!;
    const sep = k > 0 ? ' ' : '';
    switch (item.type) {
      case 'UID':
        parts.push(`${sep}UID ${uid}`);
        break;
      case 'FLAGS':
        parts.push(sep, flagText!.of(uid));
        sentFlags = true;
        break;
      case 'MODSEQ':
        parts.push(`${sep}MODSEQ (${flags!.modseqOf(uid)})`);
        sentModseq = true;
        break;
      case 'RFC822.SIZE':
        parts.push(`${sep}RFC822.SIZE ${meta.size}`);
        break;
      default: {
        parts.push(`${sep}${nameOf(item)} `);
        const sec = sectionOf(item)!;
        const partial = (item as { partial?: { origin: number; length: number } }).partial;
        let d: BodyData;
        if (item.type === 'BINARY') {
          const [s, e] = clip(0, meta.size, partial);
          d = byteRange(handle, uid, s, e, true);
        } else d = topSection(handle, { uid, meta }, sec, partial)!;
        opened[parts.length] = got[k];
        got[k] = undefined;
        parts.push(d);
      }
    }
  }
  if (ctx.session.condstore && sentFlags && !sentModseq) parts.push(` MODSEQ (${flags!.modseqOf(uid)})`);
  try {
    await sendParts(ctx, fetchOpen(ctx.session, seq, uid), parts, opened);
  } catch (err) {
    if (!skipGone(err)) throw err;
  }
}
