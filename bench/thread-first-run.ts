/**
 * One "first THREAD of a never-seen group" measurement (issue 11), shared by
 * bench/thread-first.ts (the development aid) and the rows of `npm run bench`
 * (thread-first-rows.ts): INN's own OVER of the group, then a fresh
 * `newsfront serve` (empty data dir, search index on) to which one client
 * connects, SELECTs the group and asks `UID THREAD REFERENCES UTF-8 ALL`.
 * The server is stopped and its data dir removed before this returns.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NntpClient } from '../src/nntp/client.js';
import { LoadClient } from './load-client.js';
import { CLI_PATH, NODE_FLAGS, freePort, startServer } from './server.js';

/** CPU seconds of a process's main thread (the event loop; the index writer's thread not counted). */
export async function mainCpu(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/task/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** Milliseconds INN takes for OVER of the whole group (one connection, 10 batches in flight). */
export async function innOver(port: number, group: string): Promise<number> {
  const c = await NntpClient.connect({ host: '127.0.0.1', port, pipelineWindow: 10 });
  try {
    const g = await c.group(group);
    const t = performance.now();
    for await (const _ of c.over(group, [g.low, g.high]));
    return performance.now() - t;
  } finally {
    await c.quit();
  }
}

export interface FirstThread {
  /** INN's OVER of the group just before, ms. */
  overMs: number;
  connectMs: number;
  selectMs: number;
  threadMs: number;
  /** Connect to the THREAD's answer, ms. */
  totalMs: number;
  /** Server CPU (all threads / main thread) from the connect to the SELECT's answer and to the THREAD's, s. */
  cpu: { select: number; all: number; mainSelect: number; main: number };
  answerBytes: number;
  /** The stages on the monotonic clock a CPU profile uses, µs. */
  marks: { pid: number; connect: bigint; selected: bigint; threaded: bigint };
}

export async function firstThread(o: { innPort: number; group: string; cli?: string; nodeFlags?: string[] }): Promise<FirstThread> {
  const overMs = await innOver(o.innPort, o.group);
  const dir = await mkdtemp(join(tmpdir(), 'nf-thread-first-'));
  const server = await startServer({
    upstreamPort: o.innPort, dataDir: dir, listenPort: await freePort(), logPath: join(dir, 'server.log'), cli: o.cli ?? CLI_PATH, nodeFlags: o.nodeFlags ?? NODE_FLAGS,
  });
  try {
    const cpu0 = await server.cpuSeconds();
    const main0 = await mainCpu(server.pid);
    const t0 = performance.now();
    const m0 = process.hrtime.bigint();
    const c = await LoadClient.open(server.port);
    const t1 = performance.now();
    await c.cmd('LOGIN anonymous x');
    await c.cmd(`SELECT ${o.group}`);
    const t2 = performance.now();
    const m2 = process.hrtime.bigint();
    const select = (await server.cpuSeconds()) - cpu0;
    const mainSelect = (await mainCpu(server.pid)) - main0;
    const answer = await c.cmd('UID THREAD REFERENCES UTF-8 ALL');
    const t3 = performance.now();
    const m3 = process.hrtime.bigint();
    const all = (await server.cpuSeconds()) - cpu0;
    const main = (await mainCpu(server.pid)) - main0;
    c.close();
    const threads = answer.split('\r\n').find((l) => l.startsWith('* THREAD')) ?? '';
    if (!threads) throw new Error(`no THREAD answer: ${answer.slice(0, 200)}`);
    return {
      overMs, connectMs: t1 - t0, selectMs: t2 - t1, threadMs: t3 - t2, totalMs: t3 - t0,
      cpu: { select, all, mainSelect, main }, answerBytes: threads.length,
      marks: { pid: server.pid, connect: m0 / 1000n, selected: m2 / 1000n, threaded: m3 / 1000n },
    };
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
