/**
 * `npm run bench` — newsfront against a real INN2 holding the benchmark corpus
 * (one group of 100,000 articles plus one ~57 MB article), printing the
 * operations of /work/shared/TARGETS.md with the upstream's own figure for the
 * same work measured in this run, and the ratio between them.
 *
 *   npm run bench                 full corpus (≲ 15 min; the first run also generates the corpus)
 *   npm run bench -- --quick      10,000 articles + a 5 MB large article (or BENCH_QUICK=1)
 *   npm run bench -- --rounds 5   rounds for the cheap rows (default 3, medians printed)
 *   npm run bench -- --huge       one group of 1,000,000 articles instead (huge.ts, issue 14)
 *   npm run bench -- --only load  only the 10- and 50-client rows and their memory (INN, first open, index, every body read once first)
 *
 * Starts (and always stops): a private INN (harness `stop()` = ctlinnd shutdown),
 * newsfront child processes (by PID), temp dirs. Keeps: the corpus batch in
 * `.bench/` (keyed by corpus version and options), `.bench/results-<time>.json` and
 * the server logs `.bench/logs/<time>-server<n>-<state>.log`.
 */
import { spawn } from 'node:child_process';
import { cpus, totalmem, tmpdir } from 'node:os';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startInn, type InnServer } from '../test/harness/inn.js';
import { ensureInnInstalled } from '../test/harness/install-inn.js';
import { silentLogger } from '../src/util/log.js';
import { LmdbUidMapStore } from '../src/uidmap/lmdb.js';
import { benchAssign } from './uidmap.js';
import { corpusOptions, prepareCorpus, type PreparedCorpus } from './corpus.js';
import { imapRows } from './imap-rows.js';
import { concurrentClients, idleSessions, withMemoryPeak } from './load.js';
import { median, renderTable, writeJson, type Row, type RunHeader } from './report.js';
import { freePort, startServer, type ServerProcess } from './server.js';
import { flagSections, type LaunchExtra } from './flag-sections.js';
import { EXPENSIVE_ROUND_S, openSession, rounds } from './session.js';
import * as up from './upstream.js';
import { rawArticles } from './raw-nntp.js';
import { Cleanup } from './cleanup.js';
import { benchConfig, indexBuild } from './index-rows.js';
import { runHuge } from './huge.js';
import { SEARCH_LOAD_SESSIONS, searchLoadRows } from './search-load.js';
import { threadFirstRows } from './thread-first-rows.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '..', '..'); // repository root (dist/bench/run.js → ../..)
const CACHE_DIR = join(ROOT, '.bench');
const LOAD_SECONDS = 10; // TARGETS.md: 10 and 50 concurrent clients for ~10 s each
const LOAD_CLIENTS = [10, 50];
const SEARCH_LOAD_SECONDS = 30; // the 1,000-session row with whole-group SEARCH (issue 11)
/** TARGETS/brief: memory per idle session (logged in, group selected), target < 100 KB each. */
const IDLE_SESSIONS = 1_000;
const SERIAL_ARTICLES = 500; // the one-at-a-time ARTICLE row: ~46/s here, so 500 take ~11 s

interface Args {
  quick: boolean;
  huge: boolean; // one group of 1M articles instead (huge.ts)
  rounds: number;
  /** `--only load`: INN, the server's first open and index, then only the concurrent-client rows and their memory. */
  only?: 'load';
}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: process.env['BENCH_QUICK'] === '1', huge: false, rounds: 3 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--quick') a.quick = true;
    else if (argv[i] === '--huge') a.huge = true;
    else if (argv[i] === '--rounds') a.rounds = Math.max(1, Number(argv[++i]) || 3);
    else if (argv[i] === '--only' && argv[i + 1] === 'load') a.only = argv[++i] as 'load';
    else throw new Error(`unknown argument ${argv[i]} (use --quick, --huge, --rounds N, --only load)`);
  }
  return a;
}

