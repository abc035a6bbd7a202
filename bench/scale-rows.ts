/**
 * "Many front-ends" rows (issue 13): front-ends that share nothing but one
 * PostgreSQL (flags: `--state postgres://…`, UID maps: `--uidmap postgres://…`,
 * each its own data dir, so its own caches), over the same INN:
 *
 *   1. front-end 1 starts; its first SELECT of the group (UIDs assigned into PostgreSQL);
 *   2. 1,000 sessions on front-end 1 alone (SELECT, then the load-sessions.ts
 *      mix: FETCH ENVELOPE / BODY.PEEK[] / UID SEARCH over 100 messages /
 *      STORE / FETCH FLAGS / NOOP, one user per session): commands/s, p50/p99;
 *   3. front-ends 2 and 3 start; their first SELECT (the UID map read from PostgreSQL);
 *   4. change delay front-end 1 → front-end 2 (STORE on one, IDLE on the other), quiet;
 *   5. the same 1,000 sessions spread over the three, while a pair of sessions
 *      measures the delay front-end 2 → front-end 3 under that load.
 *
 * Every load row notes each front-end's CPU time, PostgreSQL's, the load
 * generator's (this process) and the load average. The search index is off
 * in these front-ends (config file): its body crawler would fetch the whole
 * group once per front-end during the window, which is a cost of the index,
 * not of the coordination measured here. Front-ends come from the caller's `launch` and
 * go back through its `stop` before this returns. A failing step prints `error: …`/`n/a: …` and the rest go on where
 * they can.
 */
import { loadavg } from 'node:os';
import { changeDelays, type DelayResult } from './change-delay.js';
import { percentile, runSessions, type LoadReport } from './load-sessions.js';
import type { BenchPostgres } from './pg.js';
import type { Row } from './report.js';
import { procCpuSeconds, type ServerProcess } from './server.js';
import { openSession } from './session.js';
import { BENCH_PASS, LOAD_USERS } from './state-rows.js';

const SECTION = 'Many front-ends (PostgreSQL flags and UID maps, one INN)';
const SESSIONS = LOAD_USERS;
/** Seconds of load per row (after every session is open). */
const LOAD_SECONDS = 20;
const LOAD_SECONDS_QUICK = 6;
/** Each UID SEARCH covers this many messages (no index here: BODY reads them). */
const SEARCH_WINDOW = 100;
const DELAYS = 200;
const DELAYS_QUICK = 60;

export interface ScaleInput {
  mailbox: string;
  count: number;
  quick: boolean;
  /** The large article's number, never fetched by the load (one 57 MB body would dominate a window). */
  skipSeq?: number;
  pg: BenchPostgres;
  /** Starts front-end `i` (0, 1, 2): own data dir, PostgreSQL state and UID map, index off. */
  launch: (i: number) => Promise<ServerProcess>;
  /** Stops one front-end `launch` gave. */
  stop: (s: ServerProcess) => Promise<void>;
  log: (m: string) => void;
}

const reason = (err: unknown, what = 'error'): string => `${what}: ${(err as Error).message.split('\n')[0]!.slice(0, 120)}`;

export async function scaleRows(input: ScaleInput, add: (row: Row) => void): Promise<void> {
  const { mailbox, log } = input;
  const row = (r: Omit<Row, 'section'>): void => add({ section: SECTION, ...r });
  const fes: ServerProcess[] = [];
  const seconds = input.quick ? LOAD_SECONDS_QUICK : LOAD_SECONDS;
  const changes = input.quick ? DELAYS_QUICK : DELAYS;
  try {
    const start = async (i: number): Promise<void> => {
      log(`scale: front-end ${i + 1} (PostgreSQL state and UID map)`);
      const fe = await input.launch(i);
      fes.push(fe);
      const s = await openSession(fe.port, mailbox, 'bench', BENCH_PASS);
      s.client.close();
      row({ operation: `first SELECT of the group on front-end ${i + 1}${i === 0 ? ' (UIDs assigned into PostgreSQL)' : ' (UID map read from PostgreSQL)'}`, unit: 's', value: s.seconds, note: `start ${fe.startSeconds.toFixed(2)} s before it` });
    };
    try {
      await start(0);
    } catch (err) {
      row({ operation: 'front-end 1', unit: 's', value: reason(err, 'n/a') });
      return;
    }

    const one = await load(input, fes.slice(0, 1), seconds);
    report(row, '1 front-end', one, undefined);

    try {
      await start(1);
      await start(2);
    } catch (err) {
      row({ operation: 'front-ends 2 and 3', unit: 's', value: reason(err, 'n/a') });
      return;
    }

    log('scale: change delay front-end 1 → front-end 2, quiet');
    try {
      const d = await changeDelays({ writer: fes[0]!.port, idler: fes[1]!.port, mailbox, user: 'delay-quiet', pass: BENCH_PASS, changes });
      delayRows(row, 'front-end 1 → front-end 2, quiet', d);
    } catch (err) {
      row({ operation: 'change delay STORE → IDLE, front-end 1 → front-end 2', unit: 'ms', value: reason(err) });
    }

    // the load, with a delay pair beside it (opened before, changing from the moment every session is open)
    let go!: (endAt: number) => void;
    const windowStart = new Promise<number>((r) => (go = r));
    const delay: Promise<DelayResult | Error> = changeDelays({ writer: fes[1]!.port, idler: fes[2]!.port, mailbox, user: 'delay-load', pass: BENCH_PASS, changes: 100_000, start: windowStart })
      .catch((e: unknown) => e as Error);
    const three = await load(input, fes, seconds, go);
    go(0); // no-op if the window started; if the load failed first, the pair makes no change
    report(row, '3 front-ends', three, one instanceof Error ? undefined : one);
    const d = await delay;
    if (d instanceof Error) row({ operation: 'change delay STORE → IDLE under the 3-front-end load', unit: 'ms', value: reason(d) });
    else delayRows(row, 'front-end 2 → front-end 3, under the 3-front-end load', d);
  } finally {
    for (const fe of fes) await input.stop(fe).catch(() => undefined);
  }
}

