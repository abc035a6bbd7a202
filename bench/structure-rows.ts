/**
 * Development aid (not part of `npm run bench`): the MIME structure rows of
 * the bench against an INN that is already running (bench/hold-inn.ts), with
 * the server's CPU time for each row (from /proc/PID/stat).
 *
 *   npm run build && node dist/bench/structure-rows.js --port P [--quick] [--rounds 3] [--cli dist/src/cli.js] [--gap MS] [--log-dir DIR] [--no-crawl]
 *
 * Rows, in an order that keeps "first" honest (fresh data dir):
 *   BODY.PEEK[2]<0.1024> of the large article's attachment, first (download
 *   and parse) and again;
 *   UID FETCH 1:* (BODYSTRUCTURE), first (structures read from INN), warm;
 *   the same after a server restart on the same data dir (structures from the
 *   metadata store, nothing rendered yet), and warm again.
 * `--crawled` instead: the server starts with the crawler on at once (the
 * bench's config after its restart), the large article is read whole
 * (untimed, as the bench did before), the crawl of every body is timed (wall
 * and server CPU, as the bench's "bodies … indexed" row), then the listing
 * first and warm on that server (the bench's BODYSTRUCTURE rows), and again
 * after a restart.
 * `--large` instead: only the large article's rows — the partial first (its
 * CPU counted until the download has ended too: "first+download"), again,
 * and BODY.PEEK[] of the whole article (median of `--rounds`, cached).
 * `--cli` runs another build (an older worktree's) for A/B runs;
 * `BENCH_SERVER_NODE_FLAGS="--cpu-prof --cpu-prof-dir=DIR"` profiles the server.
 * Starts and stops its own newsfront children (by PID) and temp data dir.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusOptions, prepareCorpus } from './corpus.js';
import { median } from './report.js';
import { freePort, startServer, type ServerProcess } from './server.js';
import { openSession, rounds } from './session.js';
import { rowScriptArgs, type RowScriptArgs } from './args.js';
import { benchConfig, serverStatus } from './index-rows.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '..', '..');

interface Args extends RowScriptArgs {
  /** Keep the index crawler idle (its reads would share the server's CPU with the rows). */
  noCrawl: boolean;
  /** Crawl every body first (see the header). */
  crawled: boolean;
  /** Only the large article's rows (see the header). */
  large: boolean;
}

function parseArgs(argv: string[]): Args {
  let noCrawl = false;
  let crawled = false;
  let large = false;
  const a = rowScriptArgs(argv, (name) => (name === '--no-crawl' ? (noCrawl = true) : name === '--crawled' ? (crawled = true) : name === '--large' ? (large = true) : false));
  return { ...a, noCrawl, crawled, large };
}

/** utime + stime of a process, seconds. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** A session on the group, retried for a while: a restarted server may list its groups a moment after its greeting. */
async function selectSoon(port: number, group: string): Promise<Awaited<ReturnType<typeof openSession>>> {
  for (let i = 0; ; i++) {
    try {
      return await openSession(port, group);
    } catch (err) {
      if (i >= 50) throw err;
      await new Promise((res) => setTimeout(res, 200));
    }
  }
}

/** True once a file of about `size` bytes (INN adds a few header bytes) is in place in the article cache under `dir`: a long article downloaded whole. */
async function cachedWhole(dir: string, size: number): Promise<boolean> {
  const { readdir, stat } = await import('node:fs/promises');
  const root = join(dir, 'cache', 'articles');
  for (const sub of await readdir(root).catch(() => [] as string[])) {
    if (sub.length !== 2) continue;
    for (const f of await readdir(join(root, sub)).catch(() => [] as string[])) if ((await stat(join(root, sub, f))).size >= size - 1024) return true;
  }
  return false;
}