const t00 = performance.now();
const log = (msg: string): void => void process.stderr.write(`[bench +${((performance.now() - t00) / 1000).toFixed(1)}s] ${msg}\n`);

/** Run the RSS probe in a child process (see stream-rss.ts). */
function streamRss(port: number, group: string, number: number): Promise<{ growthMB: number; liveGrowthMB: number; peakMB: number; baselineMB: number; bytes: number; seconds: number }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [join(here, 'stream-rss.js'), String(port), group, String(number)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', rej);
    child.on('exit', (code) => {
      if (code === 0) res(JSON.parse(out) as never);
      else rej(new Error(err.trim() || `exit ${code}`));
    });
  });
}

async function foundationRows(inn: InnServer, corpus: PreparedCorpus, args: Args, add: (r: Row) => void): Promise<Record<string, number>> {
  const S = 'Foundation (NNTP client against INN, UID map)';
  const g = corpus.group;
  const count = corpus.messageIds.length;
  const ref: Record<string, number> = {};
  const attempt = async (name: string, fn: () => Promise<void>): Promise<void> => {
    log(`upstream: ${name}`);
    try {
      await fn();
    } catch (err) {
      add({ section: S, operation: name, unit: 's', value: `error: ${(err as Error).message.slice(0, 120)}` });
    }
  };

  await attempt('ARTICLE pipelined', async () => {
    const ts: up.Transfer[] = [];
    for (let i = 0; i < args.rounds; i++) {
      ts.push(await up.articles(inn.port, g, up.range(1, count), up.PIPELINE_WINDOW));
      if (ts[i]!.seconds > EXPENSIVE_ROUND_S) break;
    }
    const secs = ts.map((t) => t.seconds);
    ref['articlesAll'] = median(secs);
    const bytes = ts[0]!.bytes;
    add({ section: S, operation: `ARTICLE ×${count} pipelined (${up.PIPELINE_WINDOW} in flight)`, unit: 'articles/s', value: count / median(secs), rounds: secs.map((s) => count / s), target: 35_000, note: `${median(secs).toFixed(2)} s` });
    add({ section: S, operation: `ARTICLE ×${count} pipelined, bytes`, unit: 'MB/s', value: bytes / 1e6 / median(secs), target: 57, note: `${(bytes / 1e6).toFixed(0)} MB incl. the large article` });
  });
  await attempt('ARTICLE pipelined, raw socket', async () => {
    const secs: number[] = [];
    let bytes = 0;
    for (let i = 0; i < args.rounds; i++) {
      const t = await rawArticles(inn.port, g, up.range(1, count), up.PIPELINE_WINDOW);
      secs.push(t.seconds);
      bytes = t.bytes;
      if (t.seconds > EXPENSIVE_ROUND_S) break;
    }
    add({ section: S, operation: `ARTICLE ×${count} pipelined, raw socket (INN alone, no client work)`, unit: 'articles/s', value: count / median(secs), rounds: secs.map((s) => count / s), target: 35_000, note: `${median(secs).toFixed(2)} s, ${(bytes / 1e6 / median(secs)).toFixed(0)} MB/s` });
  });
  await attempt('ARTICLE one at a time', async () => {
    const nums = up.range(1, Math.min(SERIAL_ARTICLES, count), corpus.large?.number);
    const t = await up.articles(inn.port, g, nums, 1);
    add({ section: S, operation: `ARTICLE one at a time (${nums.length} articles)`, unit: 'articles/s', value: t.articles / t.seconds, target: 46, note: `${(t.bytes / 1e6 / t.seconds).toFixed(2)} MB/s` });
  });
  await attempt('ARTICLE ×1000 pipelined', async () => {
    const lo = corpus.large && corpus.large.number <= 1000 ? corpus.large.number + 1 : 1;
    const nums = up.range(lo, Math.min(count, lo + 999));
    const secs = await rounds(args.rounds, async () => (await up.articles(inn.port, g, nums, up.PIPELINE_WINDOW)).seconds);
    ref['articles1000'] = median(secs);
    add({ section: S, operation: 'ARTICLE ×1,000 consecutive, pipelined', unit: 's', value: median(secs), rounds: secs });
  });
  await attempt('OVER', async () => {
    const secs = await rounds(args.rounds, async () => (await up.overAll(inn.port, g, count)).seconds);
    ref['over'] = median(secs);
    add({ section: S, operation: `OVER of the ${count} group`, unit: 's', value: median(secs), rounds: secs, target: 0.43 });
  });
  await attempt('OVER + HEAD', async () => {
    const secs = await rounds(args.rounds, async () => (await up.overAndHeads(inn.port, g, count)).seconds);
    ref['overHeads'] = median(secs);
    add({ section: S, operation: `OVER + HEAD ×${count} pipelined (${up.WIDE_WINDOW} in flight)`, unit: 's', value: median(secs), rounds: secs });
  });
  // Small responses (HEAD) with 100 in flight are bound by delayed ACKs (~100 per 40 ms); 1,000 in flight is not.
  for (const window of [up.PIPELINE_WINDOW, up.WIDE_WINDOW]) {
    await attempt(`HEAD raw socket, ${window} in flight`, async () => {
      const secs = await rounds(args.rounds, async () => (await rawArticles(inn.port, g, up.range(1, count), window, 'HEAD')).seconds);
      add({ section: S, operation: `HEAD ×${count}, raw socket, ${window} in flight (INN alone)`, unit: 's', value: median(secs), rounds: secs, note: `${(count / median(secs)).toFixed(0)} heads/s` });
    });
  }
  await attempt('connect + GROUP', async () => {
    const { NntpClient } = await import('../src/nntp/client.js');
    const secs = await rounds(args.rounds, async () => {
      const t0 = performance.now();
      const c = await NntpClient.connect({ host: '127.0.0.1', port: inn.port });
      await c.group(g);
      const s = (performance.now() - t0) / 1000;
      await c.quit();
      return s;
    });
    ref['connectGroup'] = median(secs);
    add({ section: S, operation: 'connect + GROUP', unit: 's', value: median(secs), rounds: secs });
  });
  if (corpus.large) {
    const L = corpus.large;
    await attempt('large article', async () => {
      const secs = await rounds(args.rounds, async () => (await up.articles(inn.port, g, [L.number], 1)).seconds);
      ref['largeArticle'] = median(secs);
      add({ section: S, operation: `ARTICLE of the large article (${(L.bytes / 1e6).toFixed(1)} MB)`, unit: 's', value: median(secs), rounds: secs, target: 0.076 });
    });
    await attempt('RSS while streaming the large article', async () => {
      const r = await streamRss(inn.port, g, L.number);
      add({ section: S, operation: 'RSS growth streaming the large article through NntpClient (< 16 MB)', unit: 'MB', value: r.growthMB, note: `baseline ${r.baselineMB.toFixed(0)} MB, peak ${r.peakMB.toFixed(0)} MB, ${(r.bytes / 1e6).toFixed(1)} MB in ${r.seconds.toFixed(2)} s, no forced GC` });
      add({ section: S, operation: 'live memory growth (heap + ArrayBuffers after GC) streaming it', unit: 'MB', value: r.liveGrowthMB, note: 'forced GC every 4 MiB' });
    });
  }
  await attempt('UID map bulk assignment', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nf-bench-uidmap-'));
    try {
      const store = await LmdbUidMapStore.open({ path: join(dir, 'uidmap.lmdb'), logger: silentLogger() });
      try {
        const secs = await rounds(args.rounds, async () => (await benchAssign(store, count)).seconds);
        add({ section: S, operation: `UID map bulk assignment of ${count} (LMDB)`, unit: 's', value: median(secs), rounds: secs });
      } finally {
        await store.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  return ref;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const rows: Row[] = [];
  const add = (r: Row): void => {
    rows.push(r);
    log(`  → ${r.operation}: ${typeof r.value === 'number' ? r.value.toFixed(4) : r.value} ${r.unit}`);
  };
  const cleanup = new Cleanup(log);
  const servers = new Set<ServerProcess>();
  const onSignal = (sig: string): void => {
    log(`${sig}: cleaning up`);
    void cleanup.run().finally(() => process.exit(130));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  // Last resort if the bench dies without cleanup: no newsfront child outlives it (INN has the harness' own hook).
  process.on('exit', () => {
    for (const s of servers) {
      try {
        process.kill(s.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });

  try {
    await ensureInnInstalled();
    if (args.huge) return await runHuge(CACHE_DIR, args.rounds, cleanup, log);
    const opts = corpusOptions(args.quick);
    const corpus = await prepareCorpus(CACHE_DIR, opts, log);
    const count = corpus.messageIds.length;
    const header: RunHeader = {
      date: new Date().toISOString(),
      node: process.version,
      host: { cpus: cpus().length, memMB: Math.round(totalmem() / 1e6) },
      quick: args.quick,
      rounds: args.rounds,
      ...(args.only ? { only: args.only } : {}),
      corpus: {
        articles: count,
        batchBytes: corpus.batchBytes,
        group: corpus.group,
        ...(corpus.large ? { largeArticleBytes: corpus.large.bytes } : {}),
      },
    };
    log(`newsfront bench ${header.date}, node ${header.node}, ${header.host.cpus} cpus, corpus ${count} articles (${(corpus.batchBytes / 1e6).toFixed(0)} MB)${args.quick ? ' [quick]' : ''}`);

    log('inn: starting');
    const inn = await startInn({ groups: [corpus.group] });
    cleanup.add('inn', () => inn.stop());
    const t0 = performance.now();
    await inn.injectBatchFile(
      corpus.batchPath,
      corpus.messageIds.map((messageId) => ({ messageId, groups: [corpus.group] })),
    );
    header['injectSeconds'] = (performance.now() - t0) / 1000;
    header['generateSeconds'] = corpus.generateSeconds;
    log(`inn: ${count} articles injected in ${(header['injectSeconds'] as number).toFixed(1)} s`);

    const full = args.only === undefined;
    const ref = full ? await foundationRows(inn, corpus, args, add) : {};
    // before any other newsfront runs: each round is a fresh server on a quiet machine
    if (full) await threadFirstRows({ innPort: inn.port, corpus, rounds: args.rounds, add, log, cleanup });

    // --- IMAP, one session, fresh data dir ---
    const dataDir = await mkdtemp(join(tmpdir(), 'nf-bench-data-'));
    cleanup.add('data dir', () => rm(dataDir, { recursive: true, force: true }));
    const S = 'IMAP (newsfront over this INN, one session)';
    const logDir = join(CACHE_DIR, 'logs');
    await mkdir(logDir, { recursive: true });
    let launched = 0;
    const launch = async (state: string, extra: LaunchExtra = {}): Promise<ServerProcess> => {
      const tag = state.startsWith('http') ? 'agent' : /^postgres/i.test(state) ? 'postgres' : state;
      const logPath = join(logDir, `${header.date.replace(/[:.]/g, '-')}-server${++launched}-${tag}.log`);
      const s = await startServer({ upstreamPort: inn.port, dataDir, listenPort: await freePort(), logPath, state, ...extra });
      servers.add(s);
      cleanup.add(`newsfront ${s.pid}`, async () => {
        await s.stop();
        servers.delete(s);
      });
      return s;
    };
    const stopServer = async (s: ServerProcess): Promise<void> => {
      await s.stop();
      servers.delete(s);
    };
    let server: ServerProcess | undefined;
    let metricsPort = await freePort(); // the operations listener: /status tells how far the index is
    try {
      log('newsfront: starting (first ingest of the group)');
      server = await launch('session', { config: benchConfig(metricsPort, false) });
      add({ section: S, operation: 'server start with an empty data dir, until the first greeting', unit: 's', value: server.startSeconds, upstream: ref['over'], upstreamNote: 'OVER' });
    } catch (err) {
      add({ section: S, operation: 'newsfront serve', unit: 's', value: `n/a: ${(err as Error).message.split('\n')[0]}` });
      log(`newsfront did not start; IMAP rows skipped:\n${(err as Error).message}`);
    }
    if (server) {
      const input = {
        port: server.port,
        mailbox: corpus.group,
        count,
        ...(corpus.large ? { large: { uid: corpus.large.number, bytes: corpus.large.bytes } } : {}),
        subjectWord: corpus.subjectWord,
        bodyWord: corpus.bodyWord,
        commonBodyWord: corpus.commonBodyWord,
        fromWord: corpus.fromWord,
        rounds: args.rounds,
        upstream: ref,
        log,
        index: indexBuild({
          group: corpus.group, count, metricsPort: () => metricsPort, articlesAll: ref['articlesAll'], add, log,
          restart: async () => {
            await stopServer(server!);
            metricsPort = await freePort();
            server = await launch('session', { config: benchConfig(metricsPort, true) });
            return { server, metricsPort };
          },
        }),
      };
      if (full) await imapRows(input, add);
      else {
        // the server state the load rows meet in a full run: the group opened, every header and body indexed
        const first = await openSession(server.port, corpus.group);
        first.client.close();
        await input.index.headers(first.seconds);
        await input.index.bodies();
      }
      // Before the search index, the SEARCH BODY scan rows had downloaded every body into the
      // article cache, so these rows measured a server with every article local (as the other
      // servers' figures are). The index answers those searches without the bodies, so they
      // are read once here (not timed) to keep the rows comparable.
      const warmUp = await openSession(server.port, corpus.group).catch(() => undefined);
      const warmed = await warmUp?.client.ok(`UID FETCH 1:* (BODY.PEEK[])`, { timeoutMs: 600_000 }).then(() => true, () => false);
      warmUp?.client.close();
      const beforeLoad = await server.memory().catch(() => undefined); // what the load rows start from
      for (const n of LOAD_CLIENTS) {
        log(`imap: ${n} concurrent clients for ${LOAD_SECONDS} s`);
        try {
          const srv = server;
          const load = concurrentClients({ port: server.port, mailbox: corpus.group, clients: n, seconds: LOAD_SECONDS, count, ...(corpus.large ? { skipUid: corpus.large.number } : {}) });
          const { result: r, peakPssMB, peakRssMB, peakAnonMB, fileAtAnonPeakMB } = await withMemoryPeak(() => srv.memory(), load);
          add({ section: S, operation: `${n} concurrent clients, SELECT + random FETCH ENVELOPE / BODY.PEEK[]`, unit: 'cmd/s', value: r.commandsPerSecond, target: n === 10 ? 12_263 : 6_137, note: `${r.commands} commands in ${r.seconds.toFixed(1)} s${r.errors ? `, ${r.errors} errors` : ''}; ${warmed ? 'every body read once before (not timed)' : 'bodies not read before (warm-up failed)'}` });
          if (n === 50) add({ section: S, operation: 'server memory during the 50-client run (peak PSS)', unit: 'MB', value: peakPssMB, target: 1000, note: `peak RSS ${peakRssMB.toFixed(0)} MB; one process` });
          if (n === 50) add({ section: S, operation: 'server anonymous memory during the 50-client run (peak Pss_Anon, target ≤ 150 MB)', unit: 'MB', value: peakAnonMB, note: `file-backed apart (LMDB maps, code): Pss_File ${fileAtAnonPeakMB.toFixed(0)} MB at that peak${beforeLoad ? `; Pss_Anon ${beforeLoad.anonMB.toFixed(0)} MB before the 10-client row` : ''}` });
        } catch (err) {
          add({ section: S, operation: `${n} concurrent clients`, unit: 'cmd/s', value: `error: ${(err as Error).message.slice(0, 120)}` });
        }
      }
      const mem = await server.memory().catch(() => undefined);
      if (mem) add({ section: S, operation: 'server peak RSS over the rows above', unit: 'MB', value: mem.hwmMB, note: `now RSS ${mem.rssMB.toFixed(0)} MB, PSS ${mem.pssMB.toFixed(0)} MB (anon ${mem.anonMB.toFixed(0)}, file ${mem.fileMB.toFixed(0)}); since the restart for the index's crawl` });
      if (!full) return finish(header, rows);
      // after the memory rows: 1,000 sessions would set the peaks above
      log(`imap: ${SEARCH_LOAD_SESSIONS} sessions with whole-group SEARCH for ${SEARCH_LOAD_SECONDS} s`);
      const srv = server;
      await searchLoadRows({ port: srv.port, mailbox: corpus.group, seconds: args.quick ? 10 : SEARCH_LOAD_SECONDS, cpuSeconds: () => srv.cpuSeconds(), add, section: S });
      await stopServer(server);

      // --- memory of idle sessions, fresh process (warm data dir) ---
      try {
        log(`newsfront: restart for ${IDLE_SESSIONS} idle sessions`);
        const s2 = await launch('session');
        try {
          const r = await idleSessions({ port: s2.port, mailbox: corpus.group, sessions: IDLE_SESSIONS, memory: () => s2.memory() });
          add({ section: S, operation: `server RSS with ${IDLE_SESSIONS} idle sessions (logged in, group selected)`, unit: 'MB', value: r.after.rssMB, note: `PSS ${r.after.pssMB.toFixed(0)} MB; before ${r.before.rssMB.toFixed(0)} MB` });
          add({ section: S, operation: `server Pss_Anon with ${IDLE_SESSIONS} idle sessions`, unit: 'MB', value: r.after.anonMB, note: `before ${r.before.anonMB.toFixed(0)} MB; file-backed apart: Pss_File ${r.after.fileMB.toFixed(0)} MB` });
          add({ section: S, operation: 'RSS per idle session (target < 100 KB)', unit: 'KB', value: r.perSessionKB, note: `PSS ${r.perSessionPssKB.toFixed(0)} KB, Pss_Anon ${r.perSessionAnonKB.toFixed(0)} KB` });
        } finally {
          await stopServer(s2);
        }
      } catch (err) {
        add({ section: S, operation: `${IDLE_SESSIONS} idle sessions`, unit: 'MB', value: `error: ${(err as Error).message.split('\n')[0]!.slice(0, 120)}` });
      }

      // --- durable flags (local LMDB, PostgreSQL, agent) side by side, then several front-ends on PostgreSQL ---
      await flagSections({ dataDir, mailbox: corpus.group, count, rounds: args.rounds, quick: args.quick, ...(corpus.large ? { skipSeq: corpus.large.number } : {}), launch, stopServer, cleanup, add, log });
    }

    await finish(header, rows);
  } finally {
    await cleanup.run();
    log('done');
  }
}

/** Prints the table and writes the JSON results. */
async function finish(header: RunHeader, rows: Row[]): Promise<void> {
  header['totalSeconds'] = (performance.now() - t00) / 1000;
  const corpus = header.corpus;
  const title = `newsfront bench — ${header.date} — node ${header.node} — ${header.host.cpus} cpus — corpus: ${corpus.articles} articles in ${corpus.group}, ${(corpus.batchBytes / 1e6).toFixed(0)} MB${corpus.largeArticleBytes !== undefined ? `, large article ${(corpus.largeArticleBytes / 1e6).toFixed(1)} MB` : ''}${header.quick ? ' (QUICK)' : ''} — medians of ${header.rounds}${header.only ? ` — only ${header.only}` : ''}`;
  process.stdout.write(`\n${title}\n\n${renderTable(rows)}\n`);
  const path = await writeJson(CACHE_DIR, header, rows);
  process.stdout.write(`\nresults: ${path}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
