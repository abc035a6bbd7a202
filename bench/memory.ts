/**
 * Development aid (not part of `npm run bench`): what newsfront's memory is
 * made of while it serves the bench's sessions, against the INN of
 * `hold-inn.ts`. One server (this build, or `--cli` another) with a fresh data
 * dir runs the bench's one-session rows (imap-rows.ts: listings, searches,
 * SORT/THREAD, BODYSTRUCTURE, bodies), then the 50-client phase (load.ts),
 * and prints Pss_Anon (what the process holds: JS heap, buffers, malloc
 * arenas, stacks) apart from Pss_File (LMDB's maps: page cache), a split of
 * the anonymous mappings, and V8's own figures (after a forced GC).
 *
 *   npm run build && node dist/bench/memory.js --port INNPORT [--quick] [--no-rows | --lite]
 *     [--focus --data DIR] [--clients 50] [--seconds 10] [--idle 1000] [--cli OTHER/dist/src/cli.js]
 *     [--node-flags "--max-semi-space-size=16"] [--env "MALLOC_ARENA_MAX=8 MALLOC_MMAP_THRESHOLD_="] [--snapshot DIR]
 *
 * `--lite` runs only the ENVELOPE listing (cold, then warm ×3, with server CPU)
 * instead of all the rows; `--focus` the rows whose renderings and keys stay
 * in memory (ENVELOPE listing ×4, SORT DATE/SUBJECT and THREAD ×2 each,
 * BODYSTRUCTURE listing ×3), each with its server CPU, and is meant with
 * `--data DIR`: a copy of DIR (e.g. made by `newsfront index bench.big --data
 * DIR`: every body crawled, as in the bench's load rows) is served instead of
 * an empty data dir; `--node-flags` replaces the bench's NODE_FLAGS; `--env` adds to SERVER_ENV (server.ts; `KEY=` unsets one); `--snapshot DIR` writes a
 * heap snapshot after the clients (open it in Chrome DevTools, Memory tab);
 * `--idle N` then opens N idle sessions on a fresh process over the same data;
 * `--as-bench` reads every body once and runs 10 clients before the 50, as
 * `npm run bench` does (its 50-client peak comes after them).
 * `--malloc` attaches gdb after the clients and has glibc print its arenas
 * (malloc_stats, into the server log) and give free memory back (malloc_trim).
 * The server is stopped by PID and its data dir removed, also on failure.
 */
import { innPortArg, namedArg } from './args.js';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusOptions, prepareCorpus } from './corpus.js';
import { anonSplit, mallocTrim, PROBE_NODE_FLAGS, heapSnapshot, probe, v8AfterGc } from './heap-probe.js';
import { imapRows } from './imap-rows.js';
import { concurrentClients, idleSessions, withMemoryPeak } from './load.js';
import { openSession } from './session.js';
import type { Row } from './report.js';
import { freePort, startServer, type ServerProcess } from './server.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '..', '..');

