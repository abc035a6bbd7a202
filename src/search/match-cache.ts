/**
 * Answers of `IndexReader.match` kept for the same question asked again
 * (a client paging through a SEARCH or SORT result, a saved search run at
 * every refresh): valid only while the database is unchanged.
 *
 * Validity: an entry is stamped with the connection's `PRAGMA data_version`
 * (which moves whenever another connection — the writer thread, another
 * process — commits) and a count of the writes made on the reading connection
 * itself (an inline writer), which `data_version` does not see. Any commit,
 * to any mailbox, makes every entry stale: a cached answer is never older
 * than the database.
 *
 * Bounds: at most MAX_ENTRIES answers and MAX_BYTES of UID lists; the least
 * recently used go first. Stamps only move forward, so an answer kept under
 * another stamp than the one being stored can never be given again: it goes
 * then (after the bench's rows they held several MB until pushed out). An answer bigger than MAX_ENTRY_BYTES is not kept
 * (it costs its rows anyway). Callers must not modify the arrays they get.
 */
/** What is kept: an answer's UID lists (query.ts `MatchResult`). */
interface MatchResult {
  uids: Uint32Array;
  unindexed: Uint32Array;
}

const MAX_ENTRIES = 64;
const MAX_BYTES = 8 << 20;
const MAX_ENTRY_BYTES = 1 << 20;

export class MatchCache<R extends MatchResult = MatchResult> {
  private readonly entries = new Map<string, { stamp: string; result: R; bytes: number }>();
  private bytes = 0;

  /** The answer kept for `key` under `stamp`, else `compute()`'s, then kept. */
  answer(key: string, stamp: string, compute: () => R): R {
    let r = this.get(key, stamp);
    if (r === undefined) this.set(key, stamp, (r = compute()));
    return r;
  }

  /** The answer kept for `key` under `stamp`, else undefined (a stale entry is dropped). */
  get(key: string, stamp: string): R | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    this.entries.delete(key);
    if (e.stamp !== stamp) {
      this.bytes -= e.bytes;
      return undefined;
    }
    this.entries.set(key, e); // most recently used last
    return e.result;
  }

  set(key: string, stamp: string, result: R): void {
    const bytes = result.uids.byteLength + result.unindexed.byteLength + key.length * 2;
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.entries.delete(key);
      this.bytes -= old.bytes;
    }
    for (const [k, e] of this.entries) {
      if (e.stamp === stamp) continue;
      this.entries.delete(k);
      this.bytes -= e.bytes;
    }
    if (bytes > MAX_ENTRY_BYTES) return;
    this.entries.set(key, { stamp, result, bytes });
    this.bytes += bytes;
    for (const [k, e] of this.entries) {
      if (this.entries.size <= MAX_ENTRIES && this.bytes <= MAX_BYTES) break;
      this.entries.delete(k);
      this.bytes -= e.bytes;
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
