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
import type { FetchItem } from '../wire/fetch-att.js';
import type { MailboxHandle, MessageMeta } from '../../export/interface.js';
import type { FlagView } from '../../stateagent/flagstore.js';
import { fetchOpen, uidOnly as isUidOnly } from '../uidonly.js';
import { FlagRunText } from './flag-runs.js';
import { byteRange, clip, topSection, type BodyData, type BodySource } from './body.js';
import { sendParts, type ResponsePart } from './send.js';
import { Outbox } from './outbox.js';
import { LentRun, RESPONSE_TEXT, nameOf, partialOf, rangeOf, reads, renderMessage, sectionOf, writeLiteral, type RenderParams } from './render-message.js';

/** Responses are gathered up to about this many octets before they are written (the writer's own batch size). */
const OUTPUT_CHUNK = 64 * 1024;
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
  const r: RenderParams = { handle, uidOnly, items, condstore, flagText, flags };
  const lent = handle.lend !== undefined ? new LentRun(w, r, handle.lend.bind(handle), OUTPUT_CHUNK) : undefined;
  /** Writes an opened body (a Buffer of the announced size: checked before rendering). */
  const opened = (k: number): boolean => {
    writeLiteral(w, items[k]!, got[k] as Buffer);
    got[k] = undefined;
    return true;
  };
  for (let i = 0; i < seqs.length; i++) {
    if (lent !== undefined) {
      // as many responses as are lent and fit, in one synchronous run; then ship, or message i goes the other way
      i = lent.run(seqs, uids, metas, i);
      if (lent.full) {
        await out.ship();
        i--;
        continue;
      }
      if (i >= seqs.length) break;
    }
    const uid = uids[i]!;
    const meta = metas?.get(uid);
    if (!meta) continue; // the article vanished upstream; expiry announces it later
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
    renderMessage(w, r, seqs[i]!, uid, meta, opened);
    if (w.length >= OUTPUT_CHUNK) await out.ship();
  }
  await out.end();
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
