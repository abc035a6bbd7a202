/**
 * Development aid (not part of `npm run bench`): times the SEARCH/SORT/THREAD
 * rows of the index on a running server, many rounds each, so a change to the
 * answer path can be measured without the whole bench.
 *
 *   node dist/bench/answer-rows.js --port P --pid PID [--rounds 15] [--vary] [--only "BODY rare"] [--label new]
 *
 * Per row: the median wall time and the server's average CPU time per command
 * (/proc/PID/stat, all threads), and the load average. `--vary` changes the
 * letter case of the needle each round (the same work for the index, never
 * an answer kept from the round before: search/match-cache.ts keys on the
 * needle as sent). The words are the benchmark corpus's (bench/corpus.ts).
 * Start the server with a data dir whose index is complete (GET /status).
 */
import { loadavg } from 'node:os';
import { RawImap } from './imap-client.js';
import { procCpuSeconds } from './server.js';
import { casedVariant } from './session.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const port = Number(arg('port'));
const pid = Number(arg('pid'));
const rounds = Number(arg('rounds') ?? 15);
const vary = process.argv.includes('--vary');
const only = arg('only');
const label = arg('label') ?? '';
const group = arg('group') ?? 'bench.big';

const ROWS: [string, string][] = [
  ['SUBJECT rare', 'UID SEARCH SUBJECT "patch"'],
  ['BODY rare', 'UID SEARCH BODY "rivendor"'],
  ['FROM', 'UID SEARCH FROM "thompson"'],
  ['TEXT', 'UID SEARCH TEXT "rivendor"'],
  ['BODY common', 'UID SEARCH BODY "which"'],
  ['SORT DATE', 'UID SORT (DATE) UTF-8 ALL'],
  ['SORT SUBJECT', 'UID SORT (SUBJECT) UTF-8 ALL'],
  ['THREAD REFERENCES', 'UID THREAD REFERENCES UTF-8 ALL'],
];
const rows = ROWS.filter(([name]) => only === undefined || name === only);

/** The needle of `cmd` as casedVariant(needle, n). */
function varied(cmd: string, n: number): string {
  return cmd.replace(/"([^"]+)"/, (_, w: string) => `"${casedVariant(w, n)}"`);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const c = await RawImap.connect('127.0.0.1', port);
try {
  await c.ok('LOGIN "anonymous" "x"');
  await c.ok(`SELECT "${group}"`);
  const wall = new Map<string, number[]>();
  const cpu = new Map<string, number>();
  for (const [name, cmd] of rows) {
    await c.ok(cmd); // keys built, statements prepared, JIT warm
    wall.set(name, []);
    cpu.set(name, 0);
  }
  for (let r = 0; r < rounds; r++) {
    for (const [name, cmd] of rows) {
      const c0 = await procCpuSeconds(pid);
      const t0 = performance.now();
      await c.ok(vary ? varied(cmd, r + 1) : cmd);
      wall.get(name)!.push(performance.now() - t0);
      cpu.set(name, cpu.get(name)! + (await procCpuSeconds(pid)) - c0);
    }
  }
  const load = loadavg()[0]!.toFixed(1);
  for (const [name] of rows) {
    const w = median(wall.get(name)!).toFixed(1);
    const s = ((cpu.get(name)! * 1000) / rounds).toFixed(1);
    process.stdout.write(`${label}\t${name.padEnd(18)}\twall ${w} ms (median)\tserver CPU ${s} ms (mean)\tload ${load}\n`);
  }
} finally {
  c.close();
}
