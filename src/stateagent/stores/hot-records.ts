/**
 * The LMDB store's cache of decoded mailbox records: a bounded LRU (at most
 * HOT_KEYS records and, beyond the newest one, HOT_ITEMS numbers in all), so
 * a warm view costs a version check, not a decode. Whether a cached record is
 * still current is the store's business (it compares LMDB entry versions);
 * this class only keeps, bounds and forgets.
 */
import { HOT_ITEMS, HOT_KEYS } from '../limits.js';
import type { MailboxFlags } from './mailbox-state.js';

/** A mailbox as loaded: its flags and its chunk splits (chunks.ts). */
export interface Loaded {
  mf: MailboxFlags;
  splits: number[];
}

function itemsOf(mf: MailboxFlags): number {
  let n = mf.modseqs.runCount * 3;
  for (const set of mf.byFlag.values()) n += set.rangeCount * 2;
  return n;
}

export class HotRecords {
  private readonly map = new Map<string, { loaded: Loaded; items: number }>();
  private items = 0;

  /** The cached record of `k` (marked most recently used), if any. */
  get(k: string): Loaded | undefined {
    const hit = this.map.get(k);
    if (!hit) return undefined;
    this.map.delete(k);
    this.map.set(k, hit);
    return hit.loaded;
  }

  /** Keep `l` as the record of `k`, unless a newer one (higher HIGHESTMODSEQ) is kept already. */
  remember(k: string, l: Loaded): void {
    const old = this.map.get(k);
    if (old && old.loaded.mf.highestModseq > l.mf.highestModseq) return;
    if (old) this.items -= old.items;
    this.map.delete(k);
    const items = itemsOf(l.mf);
    this.map.set(k, { loaded: l, items });
    this.items += items;
    while (this.map.size > HOT_KEYS || (this.items > HOT_ITEMS && this.map.size > 1)) {
      const [oldest, v] = this.map.entries().next().value!;
      this.map.delete(oldest);
      this.items -= v.items;
    }
  }

  clear(): void {
    this.map.clear();
    this.items = 0;
  }
}
