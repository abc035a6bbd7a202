/**
 * The search index through the export backend on the benchmark group (100k
 * articles over INN): what a never-seen group costs (OVER with the index fed,
 * then the first THREAD), warm SORT/THREAD on the kept keys, their memory,
 * and optionally the crawl of every body.
 *
 *   npx tsx bench/group-search.ts --upstream nntp://127.0.0.1:PORT --group bench.big [--crawl]
 *   (an INN from `npx tsx bench/hold-inn.ts`; without --upstream one is started, ~1 min)
 *   node --expose-gc --import tsx bench/group-search.ts …   (heap figures need --expose-gc)
 *
 * Rows: wall / CPU milliseconds of the process, all threads (the index's
 * writer thread included; medians of 5 for warm rows).
 * "warm, subset" runs the command over 90% of the UIDs (a SEARCH result): the
 * kept keys are used, the order itself is computed.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NntpSource } from '../src/export/nntp-source.js';
import { createBackend } from '../src/export/backend/index.js';
import { LmdbUidMapStore } from '../src/uidmap/lmdb.js';
import { SearchIndex } from '../src/search/index.js';
import { silentLogger } from '../src/util/log.js';
import type { SortCriterion, ThreadAlgorithm } from '../src/export/interface.js';
import { NntpClient } from '../src/nntp/client.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
let upstream = arg('upstream');
let group = arg('group') ?? 'bench.big';
let stopInn: (() => Promise<void>) | undefined;
if (upstream === undefined) {
  const { startBenchInn } = await import('../test/harness/bench-inn.js');
  const b = await startBenchInn();
  upstream = `nntp://${b.inn.host}:${b.inn.port}`;
  group = [...b.messageIds.keys()][0]!;
  stopInn = () => b.inn.stop();
}

const gc = (globalThis as { gc?: () => void }).gc;
const heap = (): number => {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
};
async function time<T>(f: () => Promise<T>): Promise<{ wall: number; cpu: number; value: T }> {
  const c = process.cpuUsage();
  const t = performance.now();
  const value = await f();
  const wall = performance.now() - t;
  const u = process.cpuUsage(c);
  return { wall, cpu: (u.user + u.system) / 1000, value };
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const row = (name: string, wall: number, cpu: number): void => void process.stdout.write(`${name.padEnd(44)}${wall.toFixed(0).padStart(8)} / ${cpu.toFixed(0).padStart(6)} ms\n`);

/** INN's own answers in this run, through our client on a connection of its own: OVER of the group, HDR In-Reply-To of it. */
async function innRows(): Promise<void> {
  const u = new URL(upstream!);
  const c = await NntpClient.connect({ host: u.hostname, port: Number(u.port), pipelineWindow: 10 });
  try {
    const g = await c.group(group);
    const over = await time(async () => {
      let n = 0;
      for await (const _ of c.over(group, [g.low, g.high])) n++;
      return n;
    });
    row(`INN: OVER of the group (${over.value} lines)`, over.wall, over.cpu);
    const hdr = await time(async () => {
      let n = 0;
      for await (const v of c.hdr(group, 'In-Reply-To', [g.low, g.high])) if (v.value.length > 0) n++;
      return n;
    });
    row(`INN: HDR In-Reply-To of the group (${hdr.value} set)`, hdr.wall, hdr.cpu);
  } finally {
    await c.quit();
  }
}
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
process.stdout.write(`load average ${load()}\n`);
await innRows();

