/**
 * Child-process probe: RSS growth while the large article streams through
 * NntpClient. Run alone so the bench's own heap (corpus facts, earlier
 * transfers) does not blur the figure.
 *
 *   node dist/bench/stream-rss.js <port> <group> <number>
 *   → stdout: {"bytes":…, "seconds":…, "baselineMB":…, "peakMB":…, "growthMB":…, "liveGrowthMB":…}
 *
 * Two reads of the article. First RSS, sampled with process.memoryUsage.rss()
 * at every chunk, no forced GC. Then live memory (heapUsed + arrayBuffers
 * after a forced GC every 4 MiB), which is what the client really retains.
 * MB = 10^6 bytes. Exit status 1 with a message on
 * stderr if anything fails.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { NntpClient } from '../src/nntp/client.js';

/** Live-memory sampling interval (a GC each time; the integration test samples the same way). */
const LIVE_SAMPLE_BYTES = 4 * 1024 * 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const live = (): number => {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

async function main(): Promise<void> {
  const [portArg, group, numberArg] = process.argv.slice(2);
  const port = Number(portArg);
  const number = Number(numberArg);
  if (!group || !Number.isInteger(port) || !Number.isInteger(number)) throw new Error('usage: stream-rss <port> <group> <number>');
  const c = await NntpClient.connect({ host: '127.0.0.1', port, pipelineWindow: 100 });
  try {
    await c.group(group);
    // Warm the code paths once with a small article so the baseline includes them.
    for await (const _ of (await c.article(group, 1)).stream) void _;
    // Pass 1: RSS as the OS sees it, no forced GC (freed Buffers count until V8 collects them).
    const baseline = process.memoryUsage.rss();
    let peak = baseline;
    let bytes = 0;
    const t0 = performance.now();
    for await (const chunk of (await c.article(group, number)).stream) {
      bytes += (chunk as Buffer).length;
      const r = process.memoryUsage.rss();
      if (r > peak) peak = r;
    }
    const seconds = (performance.now() - t0) / 1000;
    // Pass 2: live memory (heap + ArrayBuffers after a GC every LIVE_SAMPLE_BYTES): what is actually retained.
    gc();
    const liveBase = live();
    let livePeak = 0;
    let got = 0;
    let next = 0;
    for await (const chunk of (await c.article(group, number)).stream) {
      got += (chunk as Buffer).length;
      if (got >= next) {
        next += LIVE_SAMPLE_BYTES;
        livePeak = Math.max(livePeak, live() - liveBase);
      }
    }
    if (got !== bytes) throw new Error(`second read gave ${got} bytes, first ${bytes}`);
    process.stdout.write(
      JSON.stringify({ bytes, seconds, baselineMB: baseline / 1e6, peakMB: peak / 1e6, growthMB: (peak - baseline) / 1e6, liveGrowthMB: livePeak / 1e6 }) + '\n',
    );
  } finally {
    await c.quit();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`stream-rss: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
