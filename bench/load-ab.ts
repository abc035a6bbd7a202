/**
 * Development aid (not part of `npm run bench`): the load rows of `npm run
 * bench -- --only load` and their memory, for alternated A/B runs of builds
 * against one INN of `hold-inn.ts`. Per run: a fresh server (empty data dir,
 * the crawler on at once: `index.crawlDelayMs` 0, as the bench's restart
 * has it) → the first SELECT → every body indexed (the crawl, polled on
 * /status) → every body read once (`UID FETCH 1:* (BODY.PEEK[])`) → 10, then
 * 50 clients for 10 s each (load.ts), each with its peak `Pss_Anon` (sampled
 * every 500 ms as the bench does) and the server's CPU per command.
 *
 *   npm run build && node dist/bench/load-ab.js --port INNPORT --cli A/dist/src/cli.js,B/dist/src/cli.js
 *     [--pairs 4] [--probe] [--snapshot DIR] [--malloc] [--kill-after] [--series] [--config '{"cache":{…}}'] [--env "K=V …"]
 *
 * `--probe` loads bench/soak-probe.ts (PROBE_NODE_FLAGS) and prints, at the
 * peak of each client row, the anonymous mappings by kind and V8's spaces (no GC).
 * `--config` is merged into the bench config of every run (both builds); a
 * `--cli` entry `PATH#{json}` merges its own JSON after it (one build, two settings;
 * its key `env`, an object, sets that build's environment instead: `PATH#{"env":{"MALLOC_MMAP_THRESHOLD_":"131072"}}`).
 * `--snapshot DIR`: a heap snapshot 5 s after the clients (implies `--probe`); `--malloc`: then glibc's
 * arenas (malloc_stats) and the split again after `malloc_trim(0)`. `--kill-after`: the server
 * is killed (SIGKILL) right after the 50 clients, for heaptrack (bench/README, session 14).
 * Every server is stopped by PID and its data dir removed, also on failure.
 */
