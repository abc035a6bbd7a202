/**
 * Development aid (not part of `npm run bench`): the bench's "1,000
 * consecutive BODY.PEEK[] in one command, again" row as the bench meets it —
 * in a fresh server process, right after the same command read the 1,000
 * articles from INN for the first time, median of 3 rounds — repeated in
 * many processes, alternating builds, against the INN of bench/hold-inn.ts.
 * Each process reads a new range of 1,000 articles (so "first time" is a
 * first time), on one data dir per build (the first SELECT's ingest is paid
 * once).
 *
 *   npm run build && node dist/bench/bodies-fresh.js --port P [--runs 8] [--gap MS] [--keep] [--log-slice] [--no-body-index] [--cli A/dist/src/cli.js ...]
 *
 * `--keep` keeps the data dirs (server logs); `--log-slice` prints what the
 * server logged from just before the rounds to `--gap` after them. `--gap MS`: idle time before the first time and before and after the 3 rounds (to find them in a CPU
 * profile, BENCH_SERVER_NODE_FLAGS as in bytes-again.ts).
 *
 * Prints per build: the first time's median and server CPU (the process's,
 * /proc/PID/stat: 10 ms ticks), the median over processes of the 3-round medians, every
 * round's time, the server's CPU time per round (of the 3 rounds), the same
 * by thread name (/proc/PID/task/TID/schedstat) and the load average.
 */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusOptions, prepareCorpus } from './corpus.js';
import { median } from './report.js';
import { procCpuSeconds, freePort, startServer, CLI_PATH } from './server.js';
import { openSession } from './session.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '..', '..');

/** Waits (up to 60 s) until the server used under 20 ms of CPU in half a second. */
async function quiet(pid: number): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const c0 = await procCpuSeconds(pid);
    await new Promise((res) => setTimeout(res, 500));
    if ((await procCpuSeconds(pid)) - c0 < 0.02) return;
  }
}

const ms = (s: number): string => (s * 1000).toFixed(2);

