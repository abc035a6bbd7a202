/**
 * Gives back the free space V8 leaves in the pages of its old generation.
 *
 * A full collection frees dead objects but moves live ones only out of the
 * pages it picks as worth evacuating; the rest keep their holes, committed
 * and resident. After the bench's one-session rows (listings, searches,
 * SORT/THREAD, each allocating and dropping tens of MB among long-lived cache
 * entries) the old generation of a 100k-article server held ~95–115 MB
 * committed with ~72 MB used after a forced collection (issue 14).
 *
 * The compactor looks at the old generation every `intervalMs` (the malloc
 * trimmer's interval). When its free space (committed minus used, after
 * sweeping: holes and unused tail) is at least `minFreeBytes` and at least
 * a quarter of what is used, it runs one major collection with V8's
 * `--compact-on-every-full-gc` switched on for that collection only, so every
 * fragmented page is evacuated and the emptied pages go back to the OS. At
 * most once per MIN_GAP_MS, and only while the process is quiet (it used less
 * than QUIET_CPU of the CPU since the last check): one compaction of ~100 MB
 * live costs ~100 ms of main thread, and while it evacuates, the pages it
 * moves objects into are committed before the old ones go, so under load it
 * added a spike of tens of MB (a bench run with 50 clients: peak 440 MB,
 * 272 MB once it was done). `gc` comes from `--expose-gc`, switched on at first use;
 * where that fails the compactor stays off.
 */
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from './log.js';

/** Shortest time between two compactions. */
export const MIN_GAP_MS = 30_000;

/** Share of one CPU (all threads) the process may have used since the last check for a compaction to run. */
export const QUIET_CPU = 0.2;

/** Bytes committed and used by the old generation. */
export interface OldSpace {
  committed: number;
  used: number;
}

export interface HeapCompactor {
  stop(): void;
  /** Checks now (same conditions as the timer); true when it compacted. */
  checkNow(): boolean;
  /** Compactions done (stats). */
  readonly compactions: number;
}

function oldSpace(): OldSpace {
  const s = getHeapSpaceStatistics().find((sp) => sp.space_name === 'old_space');
  return { committed: s?.space_size ?? 0, used: s?.space_used_size ?? 0 };
}

let gcFn: (() => void) | Error | undefined;
/** V8's `gc` itself (takes options), once `fullGc` found it. */
let rawGc: ((opts?: { type: 'minor' }) => void) | undefined;
let loaded: (() => void) | Error | undefined;

/**
 * Runs one compacting full collection of this thread's heap now (a worker
 * thread has a heap of its own); false when `gc` is not available.
 */
export function compactHeap(): boolean {
  loaded ??= loadCompact();
  if (loaded instanceof Error) return false;
  loaded();
  return true;
}

/**
 * V8's `gc` (a full, precise, non-compacting collection of this thread's
 * heap), or an Error saying why there is none. `--expose-gc` is switched on
 * at first use.
 */
export function fullGc(): (() => void) | Error {
  if (gcFn !== undefined) return gcFn;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    // gc() without options: with `{ type: 'major' }` Node 20's V8 left the garbage
    if (typeof gc === 'function') rawGc = gc as typeof rawGc;
    gcFn = typeof gc === 'function' ? () => (gc as () => void)() : new Error('no gc function');
  } catch (err) {
    gcFn = err as Error;
  }
  return gcFn;
}

/** A compacting full collection of this thread's heap (as `compactHeap`), or an Error saying why there is none. */
export function compactingGc(): (() => void) | Error {
  return (loaded ??= loadCompact());
}

/**
 * A compacting major collection, or an Error saying why there is none. A
 * scavenge follows it: V8 frees the memory of the ArrayBuffers the collection
 * found dead on a background thread, which the next collection first waits
 * for, so that memory is returned before this returns rather than some time
 * after (on the busy 2-core bench machine, ~80 MB of the 1M group's listing
 * buffers still resident 150 ms after the collection, gone 0.5 s later). The
 * scavenge finds the young generation nearly empty (the major collection
 * emptied it); what it costs is mostly the freeing, moved to this thread.
 */
function loadCompact(): (() => void) | Error {
  const gc = fullGc();
  if (gc instanceof Error) return gc;
  const minor = rawGc;
  return () => {
    setFlagsFromString('--compact-on-every-full-gc');
    try {
      gc();
    } finally {
      setFlagsFromString('--no-compact-on-every-full-gc');
    }
    minor?.({ type: 'minor' });
  };
}

/**
 * Starts checking every `intervalMs`; `minFreeBytes` 0 or `intervalMs` 0 =
 * never (the returned compactor does nothing). `deps` replace V8's figures,
 * the collection and the clock (tests).
 */
export function startHeapCompactor(
  intervalMs: number,
  minFreeBytes: number,
  log: Logger,
  deps: { space?: () => OldSpace; compact?: () => void; now?: () => number; cpuMs?: () => number } = {},
): HeapCompactor {
  let count = 0;
  const off: HeapCompactor = { stop: () => undefined, checkNow: () => false, compactions: 0 };
  if (intervalMs <= 0 || minFreeBytes <= 0) return off;
  const compact = deps.compact ?? (loaded ??= loadCompact());
  if (compact instanceof Error) {
    log.debug({ reason: compact.message }, 'memory: heap compaction not available');
    return off;
  }
  const space = deps.space ?? oldSpace;
  const now = deps.now ?? Date.now;
  const cpuMs = deps.cpuMs ?? ((): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  });
  let last = -Infinity;
  let seen = { t: now(), cpu: cpuMs() };
  const checkNow = (): boolean => {
    const t = now();
    const cpu = cpuMs();
    const busy = cpu - seen.cpu > QUIET_CPU * (t - seen.t);
    seen = { t, cpu };
    if (busy || t - last < MIN_GAP_MS) return false;
    const before = space();
    const free = before.committed - before.used;
    if (free < minFreeBytes || free < before.used / 4) return false;
    last = t;
    const t0 = performance.now();
    compact();
    count++;
    const after = space();
    log.debug({ committedBefore: before.committed, usedBefore: before.used, committedAfter: after.committed, usedAfter: after.used, ms: Math.round(performance.now() - t0) }, 'memory: old generation compacted');
    return true;
  };
  const timer = setInterval(() => void checkNow(), intervalMs).unref();
  return {
    stop: () => clearInterval(timer),
    checkNow,
    get compactions() {
      return count;
    },
  };
}
