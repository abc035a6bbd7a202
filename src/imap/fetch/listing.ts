/**
 * The listing fast path of FETCH (commands/fetch.ts): a batch of messages
 * whose items all come from the snapshot, the flag view and cached header or
 * rendered structure data, written as one buffer with no await per message.
 */
import type { CommandContext } from '../command.js';
import type { FetchItem } from '../wire/fetch-att.js';
import { dateTimeText } from '../wire/encoder.js';
import { ByteWriter } from '../wire/byte-writer.js';
import type { Chunk } from '../wire/writer.js';
import type { MessageMeta } from '../../export/interface.js';
import type { FlagView } from '../../stateagent/flagstore.js';
import type { Envelopes } from '../render/cache.js';
import { FlagRunText } from './flag-runs.js';
import { uidOnly as isUidOnly } from '../uidonly.js';
import { objectIdItem } from './extra-items.js';
import type { BatchRenderings } from './structures.js';

/** Items answered from the snapshot, flags and cached header data alone: no await per message. */
export const LISTING_ITEMS = new Set(['UID', 'FLAGS', 'MODSEQ', 'RFC822.SIZE', 'INTERNALDATE', 'ENVELOPE', 'EMAILID', 'THREADID']);

/**
 * A whole batch of a listing (FETCH 1:* (UID FLAGS ENVELOPE RFC822.SIZE ...)),
 * rendered synchronously into chunks for one write: the hot path of every
 * client's mailbox view (invariant 6: all of it from overview/header data).
 */
export function listingBatch(
  ctx: CommandContext,
  seqs: readonly number[],
  uids: readonly number[],
  items: readonly FetchItem[],
  metas: ReadonlyMap<number, MessageMeta> | undefined,
  flags: FlagView | undefined,
  envelopes: Envelopes,
  structures?: BatchRenderings,
): Chunk[] {
  const condstore = ctx.session.condstore;
  // `fetchOpen`'s two forms, written without a string per message
  const uidOnly = isUidOnly(ctx.session);
  const w = new ByteWriter(Math.max(4096, seqs.length * 384)); // ~250–350 bytes a message: one allocation, no growth
  const flagText = flags && seqs.length > 0 ? new FlagRunText(flags, uids[0]!, uids[uids.length - 1]!) : undefined;
  for (let i = 0; i < seqs.length; i++) {
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
  return [w.take()];
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
