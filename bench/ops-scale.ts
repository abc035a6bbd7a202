/**
 * Figures for planning many front-ends (docs/deploy.md "Scaling on paper"):
 * what one PostgreSQL does with flag writes and their NOTIFY fan-out, and what
 * the operations hooks cost a front-end.
 *
 *   npx tsx bench/ops-scale.ts [--seconds S] [--url postgres://…]
 *
 * PostgreSQL rows (a private durable server from test/harness/postgres.ts
 * unless --url; fsync and synchronous_commit on), each for S seconds
 * (default 4). A "write" stands for one STORE: a transaction updating one
 * ~300-byte flag row of one user's mailbox (as the PostgreSQL flag store keeps
 * range-set chunks), with or without `pg_notify` of a ~150-byte payload in it:
 *   1. writes/s and latency at 1, 8, 32 concurrent writers, without NOTIFY;
 *   2. the same with NOTIFY inside the transaction (PostgreSQL serialises the
 *      commits of notifying transactions of the whole server: a lock on
 *      "database 0" is held from the NOTIFY until after the commit is flushed);
 *   2b. the write, then the NOTIFY in a transaction of its own with
 *      `synchronous_commit = off` (the lock is then held without a flush);
 *   3. fan-out: 8 writers notifying while L listener connections (one per
 *      front-end) LISTEN: writes/s, notices/s received per listener, and the
 *      delay from commit to delivery (p50/p99), for L = 1, 8, 32.
 * Front-end rows: ns per call of the metrics command hook and of the upstream
 * request hook, and µs per PROXY v2 header parsed.
 * Everything started is stopped and removed, also on failure.
 */
import pg from 'pg';
import { performance } from 'node:perf_hooks';
import { benchPostgres, urlArg, type BenchPostgres } from './pg.js';
import { Metrics } from '../src/app/metrics.js';
import { ProxyHeaderParser } from '../src/imap/proxy-protocol.js';

const USERS = 1000;
const ROW = Buffer.alloc(300, 7);

function parseArgs(argv: string[]): { seconds: number; url?: string } {
  const out: { seconds: number; url?: string } = { seconds: 4 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--seconds') out.seconds = Number(argv[++i]);
    else if (argv[i] === '--url') out.url = urlArg(argv, i++);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!(out.seconds > 0)) throw new Error('--seconds needs a positive number');
  return out;
}

const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const ms = (x: number): string => `${x.toFixed(1)} ms`;

async function setup(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query('DROP TABLE IF EXISTS bench_flags');
  await c.query('CREATE TABLE bench_flags (usr text, mailbox text, chunk int, data bytea, modseq bigint, PRIMARY KEY (usr, mailbox, chunk))');
  await c.query(`INSERT INTO bench_flags SELECT 'u' || g, 'comp.lang.misc', 0, $1, 1 FROM generate_series(1, ${USERS}) g`, [ROW]);
  await c.end();
}

/** `writers` connections writing for `seconds`; each write one transaction. */
/** How a write announces itself: not at all, NOTIFY inside its transaction, or NOTIFY after it in a non-durable one. */
type Notify = 'none' | 'inside' | 'after';

async function writeLoad(url: string, writers: number, seconds: number, notify: Notify): Promise<{ perSecond: number; lat: number[] }> {
  const clients = await Promise.all(
    Array.from({ length: writers }, async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      return c;
    }),
  );
  const lat: number[] = [];
  const end = performance.now() + seconds * 1000;
  let n = 0;
  await Promise.all(
    clients.map(async (c, w) => {
      let i = w;
      while (performance.now() < end) {
        const user = `u${(i % USERS) + 1}`;
        i += writers;
        const t = performance.now();
        await c.query('BEGIN');
        await c.query("UPDATE bench_flags SET data = $1, modseq = modseq + 1 WHERE usr = $2 AND mailbox = 'comp.lang.misc' AND chunk = 0", [ROW, user]);
        const payload = (): string => JSON.stringify({ o: 'bench', u: user, m: 'comp.lang.misc', v: 1700000000, s: i, c: [[i, i, ['\\Seen']]], t: Date.now() });
        if (notify === 'inside') await c.query("SELECT pg_notify('bench_flags', $1)", [payload()]);
        await c.query('COMMIT');
        if (notify === 'after') {
          // the change is durable already; a notice lost in a crash is made good by the listeners' resync
          // one round trip (simple query protocol, several statements)
          await c.query(`BEGIN; SET LOCAL synchronous_commit = off; SELECT pg_notify('bench_flags', ${c.escapeLiteral(payload())}); COMMIT`);
        }
        lat.push(performance.now() - t);
        n++;
      }
    }),
  );
  await Promise.all(clients.map((c) => c.end()));
  return { perSecond: n / seconds, lat };
}

