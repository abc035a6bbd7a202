/**
 * Batched meta data (size, date, header, envelope) for FETCH and SEARCH,
 * tolerant of single bad articles: when a batch fails, each article is asked
 * for alone, so one article the upstream cannot deliver (a 1 MB header line,
 * a vanished spool file) costs only itself. When every article fails, the
 * first error is thrown (the upstream is down: NO [UNAVAILABLE]).
 */
import type { MailboxHandle, MessageMeta, MetaOptions } from '../export/interface.js';

export interface MetaBatch {
  metas: Map<number, MessageMeta>;
  /** UIDs whose meta could not be read. */
  failed: number[];
}

async function collect(handle: MailboxHandle, uids: readonly number[], into: Map<number, MessageMeta>, opts: MetaOptions): Promise<void> {
  for await (const m of handle.meta(uids, opts)) into.set(m.uid, m);
}

/** `opts.exactSize: false` when the caller does not use the sizes (see MetaOptions). */
export async function metaBatch(handle: MailboxHandle, uids: readonly number[], opts: MetaOptions = {}): Promise<MetaBatch> {
  const metas = new Map<number, MessageMeta>();
  try {
    await collect(handle, uids, metas, opts);
    return { metas, failed: [] };
  } catch (err) {
    if (uids.length === 1) throw err;
    const failed: number[] = [];
    let first: unknown;
    for (const uid of uids) {
      if (metas.has(uid)) continue;
      try {
        await collect(handle, [uid], metas, opts);
      } catch (e) {
        first ??= e;
        failed.push(uid);
      }
    }
    if (metas.size === 0) throw first ?? err;
    return { metas, failed };
  }
}
