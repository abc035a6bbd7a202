/**
 * FETCH and UID FETCH (RFC 9051 §6.4.5, §7.5.2; BINARY RFC 3516).
 *
 *   C: a1 UID FETCH 1:* (UID FLAGS ENVELOPE RFC822.SIZE)
 *   S: * 1 FETCH (UID 1 FLAGS () ENVELOPE ("Mon, ..." "Hello" ...) RFC822.SIZE 2301)
 *   C: a2 FETCH 7 (BODY.PEEK[2]<0.1024>)
 *   S: * 7 FETCH (BODY[2]<0> {1024}
 *   S: <1024 octets>)
 *
 * Work per message depends on the items: FLAGS/UID cost nothing upstream;
 * ENVELOPE, RFC822.SIZE, INTERNALDATE and header sections need the cached
 * header (`meta`); BODY/BODYSTRUCTURE and part sections the cached MIME
 * structure; only body sections read article bytes (invariant 6). FETCH says
 * which of these it needs (`ReadNeeds`) and renders the batches the backend
 * reader hands back (`MessageReader.read`); the upstream work — pipelining,
 * read-ahead, bodies before sizes, retries — is planned there, not here.
 * EMAILID/THREADID (RFC 8474) and PREVIEW (RFC 8970): fetch/extra-items.ts;
 * after ENABLE UIDONLY responses are UIDFETCH (RFC 9586, uidonly.ts).
 */
import { command, type CommandContext } from '../command.js';
import { SELECTED } from '../session.js';
import { parseFetchItems, type FetchItem, type FetchRequest, type Section } from '../wire/fetch-att.js';
import type { SequenceSet } from '../wire/sequence-set.js';
import { dateTime } from '../wire/encoder.js';
import { concreteSet, resolveSet, uidsOf } from '../sequence.js';
import type { Chunk } from '../wire/writer.js';
import { bodySection, binarySection, binarySize, topSection, type BodyData, type MessageData } from '../fetch/body.js';
import { isBodyData, sendParts } from '../fetch/send.js';
import { bodyBatch } from '../fetch/bodies.js';
import { planOf } from '../fetch/plan.js';
import type { MessageMeta, MimePart, ReadNeeds } from '../../export/interface.js';
import { BackendError } from '../../export/interface.js';
import type { FlagView } from '../../stateagent/flagstore.js';
import type { Envelopes } from '../render/cache.js';
import { bad, no } from '../errors.js';
import { markSeenElsewhere } from '../crosspost.js';
import { uidSetText } from '../updates.js';
import { fetchOpen, omitUidItem } from '../uidonly.js';
import { objectIdItem, previewCached, previewItem } from '../fetch/extra-items.js';
import { listingOutput, writeListing } from '../fetch/listing.js';
import { batchStructures, unrendered } from '../fetch/structures.js';

interface FetchArgs {
  set: SequenceSet | '$';
  req: FetchRequest;
}

/** UID FETCH ... (VANISHED): UIDs of the set that no longer exist (RFC 7162 §3.2.6). */
async function announceVanished(ctx: CommandContext, set: SequenceSet): Promise<void> {
  const sel = ctx.session.selected!;
  const top = Math.max(sel.uidNext - 1, 0);
  const gone: number[] = [];
  for (const [lo, hi] of set.resolve(top)) for (let u = lo; u <= hi; u++) if (sel.seqOf(u) === 0) gone.push(u);
  if (gone.length > 0) await ctx.untagged(`VANISHED (EARLIER) ${uidSetText(gone)}`);
}

function parseFetch(d: import('../wire/decoder.js').Decoder): FetchArgs {
  d.sp();
  const set = d.sequenceSetOrSaved();
  d.sp();
  const req = parseFetchItems(d);
  d.end();
  return { set, req };
}

