/**
 * Child-process probe: RSS growth while the large article streams through
 * NntpClient. Run alone so the bench's own heap (corpus facts, earlier
 * transfers) does not blur the figure.
 *
 *   node dist/bench/stream-rss.js <port> <group> <number>
 *   → stdout: {"bytes":…, "seconds":…, "baselineMB":…, "peakMB":…, "growthMB":…}
 *
 * RSS is sampled with process.memoryUsage.rss() at every chunk (cheap: one
 * /proc read) and reported in MB (10^6 bytes). Exit status 1 with a message on
 * stderr if anything fails.
 */
import { NntpClient } from '../src/nntp/client.js';

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
    const baseline = process.memoryUsage.rss();
    let peak = baseline;
    let bytes = 0;
    const t0 = performance.now();
    const h = await c.article(group, number);
    for await (const chunk of h.stream) {
      bytes += (chunk as Buffer).length;
      const r = process.memoryUsage.rss();
      if (r > peak) peak = r;
    }
    const seconds = (performance.now() - t0) / 1000;
    process.stdout.write(
      JSON.stringify({ bytes, seconds, baselineMB: baseline / 1e6, peakMB: peak / 1e6, growthMB: (peak - baseline) / 1e6 }) + '\n',
    );
  } finally {
    await c.quit();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`stream-rss: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
