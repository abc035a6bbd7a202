/**
 * The listing fast path of FETCH (commands/fetch.ts): a batch of messages
 * whose items all come from the snapshot, the flag view and cached header or
 * rendered structure data, written as one buffer with no await per message.
 */
import type { CommandContext } from '../command.js';
import type { FetchItem } from '../wire/fetch-att.js';
import { dateTimeText } from '../wire/encoder.js';
import { ByteWriter } from '../wire/byte-writer.js';
import { Outbox } from './outbox.js';
import type { MessageMeta } from '../../export/interface.js';
import type { FlagView } from '../../stateagent/flagstore.js';
import type { Envelopes } from '../render/cache.js';
import { FlagRunText } from './flag-runs.js';
import { uidOnly as isUidOnly } from '../uidonly.js';
import { objectIdItem } from './extra-items.js';
import type { BatchRenderings } from './structures.js';

/** Items answered from the snapshot, flags and cached header data alone: no await per message. */
export const LISTING_ITEMS = new Set(['UID', 'FLAGS', 'MODSEQ', 'RFC822.SIZE', 'INTERNALDATE', 'ENVELOPE', 'EMAILID', 'THREADID']);

/** One batch of a listing as read from the backend (commands/fetch.ts). */
export interface ListingBatch {
  seqs: readonly number[];
  uids: readonly number[];
  items: readonly FetchItem[];
  metas: ReadonlyMap<number, MessageMeta> | undefined;
  flags: FlagView | undefined;
  envelopes: Envelopes;
  structures?: BatchRenderings;
}

/**
 * Commands of at least this many messages are rendered into an Outbox's reused
 * buffers of LISTING_CHUNK octets; smaller ones (a client opening one message)
 * into one small buffer per batch that joins the tagged reply's write.
 */
const REUSED_FROM = 128;
const LISTING_CHUNK = 64 * 1024;
/** A chunk is shipped once fewer than this many octets are left in it (a message's answer is ~250–350 octets; a longer one grows the buffer). */
const CHUNK_HEADROOM = 4 * 1024;

/**
 * The output of one listing command: an Outbox over two reused buffers of
 * LISTING_CHUNK octets for a command of REUSED_FROM messages or more (every
 * batch of it rendered into them, `end()` once after the last batch), none
 * for a smaller one. A 1M-article listing rendered into a fresh buffer per
 * batch left hundreds of MB of freed-but-resident malloc heap and set off
 * collections by external memory alone; an Outbox per batch took a fresh
 * buffer per batch (the last one is still queued when the next starts), which
 * made a FLAGS listing (~35 octets a message) 2× slower.
 */
export function listingOutput(ctx: CommandContext, messages: number): Outbox | undefined {
  return messages >= REUSED_FROM ? new Outbox(ctx, LISTING_CHUNK) : undefined;
}

/**
 * Writes a whole batch of a listing (FETCH 1:* (UID FLAGS ENVELOPE
 * RFC822.SIZE ...)): the hot path of every client's mailbox view (invariant
 * 6: all of it from overview/header data), rendered synchronously a chunk at
 * a time into `out` (listingOutput), shipped as each chunk fills; what is left
 * goes on with the next batch, or with the tagged reply at `out.end()`.
 * Nothing else may write between two batches of one command (the listing
 * paths of FETCH are all or nothing per command). Without `out` (a small
 * command) the batch goes in one small buffer.
 */
export async function writeListing(ctx: CommandContext, b: ListingBatch, out: Outbox | undefined): Promise<void> {
  if (out === undefined) {
    // under 4 KiB a Buffer comes from Node's shared pool, not a malloc of its own
    const w = new ByteWriter(Math.min(4095, b.seqs.length * 384));
    renderListing(ctx, b, flagRuns(b), w, 0, Infinity);
    return ctx.write(w.take());
  }
  const flagText = flagRuns(b);
  for (let i = 0; ; ) {
    i = renderListing(ctx, b, flagText, out.w, i, LISTING_CHUNK - CHUNK_HEADROOM);
    if (i >= b.seqs.length) return;
    await out.ship();
  }
}