const fmt = (s: number): string => (s < 0.1 ? `${(s * 1000).toFixed(2)} ms` : `${s.toFixed(3)} s`);

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = (m: string): void => void process.stderr.write(`[structure-rows] ${m}\n`);
  const corpus = await prepareCorpus(join(ROOT, '.bench'), corpusOptions(args.quick), log);
  const count = corpus.messageIds.length;
  const L = corpus.large;
  const dataDir = await mkdtemp(join(tmpdir(), 'nf-struct-'));
  let server: ServerProcess | undefined;
  const metricsPort = await freePort();
  const config = args.crawled ? benchConfig(metricsPort, true) : args.noCrawl ? { index: { crawlDelayMs: 86_400_000 } } : undefined;
  const launch = async (n: number): Promise<ServerProcess> =>
    startServer({
      upstreamPort: args.port,
      dataDir,
      listenPort: await freePort(),
      logPath: join(args.logDir ?? dataDir, `server${n}.log`),
      ...(args.cli ? { cli: args.cli } : {}),
      ...(config ? { config } : {}),
    });
  const timed = async (row: string, fn: () => Promise<{ seconds: number; note?: string }>): Promise<void> => {
    if (args.gap > 0) await new Promise((res) => setTimeout(res, args.gap));
    const c0 = await cpuSeconds(server!.pid);
    const r = await fn();
    const cpu = (await cpuSeconds(server!.pid)) - c0;
    const load = (await readFile('/proc/loadavg', 'latin1')).split(' ')[0];
    process.stdout.write(`${row.padEnd(52)} ${fmt(r.seconds).padStart(9)}  cpu ${fmt(cpu).padStart(8)}  load ${load} ${r.note ?? ''}\n`);
  };
  const bs = 'UID FETCH 1:* (BODYSTRUCTURE)';
  try {
    server = await launch(1);
    let s = await openSession(server.port, corpus.group);
    if (args.crawled) {
      // as in the bench, the large article was read whole before (its structure stored then: the crawler only reads its header)
      if (L) await s.client.ok(`UID FETCH ${L.number} (BODY.PEEK[])`, { timeoutMs: 600_000 });
      await timed(`bodies of ${count} articles indexed (crawl)`, async () => {
        const t0 = performance.now();
        for (;;) {
          const g = (await serverStatus(metricsPort)).index?.groups.find((x) => x.group === corpus.group);
          if (g !== undefined && g.total !== null && g.bodies >= g.total) break;
          await new Promise((res) => setTimeout(res, 500));
        }
        return { seconds: (performance.now() - t0) / 1000 };
      });
    }
    if (L && !args.crawled) {
      const partial = `UID FETCH ${L.number} (BODY.PEEK[2]<0.1024>)`;
      let c0 = 0;
      await timed('BODY.PEEK[2]<0.1024> of the large, first', async () => {
        c0 = await cpuSeconds(server!.pid);
        return { seconds: (await s.client.ok(partial)).seconds };
      });
      if (args.large) {
        // the download goes on after the answer: wait for its end (the file in the cache), then the CPU of both
        const t0 = performance.now();
        while ((await s.client.ok('NOOP')) && !(await cachedWhole(dataDir, L.bytes))) await new Promise((res) => setTimeout(res, 20));
        const cpu = (await cpuSeconds(server.pid)) - c0;
        process.stdout.write(`${'  … download ended after the answer'.padEnd(52)} ${fmt((performance.now() - t0) / 1000).padStart(9)}  cpu ${fmt(cpu).padStart(8)} (first+download)\n`);
      }
      await timed('BODY.PEEK[2]<0.1024> of the large, again', async () => ({ seconds: median(await rounds(Math.max(args.rounds, 5), async () => (await s.client.ok(partial)).seconds)) }));
      if (args.large) {
        const whole = `UID FETCH ${L.number} (BODY.PEEK[])`;
        await timed('BODY.PEEK[] of the whole large article', async () => ({ seconds: median(await rounds(args.rounds, async () => (await s.client.ok(whole, { timeoutMs: 600_000 })).seconds)) }));
        return;
      }
    }
    const check = (n: number): string => (n === count ? `${n} responses` : `ONLY ${n} of ${count} responses`);
    await timed(`${bs}, first`, async () => {
      const r = await s.client.ok(bs, { timeoutMs: 1_200_000 });
      return { seconds: r.seconds, note: check(r.responses) };
    });
    await timed(`${bs}, warm`, async () => ({ seconds: median(await rounds(args.rounds, async () => (await s.client.ok(bs)).seconds)) }));
    s.client.close();
    await server.stop();
    server = await launch(2);
    s = await selectSoon(server.port, corpus.group);
    await timed(`${bs}, after restart (stored)`, async () => {
      const r = await s.client.ok(bs, { timeoutMs: 1_200_000 });
      return { seconds: r.seconds, note: check(r.responses) };
    });
    await timed(`${bs}, after restart, warm`, async () => ({ seconds: median(await rounds(args.rounds, async () => (await s.client.ok(bs)).seconds)) }));
    s.client.close();
  } finally {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`structure-rows failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