interface LoadFigures {
  r: LoadReport;
  feCpu: number[];
  pgCpu?: number;
  selfCpu: number;
  load: number;
}

/**
 * 1,000 sessions spread over `fes` for `seconds` after all are open; CPU of
 * each front-end, PostgreSQL and this process over the window. `onWindow`
 * is called when the window starts, with its end (performance.now() time).
 */
async function load(input: ScaleInput, fes: readonly ServerProcess[], seconds: number, onWindow?: (endAt: number) => void): Promise<LoadFigures | Error> {
  input.log(`scale: ${SESSIONS} sessions over ${fes.length} front-end(s), ${seconds} s`);
  try {
    let c0: number[] = [];
    let p0: number | undefined;
    let s0 = process.cpuUsage();
    const r = await runSessions({
      ports: fes.map((f) => f.port),
      mailbox: input.mailbox,
      sessions: SESSIONS,
      seconds,
      seed: 1733,
      searchWindow: SEARCH_WINDOW,
      userOf: (i) => ({ user: `load${i}`, pass: BENCH_PASS }),
      openFirst: true,
      ...(input.skipSeq !== undefined ? { skipSeq: input.skipSeq } : {}),
      onWindow: async () => {
        c0 = await Promise.all(fes.map((f) => procCpuSeconds(f.pid)));
        p0 = await input.pg.cpuSeconds();
        s0 = process.cpuUsage();
        onWindow?.(performance.now() + seconds * 1000);
      },
    });
    const c1 = await Promise.all(fes.map((f) => procCpuSeconds(f.pid)));
    const p1 = await input.pg.cpuSeconds();
    const s1 = process.cpuUsage(s0);
    return {
      r,
      feCpu: c1.map((c, i) => c - c0[i]!),
      ...(p0 !== undefined && p1 !== undefined ? { pgCpu: p1 - p0 } : {}),
      selfCpu: (s1.user + s1.system) / 1e6,
      load: loadavg()[0]!,
    };
  } catch (err) {
    return err as Error;
  }
}

function report(row: (r: Omit<Row, 'section'>) => void, what: string, f: LoadFigures | Error, base: LoadFigures | undefined): void {
  const op = `${SESSIONS.toLocaleString('en-US')} sessions on ${what}, commands/s`;
  if (f instanceof Error) {
    row({ operation: op, unit: 'cmd/s', value: reason(f) });
    return;
  }
  const { r } = f;
  const secs = r.seconds;
  const cores = (x: number): string => `${((x / secs) * 100).toFixed(0)}%`;
  const cpu = `CPU per front-end ${f.feCpu.map((c) => `${c.toFixed(1)} s (${cores(c)})`).join(', ')}${f.pgCpu !== undefined ? `; PostgreSQL ${f.pgCpu.toFixed(1)} s (${cores(f.pgCpu)})` : ''}; load generator ${f.selfCpu.toFixed(1)} s; load average ${f.load.toFixed(1)}`;
  const vs = base ? `; ${(r.commandsPerSecond / base.r.commandsPerSecond).toFixed(2)}× one front-end's commands/s` : '';
  row({ operation: op, unit: 'cmd/s', value: r.commandsPerSecond, note: `${r.commands} commands in ${secs.toFixed(1)} s after ${r.openSeconds?.toFixed(1) ?? '?'} s opening the sessions${r.errorCount ? `, ${r.errorCount} errors (${r.errors[0]})` : ''}${vs}; ${cpu}` });
  const kinds = Object.entries(r.latency).map(([k, l]) => `${k} ${l.p99Ms}`).join(', ');
  row({ operation: `${SESSIONS.toLocaleString('en-US')} sessions on ${what}, latency p99`, unit: 'ms', value: r.p99Ms, note: `p50 ${r.p50Ms} ms; p99 by command (ms): ${kinds}` });
}

function delayRows(row: (r: Omit<Row, 'section'>) => void, what: string, r: DelayResult): void {
  const d = [...r.delaysMs].sort((a, b) => a - b);
  const st = [...r.storeMs].sort((a, b) => a - b);
  const after = [...r.afterOkMs].sort((a, b) => a - b);
  if (d.length === 0) {
    row({ operation: `change delay STORE → IDLE, ${what}`, unit: 'ms', value: 'n/a: no change was made' });
    return;
  }
  row({ operation: `change delay STORE → IDLE, ${what}, p50`, unit: 'ms', value: percentile(d, 50), note: `${d.length} changes one at a time; STORE OK p50 ${percentile(st, 50).toFixed(1)} ms, p99 ${percentile(st, 99).toFixed(1)} ms; from that OK to the IDLE line p50 ${percentile(after, 50).toFixed(1)} ms, p99 ${percentile(after, 99).toFixed(1)} ms` });
  row({ operation: `change delay STORE → IDLE, ${what}, p99`, unit: 'ms', value: percentile(d, 99), target: 100, note: `max ${d[d.length - 1]!.toFixed(1)} ms` });
}
