/**
 * Flag store figures, PostgreSQL beside LMDB (issue 13 "Many machines"):
 *   - `update` of UIDs 1:50000 +FLAGS (one flag no UID has yet, so every
 *     round writes all 50,000), durable, on a copy the store holds (a SELECT
 *     came first, as in IMAP);
 *   - a view of the 50,000 right after it, by the same store and (PostgreSQL)
 *     by a second store on the same database, whose copy is then stale;
 *   - `changedSince` of the last C single-UID changes (default 10,000, every
 *     other UID, so the runs do not merge), and those updates per second;
 *   - PostgreSQL only: the delay from one store's `update` call to a second
 *     store's watcher hearing it (LISTEN/NOTIFY), p50 and p99 over N changes.
 *     (LMDB has no cross-process feed: there, the state agent's SSE does it.)
 *
 *   npx tsx bench/pg-flags.ts [--rounds N] [--changes C] [--delays N] [--url postgres://…]
 *
 * Without --url a private PostgreSQL is started (test/harness/postgres.ts)
 * with PostgreSQL's durable defaults (fsync, synchronous_commit on), as LMDB
 * flushes every update; both sit on the same local disk. With --url the given
 * database is used (a fresh user name per run; nothing is deleted).
 * Targets: STORE of 50,000 ≤ 0.05 s, view ≤ 0.045 s, delay p99 ≤ 100 ms.
 *
 * Last run (5 rounds, 10,000 changes, 500 delays; 2 shared cores under load,
 * PostgreSQL 15 durable): update 1:50000 LMDB 4.1 ms / PostgreSQL 4.4 ms (one
 * statement); view after it 0.1 / 1.1 ms (1.4 ms from a second store, stale
 * copy); changedSince of 10,000 changes 17.9 / 5.1 ms; single-UID updates
 * 247/s / 68/s (a durable commit each); change delay to a second store
 * p50 2.5 ms, p99 15.5 ms.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { silentLogger } from '../src/util/log.js';
import type { FlagKey, FlagStore } from '../src/stateagent/flagstore.js';
import { LmdbFlagStore } from '../src/stateagent/stores/local.js';
import { PgFlagStore } from '../src/stateagent/stores/postgres.js';
import { benchPostgres, type BenchPostgres } from './pg.js';
import { median } from './report.js';
import { benchArgs } from './args.js';

const DEFAULTS = { rounds: 5, changes: 10_000, delays: 500 };
type Args = typeof DEFAULTS & { url?: string };

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const range = (lo: number, hi: number, step = 1): number[] => {
  const out: number[] = [];
  for (let u = lo; u <= hi; u += step) out.push(u);
  return out;
};
const secs = async (fn: () => Promise<unknown>): Promise<number> => {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
};

interface Figures {
  store: number[];
  view: number[];
  viewOther?: number[];
  changedSince: number;
  changesPerSec: number;
  delays?: number[];
}

const N = 50_000;

async function measure(s: FlagStore, other: FlagStore | undefined, a: Args, user: string): Promise<Figures> {
  const f: Figures = { store: [], view: [], changedSince: 0, changesPerSec: 0 };
  const all = range(1, N);
  for (let r = 0; r < a.rounds; r++) {
    const key: FlagKey = { user, mailbox: `bench.store.${r}`, uidValidity: 1 };
    await s.view(key, 1, N);
    if (other) await other.view(key, 1, N);
    for (let w = 0; w < 2; w++) await s.update(key, [N + 1 + w], 'add', ['\\Flagged']); // warm: the mailbox row exists
    f.store.push(await secs(() => s.update(key, all, 'add', ['\\Seen'])));
    f.view.push(await secs(async () => (await s.view(key, 1, N)).flagRuns(1, N)));
    if (other) (f.viewOther ??= []).push(await secs(async () => (await other.view(key, 1, N)).flagRuns(1, N)));
  }
  const key: FlagKey = { user, mailbox: 'bench.changes', uidValidity: 1 };
  const start = (await s.update(key, [1], 'add', ['\\Seen'])).modseq;
  const t = performance.now();
  for (let i = 0; i < a.changes; i++) await s.update(key, [3 + 2 * i], 'add', ['\\Seen']);
  f.changesPerSec = a.changes / ((performance.now() - t) / 1000);
  const cs: number[] = [];
  for (let r = 0; r < a.rounds; r++) {
    cs.push(await secs(async () => {
      const got = await s.changedSince(key, start);
      if (got.length !== a.changes) throw new Error(`changedSince gave ${got.length}, not ${a.changes}`);
    }));
  }
  f.changedSince = median(cs);
  return f;
}

/** Delay from A's `update` call to B's watcher (ms), one change at a time. */
async function delays(a: PgFlagStore, b: PgFlagStore, n: number, user: string): Promise<number[]> {
  const key: FlagKey = { user, mailbox: 'bench.delay', uidValidity: 1 };
  const out: number[] = [];
  let wake: ((t: number) => void) | undefined;
  const stop = b.watch(user, () => wake?.(performance.now()));
  try {
    for (let i = 1; i <= n; i++) {
      const heard = new Promise<number>((resolve) => (wake = resolve));
      const t0 = performance.now();
      await a.update(key, [i], 'add', ['\\Seen']);
      out.push((await heard) - t0);
    }
  } finally {
    stop();
  }
  return out;
}

