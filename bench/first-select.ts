/**
 * Development aid (not part of `npm run bench`): the first SELECT of a
 * never-seen group beside INN's own OVER of it, measured in the same minute,
 * alternating builds so a change can be compared on a noisy machine.
 *
 *   node dist/bench/first-select.js --port P --group G [--cli dist/src/cli.js]… [--rounds 3] [--prof DIR] [--config JSON]
 *
 * Each round, for each `--cli` in turn (default: this build's): INN's OVER of
 * the whole group (bench/upstream.ts `overAll`), then a fresh data directory,
 * a server started on it, connect + LOGIN + SELECT timed to the tagged OK, the
 * server's CPU time (utime + stime, all threads, and the main thread's alone) over the SELECT and until the
 * process is idle again (background work started by the open: index feed,
 * In-Reply-To fetches), and the load average. With BENCH_THREADS=1 the CPU
 * of each thread (by name) over the SELECT is printed too. `--prof DIR` starts the server
 * with `--cpu-prof --cpu-prof-dir DIR`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CLI_PATH, freePort, NODE_FLAGS, startServer } from './server.js';
import { openSession } from './session.js';
import { overAll } from './upstream.js';

const argv = process.argv.slice(2);
const clis: string[] = [];
let port = 0;
let group = 'bench.big';
let rounds = 3;
let prof: string | undefined;
let config: Record<string, unknown> | undefined;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  const v = argv[++i];
  if (v === undefined) throw new Error(`${a} needs a value`);
  if (a === '--port') port = Number(v);
  else if (a === '--group') group = v;
  else if (a === '--cli') clis.push(resolve(v));
  else if (a === '--rounds') rounds = Number(v);
  else if (a === '--prof') prof = resolve(v);
  else if (a === '--config') config = JSON.parse(v) as Record<string, unknown>;
  else throw new Error(`unknown argument ${a}`);
}
if (!port) throw new Error('--port P (of a held INN, bench/hold-inn.ts) is needed');
if (clis.length === 0) clis.push(CLI_PATH);

const IDLE_WAIT_S = 20;

/** CPU seconds per thread of process `pid`, keyed `name[tid]` (`name(main)` for the main thread). */
async function threadCpu(pid: number): Promise<Map<string, number>> {
  const { readdir } = await import('node:fs/promises');
  const out = new Map<string, number>();
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'latin1').catch(() => '');
    if (stat === '') continue;
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const key = tid === String(pid) ? `${name}(main)` : `${name}[${tid}]`;
    out.set(key, (out.get(key) ?? 0) + (Number(f[11]) + Number(f[12])) / 100);
  }
  return out;
}

/** CPU seconds (utime + stime) of the process's main thread alone (its task's stat: tid = pid). */
async function mainThreadCpu(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/task/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

for (let r = 1; r <= rounds; r++) {
  for (const cli of clis) {
    const over = await overAll(port, group, 10_000_000);
    const dataDir = await mkdtemp(join(tmpdir(), 'nf-first-select-'));
    const listenPort = await freePort();
    const server = await startServer({
      upstreamPort: port,
      dataDir,
      listenPort,
      logPath: join(dataDir, 'server.log'),
      cli,
      ...(config ? { config } : {}),
      nodeFlags: [...NODE_FLAGS, ...(prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : [])],
    });
    try {
      const cpu0 = await server.cpuSeconds();
      const main0 = await mainThreadCpu(server.pid);
      const threads0 = process.env['BENCH_THREADS'] ? await threadCpu(server.pid) : undefined;
      const mark0 = process.hrtime.bigint() / 1000n;
      const s = await openSession(listenPort, group);
      const mark1 = process.hrtime.bigint() / 1000n;
      const cpu1 = await server.cpuSeconds();
      const main1 = await mainThreadCpu(server.pid);
      if (threads0) {
        const t1 = await threadCpu(server.pid);
        const parts = [...t1].map(([k, v]) => [k, v - (threads0.get(k) ?? 0)] as const).filter(([, v]) => v > 0);
        process.stdout.write(`  threads during the SELECT: ${parts.map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}\n`);
      }
      // Background work after the answer: wait until a second passes with < 0.02 s of CPU (at most IDLE_WAIT_S: the body crawl starts later).
      let last = cpu1;
      for (let s = 0; s < IDLE_WAIT_S; s++) {
        await sleep(1000);
        const now = await server.cpuSeconds();
        if (now - last < 0.02) break;
        last = now;
      }
      s.client.close();
      const load = loadavg()[0]!.toFixed(2);
      const ratio = s.seconds / over.seconds;
      process.stdout.write(
        `round ${r} ${cli}: SELECT ${s.seconds.toFixed(3)} s (EXISTS ${s.exists}), server CPU ${(cpu1 - cpu0).toFixed(2)} s during (main thread ${(main1 - main0).toFixed(2)}), ` +
          `${(last - cpu0).toFixed(2)} s until idle; INN OVER ${over.seconds.toFixed(3)} s (${over.articles}); ratio ${ratio.toFixed(2)}; load ${load}` +
          `${prof ? ` (marks µs ${mark0} ${mark1}, server pid ${server.pid})` : ''}\n`,
      );
    } finally {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }
}