/** The batch's FLAGS texts, rendered once per run of equal flags. */
function flagRuns(b: ListingBatch): FlagRunText | undefined {
  return b.flags && b.uids.length > 0 ? new FlagRunText(b.flags, b.uids[0]!, b.uids[b.uids.length - 1]!) : undefined;
}

/** Renders the batch's messages from index `from` until `w` holds `limit` octets or more; returns the index to go on from. */
function renderListing(ctx: CommandContext, b: ListingBatch, flagText: FlagRunText | undefined, w: ByteWriter, from: number, limit: number): number {
  const { seqs, uids, items, metas, flags, envelopes, structures } = b;
  const condstore = ctx.session.condstore;
  // `fetchOpen`'s two forms, written without a string per message
  const uidOnly = isUidOnly(ctx.session);
  for (let i = from; i < seqs.length; i++) {
    if (w.length >= limit) return i;
    const uid = uids[i]!;
    const meta = metas?.get(uid);
    if (metas && !meta) continue;
    if (structures?.gone[i] === 1) continue; // the article vanished upstream
    let nextRendered = structures !== undefined ? i * structures.kinds : 0;
    writeFetchHead(w, uidOnly, seqs[i]!, uid);
    let sentFlags = false;
    let sentModseq = false;
    for (let k = 0; k < items.length; k++) {
      if (k > 0) w.ascii(' ');
      const done = writeSnapshotItem(w, items[k]!.type, uid, meta, flagText, flags);
      if (done !== undefined) {
        sentFlags ||= done === 'FLAGS';
        sentModseq ||= done === 'MODSEQ';
        continue;
      }
      switch (items[k]!.type) {
        case 'INTERNALDATE':
          w.ascii('INTERNALDATE ').ascii(dateTimeText(meta!.internalDate));
          break;
        case 'ENVELOPE':
          envelopes.write(meta!, w.ascii('ENVELOPE '));
          break;
        case 'EMAILID':
        case 'THREADID':
          w.ascii(objectIdItem(items[k]!.type as 'EMAILID', meta!, ctx.session.selected!, ctx.server.renderCache));
          break;
        case 'BODY':
        case 'BODYSTRUCTURE':
          w.ascii(items[k]!.type).ascii(' ').range(structures!.bufs[nextRendered]!, structures!.at[nextRendered]!, structures!.end[nextRendered]!);
          nextRendered++;
          break;
      }
    }
    writeFetchTail(w, uid, condstore && sentFlags && !sentModseq, flags);
  }
  return seqs.length;
}

/** The opening of one message's answer: `* SEQ FETCH (`, or `* UID UIDFETCH (` under UIDONLY (RFC 9586). */
export function writeFetchHead(w: ByteWriter, uidOnly: boolean, seq: number, uid: number): void {
  if (uidOnly) w.ascii('* ').uint(uid).ascii(' UIDFETCH (');
  else w.ascii('* ').uint(seq).ascii(' FETCH (');
}

/**
 * Writes the item when it comes from the snapshot and the flag view alone
 * (UID, FLAGS, MODSEQ, RFC822.SIZE) and returns its name; undefined for any
 * other item, which the caller writes.
 */
export function writeSnapshotItem(
  w: ByteWriter,
  type: string,
  uid: number,
  meta: MessageMeta | undefined,
  flagText: FlagRunText | undefined,
  flags: FlagView | undefined,
): 'UID' | 'FLAGS' | 'MODSEQ' | 'RFC822.SIZE' | undefined {
  switch (type) {
    case 'UID':
      w.ascii('UID ').uint(uid);
      return type;
    case 'FLAGS':
      w.bytes(flagText!.of(uid));
      return type;
    case 'MODSEQ':
      w.ascii(`MODSEQ (${flags!.modseqOf(uid)})`);
      return type;
    case 'RFC822.SIZE':
      w.ascii('RFC822.SIZE ').uint(meta!.size);
      return type;
    default:
      return undefined;
  }
}

/** The end of one message's answer; `modseq`: MODSEQ added (CONDSTORE, RFC 7162 §3.1.4: FLAGS sent without it). */
export function writeFetchTail(w: ByteWriter, uid: number, modseq: boolean, flags: FlagView | undefined): void {
  if (modseq) w.ascii(` MODSEQ (${flags!.modseqOf(uid)})`);
  w.ascii(')\r\n');
}