function line(name: string, f: Figures, changes: number): string {
  const ms = (x: number): string => `${(x * 1000).toFixed(1)} ms`;
  const parts = [
    `update 1:${N} +\\Seen ${ms(median(f.store))} (rounds ${f.store.map((x) => (x * 1000).toFixed(1)).join(' ')})`,
    `view after it ${ms(median(f.view))}${f.viewOther ? `, from a second store ${ms(median(f.viewOther))}` : ''}`,
    `changedSince of ${changes} changes ${ms(f.changedSince)} (${Math.round(f.changesPerSec)} single-UID updates/s)`,
  ];
  if (f.delays) parts.push(`change delay to a second store p50 ${pct(f.delays, 50).toFixed(1)} ms, p99 ${pct(f.delays, 99).toFixed(1)} ms (${f.delays.length} changes)`);
  else parts.push('change delay to another process: n/a (no cross-process feed; the state agent\'s SSE carries it)');
  return `${name}\n${parts.map((p) => `    ${p}`).join('\n')}\n`;
}

async function main(): Promise<void> {
  const a: Args = benchArgs(process.argv.slice(2), DEFAULTS);
  const out: string[] = [];
  let pg: BenchPostgres | undefined;
  const dir = await mkdtemp(join(tmpdir(), 'nf-bench-pgflags-'));
  const user = `bench${Date.now().toString(36)}`;
  try {
    const lmdb = await LmdbFlagStore.open({ path: join(dir, 'flags.lmdb'), logger: silentLogger() });
    try {
      out.push(line('LMDB (local file)', await measure(lmdb, undefined, a, user), a.changes));
    } finally {
      await lmdb.close();
    }
    pg = await benchPostgres({ url: a.url });
    const url = pg.url;
    const s1 = await PgFlagStore.open({ url, logger: silentLogger() });
    const s2 = await PgFlagStore.open({ url, logger: silentLogger() });
    try {
      await s1.view({ user, mailbox: 'bench.count', uidValidity: 1 }, 1, N);
      await s1.update({ user, mailbox: 'bench.count', uidValidity: 1 }, [1], 'add', ['\\Seen']);
      const mid = s1.statements;
      await s1.update({ user, mailbox: 'bench.count', uidValidity: 1 }, range(1, N), 'add', ['\\Flagged']);
      const perStore = s1.statements - mid;
      const f = await measure(s1, s2, a, user);
      f.delays = await delays(s1, s2, a.delays, user);
      const name = `${pg.label}; ${perStore} statement per update`;
      out.push(line(name, f, a.changes));
    } finally {
      await s1.close();
      await s2.close();
    }
  } finally {
    await pg?.stop();
    await rm(dir, { recursive: true, force: true });
  }
  process.stdout.write(`Flag stores (median of ${a.rounds}; targets: update ≤ 50 ms, view ≤ 45 ms, delay p99 ≤ 100 ms)\n${out.join('')}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`pg-flags: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
