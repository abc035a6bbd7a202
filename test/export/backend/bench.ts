/**
 * Manual measurements (not a test): `npx tsx test/export/backend/bench.ts`.
 * - a 40 MB article through content(): time and peak RSS growth (must stay far below 40 MB);
 * - cold and warm meta() of N articles.
 */
import { FakeSource } from './fake-source.js';
import { BENCH_CORPUS, iterateCorpus } from '../../corpus/generate.js';
import { collect, readAll, rig } from './helpers.js';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const N = Number(process.env.N ?? 100_000);

/** CPU time (user + system) of this process in ms: wall time is meaningless on a shared, loaded machine. */
function cpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function main(): Promise<void> {
  const src = new FakeSource();
  src.fill('g.big', 1, () => ({ body: Buffer.alloc(40 * 1024 * 1024, 0x41) }));
  const r = await rig(src);
  const h = await r.backend.open('g.big');
  // The fake holds the article in memory; what matters is growth beyond it.
  global.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const t0 = performance.now();
  let n = 0;
  await pipeline(
    await h.content(1),
    new Writable({
      write(c: Buffer, _e, cb) {
        n += c.length;
        peak = Math.max(peak, process.memoryUsage().rss);
        cb();
      },
    }),
  );
  console.log(`40 MB article first fetch: ${n} bytes in ${(performance.now() - t0).toFixed(0)} ms, RSS growth ${((peak - base) / 1e6).toFixed(1)} MB`);
  const t1 = performance.now();
  const again = await readAll(await h.content(1));
  console.log(`cached re-read: ${again.length} bytes in ${(performance.now() - t1).toFixed(0)} ms`);
  h.release();
  await r.close();

  const s2 = new FakeSource();
  const extra = Array.from({ length: Number(process.env.EXTRA ?? 0) }, (_, i) => `X-Extra-${i}: ${'v'.repeat(60)}`);
  if (process.env.CORPUS) {
    // Real-looking articles from the test corpus generator (threads, long References, MIME).
    for (const a of iterateCorpus({ ...BENCH_CORPUS, perGroup: N, largeAttachmentBytes: 0 })) s2.post('g.many', a.bytes);
  } else s2.fill('g.many', N, () => ({ extraHeaders: extra }));
  const r2 = await rig(s2);
  const t2 = performance.now();
  const h2 = await r2.backend.open('g.many');
  console.log(`ingest ${N}: ${(performance.now() - t2).toFixed(0)} ms`);
  const uids = [...h2.current().uids];
  const t3 = performance.now();
  const c3 = cpu();
  await collect(h2.meta(uids));
  console.log(`cold meta ${N}: ${(performance.now() - t3).toFixed(0)} ms wall, ${(cpu() - c3).toFixed(0)} ms CPU (${s2.calls.head} HEADs)`);
  for (let i = 0; i < 4; i++) {
    const t4 = performance.now();
    const c4 = cpu();
    const m = await collect(h2.meta(uids));
    if (i % 2 === 1) for (const x of m) if (x.envelope.messageId === undefined) throw new Error('no envelope');
    if (i % 2 === 1) console.log('  (with ENVELOPE read)');
    console.log(`warm meta ${m.length}: ${(performance.now() - t4).toFixed(0)} ms wall, ${(cpu() - c4).toFixed(0)} ms CPU, HEADs so far ${s2.calls.head}`);
  }
  h2.release();
  await r2.close();
}

await main();