async function runFetch(ctx: CommandContext, args: FetchArgs, byUid: boolean): Promise<void> {
  const s = ctx.session;
  const sel = s.selected!;
  const items = [...args.req.items];
  if (byUid && !omitUidItem(s) && !items.some((i) => i.type === 'UID')) items.unshift(UID_ITEM);
  const { changedSince, vanished } = args.req;
  if (changedSince !== undefined || items.some((i) => i.type === 'MODSEQ')) {
    if (!ctx.server.options.persistentFlags) throw bad('CLIENTBUG', 'MODSEQ and CHANGEDSINCE need CONDSTORE');
    s.enabled.add('CONDSTORE');
  }
  if (vanished && (!byUid || changedSince === undefined || !s.enabled.has('QRESYNC'))) {
    throw bad('CLIENTBUG', 'VANISHED needs UID FETCH, CHANGEDSINCE and ENABLE QRESYNC');
  }
  if (changedSince !== undefined && !items.some((i) => i.type === 'MODSEQ')) items.push(MODSEQ_ITEM);
  let seqs = resolveSet(sel, args.set, byUid);
  if (vanished) await announceVanished(ctx, concreteSet(sel, args.set, true));
  if (changedSince !== undefined && seqs.length > 0) {
    const view = await s.flags!.view(s.flagKey(), sel.uidAt(seqs[0]!), sel.uidAt(seqs[seqs.length - 1]!));
    seqs = seqs.filter((n) => view.modseqOf(sel.uidAt(n)) > changedSince);
  }
  if (seqs.length === 0) return;
  const plan = planOf(items);
  const wantMeta = plan.meta;
  const wantStructure = plan.structure;
  const cache = ctx.server.renderCache;
  const wantContent = plan.content || (plan.eagerPreview && seqs.some((n) => !previewCached(cache, sel, sel.uidAt(n))));
  const setsSeen = !sel.readOnly && plan.setsSeen;
  const wantFlags = plan.flagItems || setsSeen;
  const listing = plan.listing;
  // byte ranges of whole articles (an offline client's sync): rendered per batch, no promise per message
  const bodies = plan.bodies && sel.handle.bytes !== undefined;
  // BODY/BODYSTRUCTURE beside listing items: rendered per batch too, from renderings gathered first
  const structureListing = plan.structureListing;
  const needSize = plan.exactSize;
  const key = s.flagKey();
  let unreadable = 0;
  // Without implicit \Seen the flags do not change during the command: one view for
  // the whole span, not one per batch (a remote store pays a round trip per view).
  const wholeView = wantFlags && !setsSeen
    ? await s.flags!.view(key, sel.uidAt(seqs[0]!), sel.uidAt(seqs[seqs.length - 1]!))
    : undefined;

  // Structures needed only for BODY/BODYSTRUCTURE renderings: the render cache may have them all.
  const structureItems = plan.structureItems;
  const renderedOnly = plan.renderedOnly;
  const rendered = (uid: number): boolean =>
    structureItems.every((i) => i.type === 'PREVIEW'
      ? previewCached(cache, sel, uid)
      : cache.hasStructure(sel.name, sel.uidValidity, uid, i.type === 'BODYSTRUCTURE', s.utf8));
  // BODY/BODYSTRUCTURE only (a listing): the shelves taken once, nothing allocated per UID
  const missing = (): ((uid: number) => boolean) => (plan.structureOnly ? unrendered(ctx, items) : (u: number) => !rendered(u));
  const needs: ReadNeeds = {
    meta: wantMeta,
    exactSize: needSize,
    content: wantContent,
    streams: true,
    // only what no rendering in the cache answers (a warm BODYSTRUCTURE listing reads nothing)
    structure: wantStructure && (renderedOnly ? missing() : true),
  };
  // the envelope shelf only for ENVELOPE (its lookup is not free; the other items never read it)
  const shelf = plan.envelope ? ctx.server.renderCache.envelopes(sel.name, sel.uidValidity, s.utf8) : undefined;
  // one message (a client opening it): its page is not read back whole and kept for one rendering
  const envelopes = (seqs.length === 1 ? shelf?.single : shelf) ?? NO_ENVELOPES;

  // every batch of a listing command goes through one output (its buffers reused from batch to batch)
  const out = listing || structureListing ? listingOutput(ctx, seqs.length) : undefined;
  for await (const got of sel.handle.read(uidsOf(sel, seqs), needs)) {
    const uids = got.uids;
    const batch = got.from === 0 && uids.length === seqs.length ? seqs : seqs.slice(got.from, got.from + uids.length);
    const metas = got.metas;
    unreadable += got.failed;
    let flags: FlagView | undefined = wholeView;
    let newlySeen: ReadonlySet<number> = NONE_SEEN;
    if (wantFlags) {
      flags ??= await s.flags!.view(key, uids[0]!, uids[uids.length - 1]!);
      if (setsSeen) {
        const unseen = uids.filter((u) => !flags!.has(u, '\\Seen') && (!metas || metas.has(u)));
        if (unseen.length > 0) {
          await sel.own(() => s.flags!.update(key, unseen, 'add', ['\\Seen']), true);
          await markSeenElsewhere(ctx.server, s, unseen);
          newlySeen = new Set(unseen);
          flags = await s.flags!.view(key, uids[0]!, uids[uids.length - 1]!);
        }
      }
    }
    if (listing && newlySeen.size === 0) {
      await writeListing(ctx, { seqs: batch, uids, items, metas, flags, envelopes }, out);
      continue;
    }
    if (bodies && newlySeen.size === 0) {
      await bodyBatch(ctx, batch, uids, items, metas, flags, isGone);
      continue;
    }
    if (structureListing && newlySeen.size === 0) {
      const rendered = await batchStructures(ctx, uids, items, metas);
      await writeListing(ctx, { seqs: batch, uids, items, metas, flags, envelopes, structures: rendered }, out);
      continue;
    }
    for (let i = 0; i < batch.length; i++) {
      const uid = uids[i]!;
      const meta = metas?.get(uid);
      if (wantMeta && !meta) continue; // the article vanished upstream; expiry announces it later
      const msg: MessageData = { uid, meta };
      if (wantStructure) {
        let cached: Promise<MimePart> | undefined;
        msg.structure = () => (cached ??= sel.handle.structure(uid));
      }
      try {
        await writeMessage(ctx, batch[i]!, msg, items, flags, newlySeen.has(uid), envelopes);
      } catch (err) {
        if (err instanceof BackendError && err.code === 'NONEXISTENT') continue;
        throw err;
      }
    }
  }
  await out?.end();
  if (unreadable > 0) {
    throw no('UNAVAILABLE', `${unreadable} article(s) could not be read from the upstream; the others were sent`);
  }
}