const dir = await mkdtemp(join(tmpdir(), 'nf-bench-gs-'));
const logger = silentLogger();
const source = new NntpSource({ upstream: { url: upstream, poolSize: 4, pipelineWindow: 1000, starttls: false }, logger });
{
  // the baseline: the same open without an index
  const plainMaps = await LmdbUidMapStore.open({ path: join(dir, 'plain', 'uidmap.lmdb'), logger });
  const plain = await createBackend({ source, uidmaps: plainMaps, cacheDir: join(dir, 'plain', 'cache'), cacheMaxBytes: 1 << 30, pollIntervalMs: 0, logger, sizes: 'download' });
  const o = await time(() => plain.open(group));
  row('open without index (GROUP, OVER, UID map)', o.wall, o.cpu);
  o.value.release();
  await plain.close();
  await plainMaps.close();
}
const uidmaps = await LmdbUidMapStore.open({ path: join(dir, 'uidmap.lmdb'), logger });
const index = await SearchIndex.open(join(dir, 'search.db'));
const backend = await createBackend({
  source, uidmaps, cacheDir: join(dir, 'cache'), cacheMaxBytes: 1 << 30, pollIntervalMs: 0, logger, sizes: 'download', index,
  indexOptions: { crawl: false, crawlConcurrency: 64, crawlBatch: 200, crawlQuietMs: 0, maxArticleBytes: 8 << 20, keysMemoryBytes: 1 << 30 },
});
try {
  const open = await time(() => backend.open(group));
  const h = open.value;
  const all = h.current().uids;
  const subset = all.filter((u) => u % 10 !== 0);
  process.stdout.write(`${group}: ${all.length} articles, ${upstream}\n`);
  row('open (the same, overview queued for the index)', open.wall, open.cpu);
  const first = await time(async () => {
    const irt = await time(async () => backend.indexing!.inReplyTo(group));
    const t = await time(() => h.search!.thread('REFERENCES', all));
    return { irt, t };
  });
  row('first THREAD REFERENCES (keys built)', first.wall, first.cpu);
  row('  of which: In-Reply-To fetches (HDR) awaited', first.value.irt.wall, first.value.irt.cpu);
  const settled = await time(() => backend.indexing!.flush());
  row('index writes after that (flush)', settled.wall, settled.cpu);
  const warm = async (name: string, f: () => Promise<unknown>): Promise<void> => {
    const w: number[] = [];
    const c: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await time(f);
      w.push(r.wall);
      c.push(r.cpu);
    }
    row(name, median(w), median(c));
  };
  const sort = (criteria: SortCriterion[], uids: Uint32Array) => () => h.search!.sort(criteria, uids);
  const thread = (a: ThreadAlgorithm, uids: Uint32Array) => () => h.search!.thread(a, uids);
  await warm('THREAD REFERENCES, warm, subset', thread('REFERENCES', subset));
  await warm('THREAD REFERENCES, warm, repeat', thread('REFERENCES', all));
  const sd = await time(sort([{ key: 'DATE' }], all));
  row('SORT (DATE), first', sd.wall, sd.cpu);
  await warm('SORT (DATE), warm, subset', sort([{ key: 'DATE' }], subset));
  await warm('SORT (DATE), warm, repeat', sort([{ key: 'DATE' }], all));
  const ss = await time(sort([{ key: 'SUBJECT' }], all));
  row('SORT (SUBJECT), first', ss.wall, ss.cpu);
  await warm('SORT (SUBJECT), warm, subset', sort([{ key: 'SUBJECT' }], subset));
  await warm('SORT (SUBJECT), warm, repeat', sort([{ key: 'SUBJECT' }], all));
  const sf = await time(sort([{ key: 'FROM' }], all));
  row('SORT (FROM), first (keys built again: +From)', sf.wall, sf.cpu);
  const h3 = heap();
  const budget = backend.indexing!.keysBytes;
  if (gc) {
    // the keys' own size: the heap with them and after dropping them (before: the first THREAD may free records queued for the index)
    (h.search as { dispose?: () => void }).dispose?.();
    const h4 = heap();
    process.stdout.write(`keys heap (THREAD, SORT ranks, From): ${((h3 - h4) / 1e6).toFixed(1)} MB; charged ${(budget / 1e6).toFixed(1)} MB\n`);
  } else process.stdout.write(`keys charged ${(budget / 1e6).toFixed(1)} MB (heap figures: run with --expose-gc)\n`);
  const m = await time(() => h.search!.match([{ field: 'subject', needle: 'the' }]));
  row(`SEARCH SUBJECT "the" (${m.value.uids.length} + ${m.value.unknown.length} unknown)`, m.wall, m.cpu);
  if (process.argv.includes('--crawl')) {
    const before = (await stat(join(dir, 'search.db')).then((s) => s.size)) + (await stat(join(dir, 'search.db-wal')).then((s) => s.size, () => 0));
    const c = await time(() => backend.buildIndex(group));
    const db = await stat(join(dir, 'search.db')).then((s) => s.size);
    const wal = await stat(join(dir, 'search.db-wal')).then((s) => s.size, () => 0);
    const after = db + wal;
    process.stdout.write(
      `crawl: ${c.value.articles} articles (${(c.value.bytes / 1e6).toFixed(0)} MB) in ${(c.wall / 1000).toFixed(1)} s, ${Math.round(c.value.articles / (c.wall / 1000))} articles/s, ` +
        `CPU ${(c.cpu / 1000).toFixed(1)} s (all threads), index grew ${Math.round((after - before) / c.value.articles)} B per article; ` +
        `search.db ${(db / 1e6).toFixed(0)} MB (${Math.round(db / all.length)} B per article) + WAL ${(wal / 1e6).toFixed(0)} MB\n`,
    );
    const b = await time(() => h.search!.match([{ field: 'body', needle: 'protocol' }]));
    row(`SEARCH BODY "protocol" (${b.value.uids.length} + ${b.value.unknown.length} unknown)`, b.wall, b.cpu);
  }
  h.release();
  await innRows();
  process.stdout.write(`load average ${load()}\n`);
} finally {
  await backend.close();
  await index.close();
  await uidmaps.close();
  await source.close();
  await stopInn?.();
  await rm(dir, { recursive: true, force: true });
}