/** `listeners` LISTEN connections while 8 writers notify; per-listener receive rate and commit-to-delivery delay. */
async function fanOut(url: string, listeners: number, seconds: number): Promise<string> {
  const delays: number[] = [];
  let received = 0;
  const ls = await Promise.all(
    Array.from({ length: listeners }, async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      c.on('notification', (m) => {
        received++;
        if (received % listeners === 0) delays.push(Date.now() - (JSON.parse(m.payload!) as { t: number }).t);
      });
      await c.query('LISTEN bench_flags');
      return c;
    }),
  );
  const w = await writeLoad(url, 8, seconds, 'inside');
  await new Promise((r) => setTimeout(r, 500)); // let the last notices arrive
  await Promise.all(ls.map((c) => c.end()));
  const perListener = received / listeners / seconds;
  return `${listeners} listeners: ${w.perSecond.toFixed(0)} writes/s, ${perListener.toFixed(0)} notices/s each (${(received / seconds).toFixed(0)}/s in all), delay p50 ${ms(pct(delays, 50))} p99 ${ms(pct(delays, 99))}`;
}

function hookCosts(): string[] {
  const m = new Metrics({ defaults: false });
  const N = 1_000_000;
  const names = ['FETCH', 'UID FETCH', 'SELECT', 'NOOP', 'STORE'];
  let t = performance.now();
  for (let i = 0; i < N; i++) m.commandObserver(names[i % 5]!, 'OK', 0.001);
  const cmd = ((performance.now() - t) * 1e6) / N;
  const up = m.upstreamRequest('nntp://news.example:119');
  t = performance.now();
  for (let i = 0; i < N; i++) up('ok');
  const req = ((performance.now() - t) * 1e6) / N;
  const h = Buffer.from('0d0a0d0a000d0a515549540a2111000cc0000207c6336401dc040090', 'hex');
  const P = 200_000;
  t = performance.now();
  for (let i = 0; i < P; i++) new ProxyHeaderParser().push(h);
  const proxy = ((performance.now() - t) * 1000) / P;
  return [
    `metrics command hook: ${cmd.toFixed(0)} ns per command`,
    `upstream request hook: ${req.toFixed(0)} ns per NNTP request`,
    `PROXY v2 header parse: ${proxy.toFixed(2)} µs per connection`,
  ];
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  let pg: BenchPostgres | undefined;
  try {
    pg = await benchPostgres({ url: args.url });
    const url = pg.url;
    await setup(url);
    const out: string[] = [];
    const label = { none: 'without NOTIFY', inside: 'with NOTIFY inside', after: 'with NOTIFY after (own transaction, synchronous_commit off)' };
    for (const notify of ['none', 'inside', 'after'] as const) {
      for (const writers of [1, 8, 32]) {
        const r = await writeLoad(url, writers, args.seconds, notify);
        out.push(`writes ${label[notify]}, ${writers} writers: ${r.perSecond.toFixed(0)}/s, latency p50 ${ms(pct(r.lat, 50))} p99 ${ms(pct(r.lat, 99))}`);
        console.log(out.at(-1));
      }
    }
    for (const l of [1, 8, 32]) {
      out.push(await fanOut(url, l, args.seconds));
      console.log(out.at(-1));
    }
    for (const line of hookCosts()) console.log(line);
  } finally {
    await pg?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
