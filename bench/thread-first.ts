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
import { loadavg } from 'node:os';
import { CLI_PATH, NODE_FLAGS } from './server.js';
import { firstThread } from './thread-first-run.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const innPort = Number(arg('port'));
const group = arg('group') ?? 'bench.big';
const runs = Number(arg('runs') ?? '3');
const prof = arg('prof');
const clis = (arg('cli') ?? CLI_PATH).split(',');
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');

for (let run = 0; run < runs; run++) {
  for (const cli of clis) {
    const r = await firstThread({ innPort, group, cli, nodeFlags: prof ? [...NODE_FLAGS, '--cpu-prof', '--cpu-prof-dir', prof] : NODE_FLAGS });
    const ms = (s: number): string => (s * 1000).toFixed(0);
    process.stdout.write(
      `${cli === CLI_PATH ? 'this build' : cli}: INN OVER ${r.overMs.toFixed(0)} ms | connect ${r.connectMs.toFixed(0)} SELECT ${r.selectMs.toFixed(0)} THREAD ${r.threadMs.toFixed(0)} ` +
        `total ${r.totalMs.toFixed(0)} ms (${(r.totalMs - r.overMs).toFixed(0)} beyond OVER) | server CPU ${ms(r.cpu.all)} ms (SELECT ${ms(r.cpu.select)}), main thread ${ms(r.cpu.main)} (SELECT ${ms(r.cpu.mainSelect)}) | ` +
        `answer ${r.answerBytes} B | load ${load()}\n`,
    );
    // the profile's clock is the same monotonic one: these place the stages in it (profile-window.ts)
    if (prof !== undefined) process.stdout.write(`  marks (monotonic µs): pid ${r.marks.pid} connect ${r.marks.connect} selected ${r.marks.selected} threaded ${r.marks.threaded}\n`);
  }
}
