/**
 * UID map bulk assignment, PostgreSQL beside LMDB: `benchAssign` (bench/uidmap.ts)
 * of N articles (default 100,000, in 5,000-article batches) into an empty
 * mailbox, for each store, a few rounds, medians printed.
 *
 *   npx tsx bench/uidmap-pg.ts [--count N] [--batch N] [--rounds N] [--url postgres://…]
 *   node dist/bench/uidmap-pg.js …            (after npm run build)
 *
 * Without --url a private PostgreSQL is started (test/harness/postgres.ts) with
 * PostgreSQL's durable defaults (fsync, synchronous_commit on), as LMDB flushes
 * each batch too; both stores sit on the same local disk. With --url the given
 * database is used (each round a new mailbox; nothing is deleted afterwards).
 * Everything started is stopped and removed, also on failure.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../src/util/log.js';
import { LmdbUidMapStore } from '../src/uidmap/lmdb.js';
import { PgUidMapStore } from '../src/uidmap/postgres.js';
import type { UidMapStore } from '../src/uidmap/types.js';
import { benchPostgres, type BenchPostgres } from './pg.js';
import { median } from './report.js';
import { benchArgs } from './args.js';
import { BENCH_DEFAULT_BATCH, benchAssign } from './uidmap.js';

const DEFAULTS = { count: 100_000, batch: BENCH_DEFAULT_BATCH, rounds: 3 };
type Args = typeof DEFAULTS & { url?: string };


async function rounds(store: UidMapStore, a: Args): Promise<number[]> {
  const out: number[] = [];
  for (let r = 0; r < a.rounds; r++) out.push((await benchAssign(store, a.count, a.batch)).seconds);
  return out;
}

async function main(): Promise<void> {
  const a: Args = benchArgs(process.argv.slice(2), DEFAULTS);
  const results: { store: string; secs: number[] }[] = [];
  let pg: BenchPostgres | undefined;
  const dir = await mkdtemp(join(tmpdir(), 'nf-bench-uidmap-'));
  try {
    const lmdb = await LmdbUidMapStore.open({ path: join(dir, 'uidmap.lmdb'), logger: silentLogger() });
    try {
      results.push({ store: 'LMDB (local file)', secs: await rounds(lmdb, a) });
    } finally {
      await lmdb.close();
    }
    pg = await benchPostgres({ url: a.url });
    const pgStore = await PgUidMapStore.open({ url: pg.url, logger: silentLogger() });
    try {
      const before = pgStore.statements;
      const secs = await rounds(pgStore, a);
      const perBatch = (pgStore.statements - before) / (a.rounds * Math.ceil(a.count / a.batch));
      results.push({ store: `${pg.label}, ${perBatch.toFixed(1)} statements/batch incl. open`, secs });
    } finally {
      await pgStore.close();
    }
  } finally {
    await pg?.stop();
    await rm(dir, { recursive: true, force: true });
  }
  process.stdout.write(`UID map: assign ${a.count} new articles in batches of ${a.batch} into an empty mailbox (median of ${a.rounds})\n`);
  for (const r of results) {
    const m = median(r.secs);
    process.stdout.write(`  ${r.store.padEnd(60)} ${m.toFixed(3)} s  ${Math.round(a.count / m)} articles/s  rounds ${r.secs.map((s) => s.toFixed(3)).join(' ')}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`uidmap-pg: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