/**
 * Prepare every item of one message, then write its FETCH response. All
 * upstream work happens before the first byte of the response is written, so a
 * failure never leaves a half-written response.
 */
async function writeMessage(
  ctx: CommandContext,
  seq: number,
  msg: MessageData,
  items: readonly FetchItem[],
  flags: FlagView | undefined,
  seenChanged: boolean,
  envelopes: Envelopes,
): Promise<void> {
  const sel = ctx.session.selected!;
  const utf8 = ctx.session.utf8;
  const parts: Array<Chunk | BodyData> = [];
  let first = true;
  let sentFlags = false;
  let sentModseq = false;
  const sep = (): void => {
    if (!first) parts.push(' ');
    first = false;
  };
  for (const item of items) {
    sep();
    switch (item.type) {
      case 'UID':
        parts.push(`UID ${msg.uid}`);
        break;
      case 'FLAGS':
        parts.push(`FLAGS (${flags!.flagsOf(msg.uid).join(' ')})`);
        sentFlags = true;
        break;
      case 'INTERNALDATE':
        parts.push('INTERNALDATE ', dateTime(msg.meta!.internalDate));
        break;
      case 'RFC822.SIZE':
        parts.push(`RFC822.SIZE ${msg.meta!.size}`);
        break;
      case 'ENVELOPE':
        parts.push('ENVELOPE ', envelopes.get(msg.meta!));
        break;
      case 'BODY':
      case 'BODYSTRUCTURE':
        parts.push(
          `${item.type} `,
          await ctx.server.renderCache.structure(sel.name, sel.uidValidity, msg.uid, item.type === 'BODYSTRUCTURE', utf8, msg.structure!),
        );
        break;
      case 'RFC822':
        parts.push('RFC822 ', topSection(sel.handle, msg, WHOLE, undefined)!);
        break;
      case 'RFC822.HEADER':
        parts.push('RFC822.HEADER ', await bodySection(sel.handle, msg, { part: [], text: 'HEADER' }, undefined));
        break;
      case 'RFC822.TEXT':
        parts.push('RFC822.TEXT ', topSection(sel.handle, msg, TEXT, undefined)!);
        break;
      case 'BODY[]':
        // a section of the whole message needs no await (a FETCH of 1,000 bodies: no promise each)
        parts.push(`${item.name} `, topSection(sel.handle, msg, item.section, item.partial) ?? (await bodySection(sel.handle, msg, item.section, item.partial)));
        break;
      case 'BINARY':
        parts.push(`${item.name} `, await binarySection(sel.handle, msg, item.part, item.partial));
        break;
      case 'BINARY.SIZE': {
        const n = await binarySize(msg, item.part);
        parts.push(`${item.name} ${n === null ? 'NIL' : n}`);
        break;
      }
      case 'MODSEQ':
        parts.push(`MODSEQ (${flags!.modseqOf(msg.uid)})`);
        sentModseq = true;
        break;
      case 'EMAILID':
      case 'THREADID':
        parts.push(objectIdItem(item.type, msg.meta!, sel, ctx.server.renderCache));
        break;
      case 'PREVIEW':
        parts.push(await previewItem(item.lazy, msg.uid, sel, ctx.server.renderCache, msg.structure, utf8));
        break;
    }
  }
  if (seenChanged && !sentFlags && flags) parts.push(` FLAGS (${flags.flagsOf(msg.uid).join(' ')})`);
  // Once CONDSTORE is on, every FETCH with FLAGS carries MODSEQ (RFC 7162 §3.1.4.1).
  if (ctx.session.condstore && (sentFlags || seenChanged) && !sentModseq && flags) parts.push(` MODSEQ (${flags.modseqOf(msg.uid)})`);
  if (!parts.some(isBodyData)) {
    // the common case (listings): one write, no stream
    await ctx.write(fetchOpen(ctx.session, seq, msg.uid), ...(parts as Chunk[]), ')\r\n');
    return;
  }
  // Opens the article bytes before writing, so a vanished article costs no half response.
  await sendParts(ctx, fetchOpen(ctx.session, seq, msg.uid), parts);
}

