/**
 * Collects the garbage a burst of work left in V8's old generation once the
 * burst is over.
 *
 * V8 runs a major collection when its old generation reaches a limit it sets
 * after the previous one: up to ~4× what was live then. A burst that promotes
 * a lot (a cold listing, every body read once) fills the old generation up
 * to near that limit with objects that die soon after; when the work that
 * follows promotes little (sessions fetching one message at a time, ~90 bytes
 * per command), V8 reaches its limit only minutes later, and meanwhile the
 * dead objects stay committed and resident: in the bench, 80–90 MB of the old
 * generation's ~120 MB before the 50 clients started, with ~30 MB live
 * (issue 14; bench/README.md).
 *
 * Every `intervalMs` (the malloc trimmer's interval) the collector compares
 * the old generation's committed bytes (dead objects and the holes V8's own
 * collections leave: they stay resident alike) with the least it has seen
 * used since its own last collection (what that one left, or less after one
 * of V8's). When the difference is at least `garbageBytes` and half of that
 * base (a collection marks the whole live heap: with a large one, it waits
 * for more garbage), and the used bytes grew by less than a quarter of
 * `garbageBytes` since the previous check (the burst is over: V8 will not
 * reach its limit
 * soon), it runs one compacting full collection (heap-compact.ts: a plain
 * one left the emptied pages committed, 131.8 MB committed for 42.9 MB used),
 * at most once per MIN_GAP_MS. Unlike the compactor it also runs while the
 * process is busy: what it frees is what busy sessions would otherwise keep
 * resident. A collection that leaves `garbageBytes` or more may have run in
 * the middle of a burst whose objects are still live (in the bench's body
 * reads: 175 → 74 MB, with ~26 MB live once they were done), and the
 * growth counted from it would then wait for garbage that never comes: the
 * collector looks again at such a heap after MIN_GAP_MS, 2×, 4× … up to
 * MAX_RECHECK_GAP_MS, collecting once a quarter of `garbageBytes` has been
 * added, until a collection leaves less. One collection of a ~30 MB live heap is a pause of a few tens of
 * ms on the main thread, and while it evacuates, up to the live heap again is
 * committed for a moment.
 *
 * The old generation counted here is V8's old space and its large-object
 * space together: arrays of a million entries (a listing's sequence numbers
 * and UIDs, 8 MB each) and long strings live in the latter, which also only a
 * major collection frees. After the warm ENVELOPE listings of a 1M-article
 * group (bench --huge) it held 111 MB, all dead, beside 75 MB used in old
 * space of which 28 MB was live.
 *
 * A command that ran LONG_COMMAND_MS or more (start.ts tells it of FETCH,
 * SEARCH, SORT and THREAD: a listing of a large mailbox) is a burst that is
 * over when it ends: `afterCommand`, called before its tagged completion is
 * sent, checks at once, without waiting for
 * the timer to see the growth slow, so the client finds the process with its
 * garbage gone (the 1M memory row was read right after the listing, before
 * any timer check: 364–569 MB). Such a collection follows the previous one
 * of ours by at least PAUSE_SHARE times that one's pause, so that many long
 * commands ending together spend at most 1/PAUSE_SHARE of the time in it.
 *
 * The end of a burst of background work is checked at once the same way
 * (`afterBurst`): a new group's first SELECT queues its overview records
 * for the index (~64 MB for 100k articles), live until the writer thread
 * has them, so a collection while the timer saw the growth slow (the
 * ingest over, the writes not) freed little (133 → 79 MB), took those
 * records for live (the base), and its recheck came 10 s later — in the
 * bench, V8's own major collection of that garbage ran during the first
 * 1,000-body FETCH instead (98 → 30 MB: incremental marking on the main
 * thread, concurrent marking on the other core INN needed, scavenges of
 * 14 ms instead of 2).
 */
import { getHeapSpaceStatistics } from 'node:v8';
import { compactingGc, type OldSpace } from './heap-compact.js';
import type { Logger } from './log.js';

/** Shortest time between two collections. */
export const MIN_GAP_MS = 10_000;

/** Longest wait before looking again at a heap a collection left large (the gap doubles from MIN_GAP_MS). */
export const MAX_RECHECK_GAP_MS = 300_000;

/** Wall time from which a command's end is checked at once (`afterCommand`). */
export const LONG_COMMAND_MS = 1000;