const argv = process.argv.slice(2);
const arg = (name: string, dflt?: string): string | undefined => namedArg(argv, name, dflt);
const port = innPortArg(argv);
const quick = argv.includes('--quick');
const clients = Number(arg('clients', '50'));
const seconds = Number(arg('seconds', '10'));
const idle = Number(arg('idle', '0'));
const nodeFlags = arg('node-flags')?.split(' ').filter(Boolean);
const env = Object.fromEntries((arg('env') ?? '').split(' ').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const snapshotDir = arg('snapshot');
const log = (m: string): void => void process.stderr.write(`[memory] ${m}\n`);

/** utime + stime of `pid`, seconds. */
async function cpuSeconds(pid: number): Promise<number> {
  const f = (await readFile(`/proc/${pid}/stat`, 'latin1')).split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** The main thread's collections since start (bench/soak-probe.ts 'gcs'), one line. */
async function gcLine(s: ServerProcess): Promise<string> {
  const g = await probe<Record<string, number>>(s, 'gcs', 'gcs');
  return `GC pauses since start: ${g['minor']} scavenges ${g['minorMs']!.toFixed(0)} ms, ${g['major']} major ${g['majorMs']!.toFixed(0)} ms`;
}

/** Prints the memory of `s`; with `gc`, V8's figures after a forced major GC too (which changes what follows). */
async function report(s: ServerProcess, when: string, gc = true): Promise<void> {
  const m = await s.memory();
  const split = await anonSplit(s.pid);
  const mb = (x: number): string => (x / 1e6).toFixed(1);
  log(`${when}: ${await gcLine(s)}`);
  log(`${when}: Pss_Anon ${m.anonMB.toFixed(1)} MB, Pss_File ${m.fileMB.toFixed(1)} MB, RSS ${m.rssMB.toFixed(1)} MB (peak ${m.hwmMB.toFixed(0)}), CPU ${(await cpuSeconds(s.pid)).toFixed(1)} s`);
  log(`  anonymous by mapping (MB): ${Object.entries(split).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
  if (process.argv.includes('--maps')) {
    // the biggest anonymous mappings (MB anon / MB size), to see what "other" is made of
    const text = await readFile(`/proc/${s.pid}/smaps`, 'latin1');
    const maps: Array<[number, number, string]> = [];
    let cur: [number, number, string] | undefined;
    for (const line of text.split('\n')) {
      const h = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (h) maps.push((cur = [0, Number(BigInt(`0x${h[2]}`) - BigInt(`0x${h[1]}`)) / 1e6, `${h[1]} ${h[3]} ${h[4]}`]));
      const a = /^Anonymous:\s+(\d+) kB/.exec(line);
      if (a && cur) cur[0] = Number(a[1]) / 1024;
    }
    maps.sort((x, y) => y[0] - x[0]);
    const hist = new Map<string, [number, number]>();
    for (const [anon, size] of maps) {
      const k = size < 0.3 ? '<0.3MB' : size < 1.1 ? '<1.1MB' : size < 8.5 ? '<8.5MB' : size < 33 ? '<33MB' : '>=33MB';
      const h = hist.get(k) ?? [0, 0];
      hist.set(k, [h[0] + anon, h[1] + 1]);
    }
    log(`  anon by mapping size: ${[...hist].map(([k, [a, n]]) => `${k} ${a.toFixed(1)} MB in ${n}`).join(', ')}`);
    log(`  top anon mappings (MB anon/size): ${maps.slice(0, 12).map(([a, sz, n]) => `${a.toFixed(1)}/${sz.toFixed(1)} ${n}`).join('; ')}`);
  }
  if (!gc) return;
  const v8 = await v8AfterGc(s);
  log(`  V8 after GC: heapUsed ${mb(v8['heapUsed']!)}, heapTotal ${mb(v8['heapTotal']!)} (new space ${mb(v8['newSpace']!)}), external ${mb(v8['external']!)}, arrayBuffers ${mb(v8['arrayBuffers']!)}, V8 malloced ${mb(v8['malloced']!)}`);
  log(`  V8 spaces committed/used (MB): ${(v8 as unknown as { spaces?: string }).spaces ?? '?'}`);
}

const corpus = await prepareCorpus(join(ROOT, '.bench'), corpusOptions(quick), log);
const count = corpus.messageIds.length;
const dataDir = await mkdtemp(join(tmpdir(), 'nf-memory-'));
if (arg('data')) execFileSync('cp', ['-a', `${resolve(arg('data')!)}/.`, dataDir]);
const launch = async (n: number): Promise<ServerProcess> =>
  startServer({
    ...(arg('config') ? { config: JSON.parse(arg('config')!) as Record<string, unknown> } : {}),
    upstreamPort: port, dataDir, listenPort: await freePort(), logPath: join(dataDir, `server${n}.log`), ipc: true, env,
    nodeFlags: [...(nodeFlags ?? (await import('./server.js')).NODE_FLAGS), ...PROBE_NODE_FLAGS],
    ...(arg('cli') ? { cli: arg('cli')! } : {}),
  });
let server: ServerProcess | undefined;
try {
  log(`load average ${(await readFile('/proc/loadavg', 'latin1')).split(' ').slice(0, 3).join(' ')}; node flags ${(nodeFlags ?? ['(bench default)']).join(' ')}; env ${JSON.stringify(env)}`);
  server = await launch(1);
  log(`server ${server.pid} up in ${server.startSeconds.toFixed(1)} s`);
  await report(server, 'after start (group ingested)');
  if (argv.includes('--lite')) {
    // only what the speed comparison needs: the ENVELOPE listing cold and warm (server CPU beside wall time)
    const s = await openSession(server.port, corpus.group);
    try {
      for (const what of ['cold', 'warm', 'warm', 'warm']) {
        const cpu0 = await cpuSeconds(server.pid);
        const t0 = performance.now();
        const srv0 = server;
        // with --split, what the cold listing's peak is made of (mappings and V8's figures, no GC), sampled every second
        let split: string | undefined;
        let splitPeak = 0;
        let coldSnapshot = arg('cold-snapshot');
        const splitTimer = what === 'cold' && argv.includes('--split') ? setInterval(() => void (async () => {
          const m = await srv0.memory();
          if (m.anonMB <= splitPeak) return;
          const [maps, v8] = await Promise.all([anonSplit(srv0.pid), probe<Record<string, number>>(srv0, 'sample', 'sample')]);
          splitPeak = m.anonMB;
          // --cold-snapshot DIR: one heap snapshot once the cold listing's Pss_Anon passes 250 MB
          if (coldSnapshot !== undefined && m.anonMB > 250) {
            const dir = coldSnapshot;
            coldSnapshot = undefined;
            log(`    heap snapshot during the cold listing: ${await heapSnapshot(srv0, join(dir, `cold-${Date.now()}.heapsnapshot`))}`);
          }
          const mb = (x: number): string => (x / 1e6).toFixed(1);
          split = `Pss_Anon ${m.anonMB.toFixed(1)}; ${Object.entries(maps).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}; V8 heapUsed ${mb(v8['heapUsed']!)}, heapTotal ${mb(v8['heapTotal']!)}, external ${mb(v8['external']!)}, arrayBuffers ${mb(v8['arrayBuffers']!)}`;
        })().catch(() => undefined), 1000) : undefined;
        const run = await withMemoryPeak(() => srv0.memory(), s.client.ok('UID FETCH 1:* (UID FLAGS ENVELOPE RFC822.SIZE INTERNALDATE)', { timeoutMs: 1_200_000 }), 200);
        if (splitTimer) clearInterval(splitTimer);
        log(`  ENVELOPE listing ${what}: ${((performance.now() - t0) / 1000).toFixed(3)} s, server CPU ${((await cpuSeconds(server.pid)) - cpu0).toFixed(2)} s, peak Pss_Anon ${run.peakAnonMB.toFixed(0)} MB`);
        if (what === 'cold' && split !== undefined) log(`    at its peak (MB): ${split}`);
      }
    } finally {
      s.client.close();
    }
    await report(server, 'after the listings', false);
  } else if (argv.includes('--focus')) {
    const s = await openSession(server.port, corpus.group);
    try {
      const rows: Array<[string, string, number]> = [
        ['ENVELOPE listing', 'UID FETCH 1:* (UID FLAGS ENVELOPE RFC822.SIZE INTERNALDATE)', 4],
        ['SORT (DATE)', 'UID SORT (DATE) UTF-8 ALL', 2],
        ['SORT (SUBJECT)', 'UID SORT (SUBJECT) UTF-8 ALL', 2],
        ['THREAD REFERENCES', 'UID THREAD REFERENCES UTF-8 ALL', 2],
        ['BODYSTRUCTURE listing', 'UID FETCH 1:* (BODYSTRUCTURE)', 3],
      ];
      for (const [name, command, times] of rows) {
        for (let k = 0; k < times; k++) {
          const cpu0 = await cpuSeconds(server.pid);
          const t0 = performance.now();
          await s.client.ok(command, { timeoutMs: 1_200_000 });
          const m = await server.memory();
          log(`  ${name} ${k === 0 ? 'first' : 'again'}: ${((performance.now() - t0) / 1000).toFixed(3)} s, server CPU ${((await cpuSeconds(server.pid)) - cpu0).toFixed(2)} s, Pss_Anon ${m.anonMB.toFixed(0)} MB`);
        }
      }
    } finally {
      s.client.close();
    }
    await report(server, 'after the focus rows', false);
  } else if (!argv.includes('--no-rows')) {
    const rows: Row[] = [];
    // the peak of Pss_Anon while each row ran (sampled every 500 ms), printed with the row
    let rowPeak = 0;
    let rowCpu = await cpuSeconds(server.pid);
    const srv1 = server;
    const sampler = setInterval(() => void srv1.memory().then((m) => (rowPeak = Math.max(rowPeak, m.anonMB)), () => undefined), 500);
    await imapRows(
      {
        port: server.port, mailbox: corpus.group, count, subjectWord: corpus.subjectWord, bodyWord: corpus.bodyWord,
        ...(corpus.commonBodyWord ? { commonBodyWord: corpus.commonBodyWord } : {}), ...(corpus.fromWord ? { fromWord: corpus.fromWord } : {}),
        ...(corpus.large ? { large: { uid: corpus.large.number, bytes: corpus.large.bytes } } : {}),
        rounds: 3, upstream: {}, log,
      },
      async (r) => {
        rows.push(r);
        const cpu = await cpuSeconds(srv1.pid).catch(() => NaN);
        log(`  ${r.operation}: ${typeof r.value === 'number' ? r.value.toFixed(4) : r.value} ${r.unit}${r.rounds ? ` [${r.rounds.map((x) => x.toFixed(3)).join(' ')}]` : ''}; server CPU ${(cpu - rowCpu).toFixed(2)} s; peak Pss_Anon ${rowPeak.toFixed(0)} MB`);
        rowPeak = 0;
        rowCpu = cpu;
      },
    );
    clearInterval(sampler);
    await report(server, 'after the one-session rows', false);
  }
  const srv = server;
  if (argv.includes('--as-bench')) {
    // as `npm run bench` before its 50 clients: every body read once, then 10 clients
    const w = await openSession(srv.port, corpus.group);
    const c0 = await cpuSeconds(srv.pid);
    const warm = await withMemoryPeak(() => srv.memory(), w.client.ok('UID FETCH 1:* (BODY.PEEK[])', { timeoutMs: 600_000 }));
    w.client.close();
    log(`  ${await gcLine(srv)}`);
    log(`  every body read: server CPU ${((await cpuSeconds(srv.pid)) - c0).toFixed(1)} s, peak Pss_Anon ${warm.peakAnonMB.toFixed(0)} MB`);
    const c1 = await cpuSeconds(srv.pid);
    const ten = await withMemoryPeak(() => srv.memory(), concurrentClients({ port: srv.port, mailbox: corpus.group, clients: 10, seconds, count, ...(corpus.large ? { skipUid: corpus.large.number } : {}) }));
    log(`  ${await gcLine(srv)}`);
    log(`10 clients: ${ten.result.commandsPerSecond.toFixed(0)} cmd/s, server CPU ${((await cpuSeconds(srv.pid)) - c1).toFixed(1)} s; peak Pss_Anon ${ten.peakAnonMB.toFixed(1)} MB`);
  }
  const cpu0 = await cpuSeconds(srv.pid);
  // what the clients' Pss_Anon peak is made of: mappings and V8's spaces without a GC, sampled every second
  let clientsPeak = 0;
  let clientsSplit = '';
  const clientsTimer = setInterval(() => void (async () => {
    const m = await srv.memory();
    if (m.anonMB <= clientsPeak) return;
    clientsPeak = m.anonMB;
    const [maps, v8] = await Promise.all([anonSplit(srv.pid), probe<Record<string, number> & { spaces: string }>(srv, 'spaces', 'spaces')]);
    const mb = (x: number): string => (x / 1e6).toFixed(1);
    clientsSplit = `Pss_Anon ${m.anonMB.toFixed(1)}; ${Object.entries(maps).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}; V8 heapTotal ${mb(v8.heapTotal!)}, heapUsed ${mb(v8.heapUsed!)}, external ${mb(v8.external!)}, arrayBuffers ${mb(v8.arrayBuffers!)}; spaces committed/used: ${v8.spaces}`;
  })().catch(() => undefined), 1000);
  const run = await withMemoryPeak(() => srv.memory(), concurrentClients({ port: srv.port, mailbox: corpus.group, clients, seconds, count, ...(corpus.large ? { skipUid: corpus.large.number } : {}) }));
  log(`${clients} clients: ${run.result.commandsPerSecond.toFixed(0)} cmd/s (${run.result.commands} in ${run.result.seconds.toFixed(1)} s, ${run.result.errors} errors), server CPU ${((await cpuSeconds(srv.pid)) - cpu0).toFixed(1)} s; peak Pss_Anon ${run.peakAnonMB.toFixed(1)} MB (Pss_File ${run.fileAtAnonPeakMB.toFixed(1)}), peak PSS ${run.peakPssMB.toFixed(1)}, peak RSS ${run.peakRssMB.toFixed(1)}`);
  clearInterval(clientsTimer);
  log(`  at the clients' peak (MB, sampled every second, no GC): ${clientsSplit}`);
  await report(srv, `after ${clients} clients`);
  if (argv.includes('--malloc')) {
    mallocTrim(srv.pid);
    const log2 = await readFile(join(dataDir, 'server1.log'), 'latin1');
    const stats = log2.slice(log2.lastIndexOf('Arena 0:'));
    log(`glibc malloc_stats:\n${stats.split('\n').filter((l) => /Arena|system bytes|in use bytes|Total/.test(l)).slice(-14).join('\n')}`);
    await report(srv, 'after malloc_trim(0)', false);
  }
  if (snapshotDir) log(`heap snapshot: ${await heapSnapshot(srv, join(snapshotDir, `newsfront-${Date.now()}.heapsnapshot`))}`);
  await srv.stop();
  server = undefined;
  if (idle > 0) {
    server = await launch(2);
    const s2 = server;
    const r = await idleSessions({ port: s2.port, mailbox: corpus.group, sessions: idle, memory: () => s2.memory() });
    log(`${idle} idle sessions: Pss_Anon ${r.before.anonMB.toFixed(1)} → ${r.after.anonMB.toFixed(1)} MB (${r.perSessionAnonKB.toFixed(1)} KB each), RSS ${r.before.rssMB.toFixed(1)} → ${r.after.rssMB.toFixed(1)} MB (${r.perSessionKB.toFixed(1)} KB each), Pss_File ${r.after.fileMB.toFixed(1)} MB`);
  }
} finally {
  await server?.stop();
  // --keep-log FILE: the (first) server's log, copied before the data dir goes
  if (arg('keep-log')) execFileSync('cp', [join(dataDir, 'server1.log'), resolve(arg('keep-log')!)]);
  await rm(dataDir, { recursive: true, force: true });
}
