/**
 * Planned reads for FETCH and SEARCH (`MessageReader.read`): the caller says
 * what it will use of each message (`ReadNeeds`); this file decides the
 * upstream work and hands back consecutive batches as they become ready.
 *
 * - Batches of READ_BATCH messages (BODY_BATCH when bodies are downloaded
 *   for a FETCH of at most BODY_BATCH_SPAN messages): one pipelined header round (HEAD_WINDOW in flight) per
 *   batch, and one flag view per batch on the caller's side.
 * - Bodies or structures are asked for before meta data (`prefetch`: of the
 *   current batch and every batch read ahead, before any meta data, so a FETCH
 *   of bodies sends the ARTICLE commands of all those batches at once;
 *   `prefetchStructures`), so a size that must be exact comes from that same
 *   read: no article is read twice.
 * - For a caller that streams its batches on (`needs.streams`, a FETCH
 *   listing) without bodies, the meta data of META_READ_AHEAD further batches
 *   is asked for while it renders the current one, so the upstream pipeline
 *   does not drain at every batch end. With bodies, BODY_READ_AHEAD further
 *   batches (their downloads and meta data) while the current one is sent:
 *   the downloads go to the article cache and are held in memory until
 *   stored, so no further. Not for a caller answering at the end (SEARCH): batches read
 *   ahead of a warm search only cost it (measured: +20% CPU, more objects
 *   surviving to the old generation).
 * - A batch whose meta read fails is read again one message at a time, so one
 *   article the upstream cannot deliver (a 1 MB header line, a vanished spool
 *   file) costs only itself (`MessageBatch.failed`). When no message of the
 *   batch can be read, the first error is thrown (the upstream is down).
 *
 * A caller that stops early leaves reads already started to finish into the
 * caches; their failures are observed here and dropped.
 */
import type { MessageBatch, MessageMeta, MetaOptions, ReadNeeds } from '../interface.js';
import { BODY_BATCH, BODY_BATCH_SPAN, BODY_READ_AHEAD, META_READ_AHEAD, READ_BATCH } from './limits.js';

/** What a planned read is made of (GroupReader). */
export interface BatchReader {
  meta(uids: readonly number[], opts?: MetaOptions): AsyncIterable<MessageMeta>;
  /** Metas known without reading (a warm listing), and the UIDs left for `meta`. */
  known?(uids: readonly number[], opts?: MetaOptions): { metas: Map<number, MessageMeta>; rest: readonly number[] };
  prefetch(uids: readonly number[]): void;
  prefetchStructures(uids: readonly number[]): void;
}

interface Started {
  uids: readonly number[];
  metas: Promise<MetaResult> | null;
}

interface MetaResult {
  metas: Map<number, MessageMeta>;
  failed: number;
}

export function readBatches(r: BatchReader, uids: readonly number[], needs: ReadNeeds): AsyncIterable<MessageBatch> {
  // one batch (a client opening a message): the same reads, without the read-ahead bookkeeping
  return uids.length <= batchOf(needs, uids.length) ? oneBatch(r, uids, needs) : batches(r, uids, needs);
}

/** Messages per batch: fewer when a read of up to BODY_BATCH_SPAN messages downloads bodies for a caller that streams its answer (see BODY_BATCH). */
function batchOf(needs: ReadNeeds, count: number): number {
  return needs.content && needs.streams && count <= BODY_BATCH_SPAN ? BODY_BATCH : READ_BATCH;
}

async function* oneBatch(r: BatchReader, uids: readonly number[], needs: ReadNeeds): AsyncIterable<MessageBatch> {
  if (uids.length === 0) return;
  const structure = needs.structure ?? false;
  if (needs.content) r.prefetch(uids);
  else if (structure !== false && uids.length > 1) {
    const todo = structure === true ? uids : uids.filter(structure);
    if (todo.length > 1) r.prefetchStructures(todo);
  }
  const got = needs.meta ? await metaBatch(r, uids, { exactSize: needs.exactSize ?? true }) : undefined;
  yield { from: 0, uids, metas: got?.metas, failed: got?.failed ?? 0 };
}

async function* batches(r: BatchReader, uids: readonly number[], needs: ReadNeeds): AsyncIterable<MessageBatch> {
  const exactSize = needs.exactSize ?? true;
  const structure = needs.structure ?? false;
  const step = batchOf(needs, uids.length);
  const started = new Map<number, Started>();
  /** Batches whose downloads were asked for: all those read ahead before any meta data, so every ARTICLE leaves in one go. */
  const prefetched = new Set<number>();
  const prefetch = (from: number): void => {
    if (from >= uids.length || prefetched.has(from)) return;
    prefetched.add(from);
    r.prefetch(uids.slice(from, from + step)); // also one message: its size and header then come from the download, not a read of their own
  };
  const start = (from: number): Started => {
    const known = started.get(from);
    if (known !== undefined) return known;
    const batch = uids.slice(from, from + step);
    if (needs.content) prefetch(from);
    else if (structure !== false && batch.length > 1) {
      const todo = structure === true ? batch : batch.filter(structure);
      if (todo.length > 1) r.prefetchStructures(todo);
    }
    let metas: Promise<MetaResult> | null = null;
    if (needs.meta) {
      metas = metaBatch(r, batch, { exactSize });
      metas.catch(() => undefined); // observed when its batch is reached
    }
    const s = { uids: batch, metas };
    started.set(from, s);
    return s;
  };
  const ahead = needs.streams ? (needs.content ? BODY_READ_AHEAD : META_READ_AHEAD) : 0;
  for (let from = 0; from < uids.length; from += step) {
    if (needs.content) for (let k = 0; k <= ahead; k++) prefetch(from + k * step);
    const s = start(from);
    prefetched.delete(from);
    started.delete(from);
    for (let k = 1; k <= ahead && from + k * step < uids.length; k++) start(from + k * step);
    const got = s.metas === null ? undefined : await s.metas;
    yield { from, uids: s.uids, metas: got?.metas, failed: got?.failed ?? 0 };
  }
}

async function collect(r: BatchReader, uids: readonly number[], into: Map<number, MessageMeta>, opts: MetaOptions): Promise<void> {
  for await (const m of r.meta(uids, opts)) into.set(m.uid, m);
}

/** The meta data of one batch, asked for alone per message when the batch fails (see the file comment). */
async function metaBatch(r: BatchReader, all: readonly number[], opts: MetaOptions): Promise<MetaResult> {
  const known = r.known?.(all, opts);
  const metas = known?.metas ?? new Map<number, MessageMeta>();
  const uids = known?.rest ?? all;
  try {
    if (uids.length > 0) await collect(r, uids, metas, opts);
    return { metas, failed: 0 };
  } catch (err) {
    if (all.length === 1) throw err;
    let failed = 0;
    let first: unknown;
    for (const uid of uids) {
      if (metas.has(uid)) continue;
      try {
        await collect(r, [uid], metas, opts);
      } catch (e) {
        first ??= e;
        failed++;
      }
    }
    if (metas.size === 0) throw first ?? err;
    return { metas, failed };
  }
}
