/**
 * Measurement (not a test): the backend over a private INN loaded with the
 * benchmark corpus (100k-article group + one ~57 MB article), via NntpSource.
 * `npx tsx test/export/backend/bench-inn.ts` — starts and stops its own INN.
 * Prints wall and CPU times: open (ingest), cold meta (HEAD, pipelined), warm
 * meta, restart open (saved table), the large article through content().
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { startBenchInn } from '../../harness/bench-inn.js';
import { BENCH_CORPUS } from '../../corpus/generate.js';
import { NntpSource } from '../../../src/export/nntp-source.js';
import { createBackend } from '../../../src/export/backend/index.js';
import { LmdbUidMapStore } from '../../../src/uidmap/lmdb.js';
import { createLogger } from '../../../src/util/log.js';
import { collect } from './helpers.js';

let heads = 0;
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
async function timed<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const w = performance.now();
  const c = cpu();
  const v = await fn();
  console.log(`${what}: ${(performance.now() - w).toFixed(0)} ms wall, ${(cpu() - c).toFixed(0)} ms CPU, HEADs so far ${heads}`);
  return v;
}

const logger = createLogger({ level: process.env.LOG ?? 'warn' });
const PER_GROUP = Number(process.env.N ?? 100_000);
const bench = await startBenchInn({ corpus: { ...BENCH_CORPUS, perGroup: PER_GROUP, largeAttachmentBytes: PER_GROUP >= 100_000 ? BENCH_CORPUS.largeAttachmentBytes : 0 } });
console.log(`INN ready: batch ${bench.batchBytes} bytes, inject ${bench.injectMs} ms`);
const dir = await mkdtemp(join(tmpdir(), 'nf-bench-inn-'));
const up = { url: `nntp://${bench.inn.host}:${bench.inn.port}`, poolSize: 2, pipelineWindow: 200, starttls: false };
try {
  const group = [...bench.messageIds.entries()].sort((a, b) => b[1].length - a[1].length)[0]![0];
  const mk = async () => {
    const source = new NntpSource({ upstream: up, logger });
    const head = source.head.bind(source);
    source.head = (g, n) => {
      heads++;
      return head(g, n);
    };
    const uidmaps = await LmdbUidMapStore.open({ path: join(dir, 'uidmap.lmdb'), logger });
    const backend = await createBackend({ source, uidmaps, cacheDir: join(dir, 'cache'), cacheMaxBytes: 512 << 20, pollIntervalMs: 0, logger, sizes: process.env.SIZES === 'download' ? 'download' : 'exact', ...(process.env.META_MEM ? { metaMemoryBytes: Number(process.env.META_MEM) } : {}) });
    return { backend, close: async () => (await backend.close(), await uidmaps.close(), await source.close()) };
  };
  const a = await mk();
  const h = await timed(`open ${group} (ingest ${bench.messageIds.get(group)!.length})`, () => a.backend.open(group));
  const uids = [...h.current().uids];
  await timed(`cold meta ${uids.length} (sizes ${process.env.SIZES ?? 'exact'})`, () => collect(h.meta(uids)));
  await new Promise((res) => setTimeout(res, 5000)); // let LMDB commit the cold pass's headers (its CPU would count below)
  await timed(`warm meta ${uids.length}`, () => collect(h.meta(uids)));
  await timed(`warm meta ${uids.length} again`, () => collect(h.meta(uids)));
  const withEnvelope = async () => {
    const ms = await collect(h.meta(uids));
    for (const m of ms) void m.envelope.subject;
  };
  await timed(`meta ${uids.length} + first ENVELOPE read (parses, stores envelopes)`, withEnvelope);
  await timed(`meta ${uids.length} + ENVELOPE again`, withEnvelope);
  h.release();
  await a.close();
  const b = await mk();
  const h2 = await timed(`restart open ${group} (saved table)`, () => b.backend.open(group));
  await timed(`meta ${uids.length} after restart (LMDB, cold memory)`, () => collect(h2.meta(uids)));
  h2.release();
  if (bench.large) {
    const hl = await b.backend.open(bench.large.group);
    global.gc?.();
    const base = process.memoryUsage();
    let peak = 0;
    let n = 0;
    await timed(`large article ${bench.large.bytes} bytes first fetch`, async () =>
      pipeline(
        await hl.content(bench.large!.number),
        new Writable({
          write(c: Buffer, _e, cb) {
            n += c.length;
            peak = Math.max(peak, process.memoryUsage().arrayBuffers - base.arrayBuffers);
            cb();
          },
        }),
      ),
    );
    console.log(`  streamed ${n} bytes, peak arrayBuffers growth ${(peak / 1e6).toFixed(1)} MB`);
    await timed('large article structure (cached during fetch)', () => hl.structure(bench.large!.number));
    hl.release();
  }
  await b.close();
} finally {
  await rm(dir, { recursive: true, force: true });
  await bench.inn.stop();
}