/** A collection after a command follows the previous one of ours by at least this many times its pause. */
export const PAUSE_SHARE = 10;

export interface LeftoverCollector {
  stop(): void;
  /** Checks now (as the timer does); true when it collected. */
  checkNow(): boolean;
  /**
   * Told that a command's work took `ms` (before its completion is sent);
   * from LONG_COMMAND_MS on, checks at once as if the growth had slowed
   * (the PAUSE_SHARE gap instead of MIN_GAP_MS). True when it collected.
   */
  afterCommand(ms: number): boolean;
  /**
   * Told that a burst of background work is over and the `heldBytes` it
   * kept live are garbage now (the index feed wrote a new group's queued
   * records): they no longer count as live, and it checks at once, as after
   * a long command. True when it collected.
   */
  afterBurst(heldBytes: number): boolean;
  /** Collections run (stats). */
  readonly collections: number;
}

/** V8's old space and large-object space together (see above). */
export function oldGeneration(): OldSpace {
  const g = { committed: 0, used: 0 };
  for (const sp of getHeapSpaceStatistics()) {
    if (sp.space_name !== 'old_space' && sp.space_name !== 'large_object_space') continue;
    g.committed += sp.space_size;
    g.used += sp.space_used_size;
  }
  return g;
}

/**
 * Starts checking every `intervalMs`; `garbageBytes` 0 or `intervalMs` 0 =
 * never (the returned collector does nothing). `deps` replace V8's figures,
 * the collection and the clock (tests).
 */
export function startLeftoverCollector(
  intervalMs: number,
  garbageBytes: number,
  log: Logger,
  deps: { space?: () => OldSpace; collect?: () => void; now?: () => number } = {},
): LeftoverCollector {
  let count = 0;
  const off: LeftoverCollector = { stop: () => undefined, checkNow: () => false, afterCommand: () => false, afterBurst: () => false, collections: 0 };
  if (intervalMs <= 0 || garbageBytes <= 0) return off;
  const collect = deps.collect ?? compactingGc();
  if (collect instanceof Error) {
    log.debug({ reason: collect.message }, 'memory: leftover collection not available');
    return off;
  }
  const space = deps.space ?? oldGeneration;
  const now = deps.now ?? Date.now;
  let last = -Infinity;
  /** The pause of our last collection, ms. */
  let pause = 0;
  let gap = MIN_GAP_MS;
  /** The last collection left a heap of `garbageBytes` or more: perhaps what was live only while a burst ran. */
  let recheck = false;
  let prev = space().used;
  /**
   * The least used since the last collection of ours, or what it left: what
   * is live, as near as the checks see it.
   */
  let base = prev;
  /** `ended`: a long command has just ended (its burst is over, whatever the growth). */
  const check = (ended: boolean): boolean => {
    const { used, committed } = space();
    const step = used - prev;
    prev = used;
    if (used < base) base = used;
    const t = now();
    if (ended ? t - last < PAUSE_SHARE * pause : t - last < gap || step >= garbageBytes / 4) return false;
    // dead objects and the holes V8's own collections left (committed and resident all the same)
    const garbage = Math.max(used, committed) - base;
    // garbage of at least half the live heap too: with a large one, a collection costs more
    if (garbage < Math.max(garbageBytes, base / 2) && !(recheck && garbage >= garbageBytes / 4)) return false;
    const chained = recheck && garbage < Math.max(garbageBytes, base / 2);
    last = t;
    collect();
    count++;
    pause = now() - t;
    const after = space().used;
    log.debug({ usedBefore: used, usedAfter: after, recheck: chained, afterCommand: ended, ms: Math.round(pause) }, 'memory: old generation collected after a burst');
    prev = after;
    base = after;
    recheck = after >= garbageBytes;
    gap = recheck && chained ? Math.min(gap * 2, MAX_RECHECK_GAP_MS) : MIN_GAP_MS;
    return true;
  };
  const checkNow = (): boolean => check(false);
  const timer = setInterval(() => void checkNow(), intervalMs).unref();
  return {
    stop: () => clearInterval(timer),
    checkNow,
    afterCommand: (ms) => ms >= LONG_COMMAND_MS && check(true),
    afterBurst: (heldBytes) => {
      base = Math.max(0, base - heldBytes);
      return check(true);
    },
    get collections() {
      return count;
    },
  };
}