/** A vanished article (skipped: expiry announces it later). */
const isGone = (err: unknown): boolean => err instanceof BackendError && err.code === 'NONEXISTENT';

/** The items UID FETCH and CHANGEDSINCE add (shared: items are never modified). */
const UID_ITEM: FetchItem = Object.freeze({ type: 'UID', name: 'UID', setsSeen: false });
const MODSEQ_ITEM: FetchItem = Object.freeze({ type: 'MODSEQ', name: 'MODSEQ', setsSeen: false });
/** No message newly \Seen in a batch (the common case: no Set per batch). */
const NONE_SEEN: ReadonlySet<number> = new Set();
/** Stands for the envelope shelf of a FETCH without ENVELOPE: never asked. */
const NO_ENVELOPES: Envelopes = { get: noEnvelope, write: noEnvelope };
function noEnvelope(): never {
  throw new Error('an ENVELOPE rendered for a FETCH without ENVELOPE');
}

const WHOLE: Section = { part: [] };
const TEXT: Section = { part: [], text: 'TEXT' };

export const fetchCommands = [
  command({ name: 'FETCH', states: SELECTED, parse: parseFetch, run: (ctx, a) => runFetch(ctx, a, false), expungeOk: false }),
  command({ name: 'UID FETCH', states: SELECTED, parse: parseFetch, run: (ctx, a) => runFetch(ctx, a, true) }),
];
