/**
 * Loaded into the soaked newsfront (`node --import ./bench/soak-probe.ts …`)
 * by bench/soak.ts, never by a deployment. Over the IPC channel it answers:
 *
 *   'sample'          → { kind: 'sample', heapUsed, heapTotal, external, arrayBuffers, rss, newSpace, malloced }
 *                       after a major GC when node runs with --expose-gc, so
 *                       the heap figure is what is alive, not what is not yet collected;
 *   { snapshot: path } → writes a V8 heap snapshot there, answers { kind: 'snapshot', path }.
 *
 * Without an IPC channel it does nothing. The channel is unref'd: it keeps
 * no process alive.
 */
import { getHeapSpaceStatistics, getHeapStatistics, writeHeapSnapshot } from 'node:v8';

const g = globalThis as { gc?: () => void };

if (process.send && process.channel) {
  process.channel.unref();
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
    } else if (typeof msg === 'object' && msg !== null && typeof (msg as { snapshot?: unknown }).snapshot === 'string') {
      g.gc?.();
      const path = writeHeapSnapshot((msg as { snapshot: string }).snapshot);
      process.send!({ kind: 'snapshot', path });
    }
  });
}
