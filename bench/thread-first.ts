/**
 * Development aid (not part of `npm run bench`): the first THREAD of a group
 * never seen before, end to end. A fresh `newsfront serve` (empty data dir,
 * search index on) is started; one client connects, SELECTs the group and
 * asks `UID THREAD REFERENCES UTF-8 ALL`. Printed beside INN's own OVER of
 * the group in the same run (issue 11's target: THREAD answered ≤ 1 s after
 * what OVER alone costs).
 *
 *   node dist/bench/thread-first.js --port INNPORT [--group bench.big] [--runs 3] [--prof DIR] [--cli PATH]
 *
 * `--prof DIR`: the server runs with --cpu-prof into DIR, and each run also
 * prints the connect, the SELECT's answer and the THREAD's on the monotonic
 * clock the profile uses (for profile-window.ts: what the main thread did
 * between them, and how long it waited). `--cli`: another
 * build's dist/src/cli.js (before/after comparisons, alternated per run).
 * Rows per run: wall ms of connect→greeting, SELECT, THREAD and in all; the
 * server's CPU from the connect to the answer (all threads, and its main
 * thread alone; each also at the SELECT's answer); the load average.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NntpClient } from '../src/nntp/client.js';
import { LoadClient } from './load-client.js';
import { CLI_PATH, NODE_FLAGS, freePort, startServer } from './server.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const innPort = Number(arg('port'));
const group = arg('group') ?? 'bench.big';
const runs = Number(arg('runs') ?? '3');
const prof = arg('prof');
const clis = (arg('cli') ?? CLI_PATH).split(',');
/** CPU seconds of the server's main thread (the event loop; the index writer's thread not counted). */
async function mainCpu(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/task/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');

async function innOver(): Promise<number> {
  const c = await NntpClient.connect({ host: '127.0.0.1', port: innPort, pipelineWindow: 10 });
  try {
    const g = await c.group(group);
    const t = performance.now();
    for await (const _ of c.over(group, [g.low, g.high]));
    return performance.now() - t;
  } finally {
    await c.quit();
  }
}

for (let run = 0; run < runs; run++) {
  for (const cli of clis) {
    const over = await innOver();
    const dir = await mkdtemp(join(tmpdir(), 'nf-thread-first-'));
    const server = await startServer({
      upstreamPort: innPort, dataDir: dir, listenPort: await freePort(), logPath: join(dir, 'server.log'), cli,
      nodeFlags: prof ? [...NODE_FLAGS, '--cpu-prof', '--cpu-prof-dir', prof] : NODE_FLAGS,
    });
    try {
      const cpu0 = await server.cpuSeconds();
      const main0 = await mainCpu(server.pid);
      const t0 = performance.now();
      const m0 = process.hrtime.bigint();
      const c = await LoadClient.open(server.port);
      const t1 = performance.now();
      await c.cmd('LOGIN anonymous x');
      await c.cmd(`SELECT ${group}`);
      const t2 = performance.now();
      const m2 = process.hrtime.bigint();
      const cpuSelect = (await server.cpuSeconds()) - cpu0;
      const mainSelect = (await mainCpu(server.pid)) - main0;
      const answer = await c.cmd('UID THREAD REFERENCES UTF-8 ALL');
      const t3 = performance.now();
      const m3 = process.hrtime.bigint();
      const cpu = (await server.cpuSeconds()) - cpu0;
      const main = (await mainCpu(server.pid)) - main0;
      c.close();
      const threads = answer.split('\r\n').find((l) => l.startsWith('* THREAD')) ?? '';
      process.stdout.write(
        `${cli === CLI_PATH ? 'this build' : cli}: INN OVER ${over.toFixed(0)} ms | connect ${(t1 - t0).toFixed(0)} SELECT ${(t2 - t1).toFixed(0)} THREAD ${(t3 - t2).toFixed(0)} ` +
          `total ${(t3 - t0).toFixed(0)} ms (${(t3 - t0 - over).toFixed(0)} beyond OVER) | server CPU ${(cpu * 1000).toFixed(0)} ms (SELECT ${(cpuSelect * 1000).toFixed(0)}), main thread ${(main * 1000).toFixed(0)} (SELECT ${(mainSelect * 1000).toFixed(0)}) | ` +
          `answer ${threads.length} B | load ${load()}\n`,
      );
      // the profile's clock is the same monotonic one: these place the stages in it (profile-window.ts)
      if (prof !== undefined) process.stdout.write(`  marks (monotonic µs): pid ${server.pid} connect ${m0 / 1000n} selected ${m2 / 1000n} threaded ${m3 / 1000n}\n`);
    } finally {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }
}
