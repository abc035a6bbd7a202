/**
 * Loaded into the soaked newsfront (`node --import ./bench/soak-probe.ts …`)
 * by bench/soak.ts, never by a deployment. Over the IPC channel it answers:
 *
 *   'sample'          → { kind: 'sample', heapUsed, heapTotal, external, arrayBuffers, rss, newSpace, malloced }
 *                       after a major GC when node runs with --expose-gc, so
 *                       the heap figure is what is alive, not what is not yet collected;
 *   'gcs'             → { kind: 'gcs', minorMs, minor, majorMs, major }: the main thread's
 *                       collections since start (pauses, ms, and counts; forced ones too);
 *   'spaces'          → { kind: 'spaces', spaces } without a GC: V8's heap spaces as they are
 *                       now, committed/used MB each (what a peak is made of);
 *   { snapshot: path } → writes a V8 heap snapshot there, answers { kind: 'snapshot', path }.
 *
 * Without an IPC channel it does nothing. The channel is unref'd: it keeps
 * no process alive.
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics, writeHeapSnapshot } from 'node:v8';

const g = globalThis as { gc?: () => void };

if (process.send && process.channel) {
  process.channel.unref();
  // pauses of the main thread's collections so far (ms, count), by kind
  const gcs = { minorMs: 0, minor: 0, majorMs: 0, major: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) (gcs.majorMs += e.duration), gcs.major++;
      else (gcs.minorMs += e.duration), gcs.minor++;
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('message', (msg: unknown) => {
    if (msg === 'sample') {
      g.gc?.();
      const m = process.memoryUsage();
      const newSpace = getHeapSpaceStatistics().find((sp) => sp.space_name === 'new_space')?.space_size ?? 0;
      process.send!({
        kind: 'sample', heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss,
        newSpace, malloced: getHeapStatistics().malloced_memory,
        spaces: getHeapSpaceStatistics().filter((sp) => sp.space_size > 0).map((sp) => `${sp.space_name} ${(sp.space_size / 1e6).toFixed(1)}/${(sp.space_used_size / 1e6).toFixed(1)}`).join(', '),
      });
    } else if (msg === 'gcs') {
      process.send!({ kind: 'gcs', ...gcs });
    } else if (msg === 'spaces') {
      const m = process.memoryUsage();
      process.send!({
        kind: 'spaces', heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers,
        spaces: getHeapSpaceStatistics().filter((sp) => sp.space_size > 0).map((sp) => `${sp.space_name} ${(sp.space_size / 1e6).toFixed(1)}/${(sp.space_used_size / 1e6).toFixed(1)}`).join(', '),
      });
    } else if (typeof msg === 'object' && msg !== null && typeof (msg as { snapshot?: unknown }).snapshot === 'string') {
      g.gc?.();
      const path = writeHeapSnapshot((msg as { snapshot: string }).snapshot);
      process.send!({ kind: 'snapshot', path });
    }
  });
}