import { innPortArg, namedArg } from './args.js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusOptions, prepareCorpus } from './corpus.js';
import { anonSplit, heapSnapshot, mallocTrim, PROBE_NODE_FLAGS, probe } from './heap-probe.js';
import { benchConfig, serverStatus } from './index-rows.js';
import { concurrentClients, withMemoryPeak } from './load.js';
import { openSession } from './session.js';
import { freePort, NODE_FLAGS, startServer, type ServerProcess } from './server.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
const arg = (name: string, dflt?: string): string | undefined => namedArg(argv, name, dflt);
const port = innPortArg(argv);
// each entry `path` or `path#{json}`: that build, with the JSON merged into its config (after --config)
const clis = (arg('cli') ?? '').split(/,(?=\/)/).filter(Boolean);
if (clis.length === 0) throw new Error('--cli A[,B…] is required');
const pairs = Number(arg('pairs', '4'));
const withProbe = argv.includes('--probe') || arg('snapshot') !== undefined;
/** `--snapshot DIR`: a heap snapshot 5 s after the clients (implies the probe); `--malloc`: then glibc's malloc_stats and what malloc_trim(0) gives back. */
const snapshotDir = arg('snapshot');
const withMalloc = argv.includes('--malloc');
/** `--kill-after`: SIGKILL the server right after the 50 clients (heaptrack's "leaked" is then what was live; bench/README). */
const killAfter = argv.includes('--kill-after');
/** `--series`: every Pss_Anon sample of the client rows, not only their peaks. */
const withSeries = argv.includes('--series');
const extra = JSON.parse(arg('config', '{}')!) as Record<string, Record<string, unknown>>;
const env = Object.fromEntries((arg('env') ?? '').split(' ').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const log = (m: string): void => void process.stderr.write(`[load-ab] ${m}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const corpus = await prepareCorpus(join(ROOT, '.bench'), corpusOptions(false), log);
const count = corpus.messageIds.length;
const skip = corpus.large ? { skipUid: corpus.large.number } : {};

/** One run of build `cli`; prints one line. */
async function run(spec: string, label: string): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'nf-loadab-'));
  let server: ServerProcess | undefined;
  try {
    const metricsPort = await freePort();
    const base = benchConfig(metricsPort, true) as Record<string, Record<string, unknown>>;
    const own = JSON.parse(spec.includes('#') ? spec.slice(spec.indexOf('#') + 1) : '{}') as Record<string, Record<string, unknown>>;
    // `"env": {…}` in a build's JSON: environment of that build's server (after --env), not config
    const ownEnv = { ...env, ...(own['env'] as Record<string, string> | undefined) };
    delete own['env'];
    const cli = spec.split('#')[0]!;
    const config: Record<string, Record<string, unknown>> = { ...base };
    for (const add of [extra, own]) for (const [k, v] of Object.entries(add)) config[k] = { ...config[k], ...v };
    server = await startServer({
      upstreamPort: port, dataDir, listenPort: await freePort(), logPath: join(dataDir, 'server.log'), cli, config, env: ownEnv,
      ...(withProbe ? { ipc: true, nodeFlags: [...NODE_FLAGS, ...PROBE_NODE_FLAGS] } : {}),
    });
    const srv = server;
    const first = await openSession(srv.port, corpus.group);
    first.client.close();
    for (;;) {
      const g = (await serverStatus(metricsPort)).index?.groups.find((x) => x.group === corpus.group);
      if (g !== undefined && g.total !== null && g.bodies >= g.total && g.headers >= count) break;
      await sleep(1000);
    }
    const crawlCpu = await srv.cpuSeconds();
    const io0 = Number(/\nwrite_bytes: (\d+)/.exec(await readFile(`/proc/${srv.pid}/io`, 'latin1'))?.[1]);
    const w = await openSession(srv.port, corpus.group);
    const warm = await withMemoryPeak(() => srv.memory(), w.client.ok('UID FETCH 1:* (BODY.PEEK[])', { timeoutMs: 600_000 }));
    w.client.close();
    const before = await srv.memory();
    const ioWarm = Number(/\nwrite_bytes: (\d+)/.exec(await readFile(`/proc/${srv.pid}/io`, 'latin1'))?.[1]);
    const out: string[] = [`crawl CPU ${crawlCpu.toFixed(0)} s, written by the body reads ${((ioWarm - io0) / 1e6).toFixed(0)} MB, bodies peak ${warm.peakAnonMB.toFixed(0)}, before 10 ${before.anonMB.toFixed(0)}`];
    for (const n of [10, 50]) {
      const c0 = await srv.cpuSeconds();
      let split = '';
      let top = 0;
      const timer = withProbe ? setInterval(() => void (async () => {
        const m = await srv.memory();
        if (m.anonMB <= top) return;
        top = m.anonMB;
        const [maps, v8] = await Promise.all([anonSplit(srv.pid), probe<Record<string, number> & { spaces: string }>(srv, 'spaces', 'spaces')]);
        const mb = (x: number): string => (x / 1e6).toFixed(1);
        split = `${m.anonMB.toFixed(0)}: ${Object.entries(maps).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}; heapTotal ${mb(v8.heapTotal!)} used ${mb(v8.heapUsed!)} external ${mb(v8.external!)} arrayBuffers ${mb(v8.arrayBuffers!)}; ${v8.spaces}`;
      })().catch(() => undefined), 1000) : undefined;
      const series: number[] = [];
      const sampled = async (): Promise<Awaited<ReturnType<typeof srv.memory>>> => {
        const m = await srv.memory();
        series.push(Math.round(m.anonMB));
        return m;
      };
      const r = await withMemoryPeak(sampled, concurrentClients({ port: srv.port, mailbox: corpus.group, clients: n, seconds: 10, count, ...skip }));
      if (timer) clearInterval(timer);
      const cpu = (await srv.cpuSeconds()) - c0;
      out.push(`${n}: ${r.result.commandsPerSecond.toFixed(0)} cmd/s ${((cpu * 1e6) / r.result.commands).toFixed(0)} µs/cmd peak ${r.peakAnonMB.toFixed(1)}${r.result.errors ? ` ERRORS ${r.result.errors}` : ''}`);
      if (split) out.push(`\n    at the ${n} peak ${split}`);
      if (withSeries) out.push(`\n    ${n} clients, Pss_Anon every 500 ms: ${series.join(' ')}`);
    }
    if (killAfter) {
      process.kill(srv.pid, 'SIGKILL');
      log(`${label}: ${out.join('; ')}; killed after the clients`);
      return;
    }
    await sleep(5000);
    out.push(`5 s after ${(await srv.memory()).anonMB.toFixed(0)}`);
    if (withMalloc) {
      out.push(`split ${Object.entries(await anonSplit(srv.pid)).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
      mallocTrim(srv.pid);
      await sleep(500);
      out.push(`after malloc_trim(0) ${(await srv.memory()).anonMB.toFixed(0)}: ${Object.entries(await anonSplit(srv.pid)).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
      const stats = (await readFile(join(dataDir, 'server.log'), 'latin1')).split('\n').filter((l) => /^(Arena|system bytes|in use bytes|Total|max mmap)/.test(l));
      out.push(`malloc_stats: ${stats.join(' | ')}`);
    }
    if (snapshotDir !== undefined) out.push(`snapshot ${await heapSnapshot(srv, join(snapshotDir, `${label.replaceAll(' ', '-')}.heapsnapshot`))}`);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const envStats = [...metrics.matchAll(/^newsfront_envelope_cache_(\w+) (\S+)$/gm)].map((m) => `${m[1]} ${Number(m[2]).toFixed(0)}`);
    const io = /\nwrite_bytes: (\d+)/.exec(await readFile(`/proc/${srv.pid}/io`, 'latin1'))?.[1];
    out.push(`envelope cache ${envStats.join(' ')}; written after the crawl ${((Number(io) - io0) / 1e6).toFixed(0)} MB`);
    log(`${label} (load ${(await readFile('/proc/loadavg', 'latin1')).split(' ')[0]}): ${out.join('; ')}`);
  } finally {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

for (let p = 0; p < pairs; p++) {
  for (let k = 0; k < clis.length; k++) {
    while (await readFile('/work/tools/QUIET-ON').then(() => true, () => false)) await sleep(30_000);
    await run(clis[k]!, `pair ${p + 1} ${String.fromCharCode(65 + k)}`);
  }
}