/** CPU time of process `pid`'s main thread and of its other threads by name (ns, /proc/PID/task/TID/schedstat: ns resolution, unlike stat's ticks). */
async function threadCpu(pid: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    try {
      const comm = (await readFile(`/proc/${pid}/task/${tid}/comm`, 'latin1')).trim();
      const name = Number(tid) === pid ? 'main thread' : process.env['BODIES_FRESH_TIDS'] ? `${tid} ${comm}` : `other ${comm}`;
      const ns = Number((await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'latin1')).split(' ')[0]);
      out.set(name, (out.get(name) ?? 0) + ns);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

async function main(): Promise<void> {
  const argv = process.argv;
  const port = Number(argv[argv.indexOf('--port') + 1]);
  if (!(port > 0)) throw new Error('--port P is required');
  const runs = argv.includes('--runs') ? Number(argv[argv.indexOf('--runs') + 1]) : 8;
  const gap = argv.includes('--gap') ? Number(argv[argv.indexOf('--gap') + 1]) : 0;
  // `--no-body-index`: as the bench's first server (index-rows.ts benchConfig), bodies read are not copied to the index
  const index = argv.includes('--no-body-index') ? { crawlDelayMs: 86_400_000, bodies: { '*': 'none' } } : { crawlDelayMs: 86_400_000 };
  const clis = [CLI_PATH];
  for (let i = 0; i < argv.length; i++) if (argv[i] === '--cli') clis.push(resolve(argv[i + 1]!));
  const corpus = await prepareCorpus(join(ROOT, '.bench'), corpusOptions(false), () => undefined);
  const L = corpus.large?.number ?? 0;
  const dirs = await Promise.all(clis.map(() => mkdtemp(join(tmpdir(), 'nf-fresh-'))));
  /** Per build, thread name → CPU seconds per round, one entry per process. */
  const threads = clis.map(() => new Map<string, number[]>());
  /** The same for the first time (the whole command, not per round). */
  const firstThreads = clis.map(() => new Map<string, number[]>());
  const got = clis.map(() => ({ medians: [] as number[], rounds: [] as number[], cpu: [] as number[], first: [] as number[], firstCpu: [] as number[] }));
  try {
    for (let r = 0; r < runs; r++) {
      const lo = 2001 + r * 1000 + (L >= 2001 + r * 1000 && L <= 3000 + r * 1000 ? 1000 : 0);
      const cmd = `UID FETCH ${lo}:${lo + 999} (BODY.PEEK[])`;
      const order = clis.map((_, i) => i);
      if (r % 2 === 1) order.reverse();
      for (const b of order) {
        const server = await startServer({ upstreamPort: port, dataDir: dirs[b]!, listenPort: await freePort(), logPath: join(dirs[b]!, `server${r}.log`), cli: clis[b]!, config: { index } });
        try {
          const s = await openSession(server.port, corpus.group);
          await quiet(server.pid);
          await s.client.ok('UID FETCH 1:* (UID FLAGS)');
          if (gap > 0) await new Promise((res) => setTimeout(res, gap)); // the first time stands apart in a profile
          const [f0, ft0] = [await procCpuSeconds(server.pid), await threadCpu(server.pid)];
          got[b]!.first.push((await s.client.ok(cmd)).seconds);
          got[b]!.firstCpu.push((await procCpuSeconds(server.pid)) - f0);
          for (const [name, ns] of await threadCpu(server.pid)) {
            const d = (ns - (ft0.get(name) ?? 0)) / 1e9;
            if (d > 0) firstThreads[b]!.set(name, [...(firstThreads[b]!.get(name) ?? []), d]);
          }
          if (gap > 0) await new Promise((res) => setTimeout(res, gap));
          const logFrom = (await stat(join(dirs[b]!, `server${r}.log`))).size;
          const t0 = await threadCpu(server.pid);
          const c0 = await procCpuSeconds(server.pid);
          const xs: number[] = [];
          for (let k = 0; k < 3; k++) xs.push((await s.client.ok(cmd)).seconds);
          got[b]!.cpu.push(((await procCpuSeconds(server.pid)) - c0) / 3);
          for (const [name, ns] of await threadCpu(server.pid)) {
            const d = (ns - (t0.get(name) ?? 0)) / 3e9;
            if (d > 0) threads[b]!.set(name, [...(threads[b]!.get(name) ?? []), d]);
          }
          got[b]!.rounds.push(...xs);
          got[b]!.medians.push(median(xs));
          if (gap > 0) await new Promise((res) => setTimeout(res, gap));
          if (argv.includes('--log-slice')) {
            // what the server logged from just before the rounds to the gap after them (e.g. --trace-opt in BENCH_SERVER_NODE_FLAGS)
            const text = await readFile(join(dirs[b]!, `server${r}.log`), 'utf8');
            process.stderr.write(`--- server log during the rounds (build ${b}, run ${r + 1})\n${Buffer.from(text).subarray(logFrom).toString('utf8')}`);
          }
          s.client.close();
        } finally {
          await server.stop();
        }
      }
      const load = (await readFile('/proc/loadavg', 'latin1')).split(' ')[0];
      process.stderr.write(`run ${r + 1}/${runs} load ${load}: ${clis.map((_, b) => `${b}: ${got[b]!.rounds.slice(-3).map(ms).join(' ')} ms (cpu ${ms(got[b]!.cpu.at(-1)!)})`).join(' | ')}\n`);
    }
    const load = (await readFile('/proc/loadavg', 'latin1')).split(' ')[0];
    for (let b = 0; b < clis.length; b++) {
      const g = got[b]!;
      process.stdout.write(
        `${clis[b]}\n  again (median of per-process 3-round medians) ${ms(median(g.medians))} ms; all rounds median ${ms(median(g.rounds))} ms; cpu/round median ${ms(median(g.cpu))} ms; first time median ${ms(median(g.first))} ms (server cpu median ${ms(median(g.firstCpu))} ms; all ${g.first.map(ms).join(' ')}); load ${load}\n`,
      );
      const per = [...threads[b]!].map(([name, xs]) => [name, xs.reduce((a, x) => a + x, 0) / runs] as const).sort((x, y) => y[1] - x[1]);
      process.stdout.write(`  CPU per round by thread (mean over processes, schedstat): ${per.map(([n, v]) => `${n} ${ms(v)}`).join(', ')}\n`);
      const perFirst = [...firstThreads[b]!].map(([name, xs]) => [name, median(xs)] as const).sort((x, y) => y[1] - x[1]);
      process.stdout.write(`  CPU of the first time by thread (median over processes, schedstat): ${perFirst.map(([n, v]) => `${n} ${ms(v)}`).join(', ')}\n`);
    }
  } finally {
    if (argv.includes('--keep')) process.stderr.write(`data dirs kept: ${dirs.join(' ')}\n`);
    else for (const d of dirs) await rm(d, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bodies-fresh failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
