/**
 * The "State (durable flags)" rows, one front-end per flag store mode (the
 * local LMDB store, PostgreSQL, a state agent over HTTP), each row printed
 * for every mode one under the other, so PostgreSQL stands beside LMDB:
 *
 *   UID STORE 1:N +FLAGS.SILENT (\Seen)        a user without flags each round (N = 50,000, or count/2)
 *   UID FETCH 1:N (FLAGS) right after it       same session
 *   connect + LOGIN + SELECT with flags, warm
 *   UID FETCH 1:* (UID FLAGS) with flags set
 *   SELECT (QRESYNC …) after 10,000 changes    100 STOREs of 100 UIDs made after the client's modseq
 *   50 concurrent sessions STOREing one UID each
 *   change delay STORE → IDLE, p50 and p99     two sessions of one front-end
 *
 * Logged in as real users (anonymous sessions always get session-only
 * flags): `benchUsers()` writes them. Rows that fail print `n/a: …`; a mode
 * whose front-end does not start prints one `n/a` row. Each timed command
 * notes the server's CPU time (and PostgreSQL's, when the mode has it).
 */
import { RawImap } from './imap-client.js';
import { changeDelays } from './change-delay.js';
import { percentile } from './load-sessions.js';
import { median, type Row } from './report.js';
import { procCpuSeconds } from './server.js';
import { EXPENSIVE_ROUND_S, openSession, quote, rounds } from './session.js';

const SECTION = 'State (durable flags)';
/** The QRESYNC row's changes, made as CHANGE_BATCHES STOREs. */
const QRESYNC_CHANGES = 10_000;
const CHANGE_BATCHES = 100;
/** Changes timed by the delay row (fewer with --quick). */
const DELAYS = 200;
const DELAYS_QUICK = 60;
/** Load users for bench/scale-rows.ts, `load0` … */
export const LOAD_USERS = 1_000;
/** The one password of every bench user. */
export const BENCH_PASS = 'bench';

/** Users file text ({PLAIN}): bench, bench-s0…9 (STORE rounds), bench-q, bench-d, delay-*, load0…999. */
export function benchUsers(): string {
  const names = ['bench', 'bench-q', 'bench-d', 'delay-quiet', 'delay-load'];
  for (let i = 0; i < 10; i++) names.push(`bench-s${i}`);
  for (let i = 0; i < LOAD_USERS; i++) names.push(`load${i}`);
  return names.map((n) => `${n}:{PLAIN}${BENCH_PASS}\n`).join('');
}

export interface StateInput {
  port: number;
  /** The front-end's PID (for its CPU time). */
  pid: number;
  mailbox: string;
  count: number;
  rounds: number;
  quick: boolean;
  /** CPU seconds of the store's own server so far (PostgreSQL), if it has one. */
  storeCpu?: () => Promise<number | undefined>;
}

export interface StateMode {
  /** Printed after each row's name: `local (LMDB)`, `PostgreSQL`, … */
  name: string;
  /** Starts this mode's front-end (throws: the mode prints one n/a row). */
  start(): Promise<{ port: number; pid: number; stop(): Promise<void> }>;
  storeCpu?: () => Promise<number | undefined>;
}

type Emit = (kind: string, row: Omit<Row, 'section' | 'operation'>) => void;

const reason = (err: unknown): string => `n/a: ${(err as Error).message.split('\n')[0]!.slice(0, 120)}`;
const ms = (s: number): string => `${(s * 1000).toFixed(0)} ms`;

/** Runs every mode in turn, then adds the rows grouped by kind (modes side by side). */
export async function stateSection(modes: readonly StateMode[], input: Omit<StateInput, 'port' | 'pid' | 'storeCpu'>, add: (row: Row) => void, log: (m: string) => void): Promise<void> {
  const kinds = new Map<string, Row[]>();
  for (const mode of modes) {
    const emit: Emit = (kind, row) => {
      const r: Row = { section: SECTION, operation: `${kind}, ${mode.name}`, ...row };
      if (!kinds.has(kind)) kinds.set(kind, []);
      kinds.get(kind)!.push(r);
      log(`  → ${r.operation}: ${typeof r.value === 'number' ? r.value.toFixed(4) : r.value} ${r.unit}`);
    };
    let server: { port: number; pid: number; stop(): Promise<void> } | undefined;
    try {
      log(`newsfront: restart with state ${mode.name}`);
      server = await mode.start();
    } catch (err) {
      emit('front-end', { unit: 's', value: reason(err) });
      continue;
    }
    try {
      await stateRows({ ...input, port: server.port, pid: server.pid, ...(mode.storeCpu ? { storeCpu: mode.storeCpu } : {}) }, emit, log);
    } finally {
      await server.stop();
    }
  }
  for (const rows of kinds.values()) for (const r of rows) add(r);
}

interface Cpu {
  /** Seconds of the front-end's CPU. */
  fe: number;
  /** Seconds of the store server's CPU, when known. */
  store?: number;
}

/** `fn`'s result and the CPU it cost the front-end (and the store's server). */
async function timed<T>(input: StateInput, fn: () => Promise<T>): Promise<{ value: T; cpu: Cpu }> {
  const c0 = await procCpuSeconds(input.pid);
  const p0 = await input.storeCpu?.();
  const value = await fn();
  const c1 = await procCpuSeconds(input.pid);
  const p1 = await input.storeCpu?.();
  return { value, cpu: { fe: c1 - c0, ...(p0 !== undefined && p1 !== undefined ? { store: p1 - p0 } : {}) } };
}

/** "front-end CPU 12 ms, PostgreSQL CPU 3 ms" (medians over rounds; 10 ms clock ticks). */
function cpuNote(cpus: readonly Cpu[]): string {
  const st = cpus.map((c) => c.store).filter((x): x is number => x !== undefined);
  return `front-end CPU ${ms(median(cpus.map((c) => c.fe)))}${st.length ? `, PostgreSQL CPU ${ms(median(st))}` : ''}`;
}

export async function stateRows(input: StateInput, emit: Emit, log: (m: string) => void): Promise<void> {
  const n = Math.min(50_000, Math.floor(input.count / 2));
  const { port, mailbox } = input;
  const attempt = async (kind: string, unit: Row['unit'], fn: () => Promise<void>): Promise<void> => {
    log(`state: ${kind}`);
    try {
      await fn();
    } catch (err) {
      emit(kind, { unit, value: reason(err) });
    }
  };

  // STORE of N, then FETCH FLAGS of the same N in the same session; a fresh user each round
  const storeKind = `UID STORE 1:${n} +FLAGS.SILENT (\\Seen)`;
  const fetchKind = `UID FETCH 1:${n} (FLAGS) right after it`;
  log(`state: ${storeKind}`);
  try {
    const st: number[] = [];
    const fe: number[] = [];
    const cpus: [Cpu[], Cpu[]] = [[], []];
    for (let i = 0; i < Math.min(input.rounds, 10); i++) {
      const s = await openSession(port, mailbox, `bench-s${i}`, BENCH_PASS);
      try {
        const a = await timed(input, () => s.client.ok(`UID STORE 1:${n} +FLAGS.SILENT (\\Seen)`));
        const b = await timed(input, () => s.client.ok(`UID FETCH 1:${n} (FLAGS)`));
        if (b.value.responses !== n) throw new Error(`UID FETCH 1:${n} gave ${b.value.responses} FETCH responses`);
        st.push(a.value.seconds);
        fe.push(b.value.seconds);
        cpus[0].push(a.cpu);
        cpus[1].push(b.cpu);
        if (a.value.seconds + b.value.seconds > EXPENSIVE_ROUND_S) break;
      } finally {
        s.client.close();
      }
    }
    emit(storeKind, { unit: 's', value: median(st), rounds: st, target: 0.05, note: `durable before OK; a user without flags each round; ${cpuNote(cpus[0])}` });
    emit(fetchKind, { unit: 's', value: median(fe), rounds: fe, target: 0.044, note: cpuNote(cpus[1]) });
  } catch (err) {
    emit(storeKind, { unit: 's', value: reason(err) });
    emit(fetchKind, { unit: 's', value: reason(err) });
  }

  await attempt('connect + LOGIN + SELECT with flags, warm', 's', async () => {
    const xs = await rounds(input.rounds, async () => {
      const s = await openSession(port, mailbox, 'bench-s0', BENCH_PASS);
      s.client.close();
      return s.seconds;
    });
    emit('connect + LOGIN + SELECT with flags, warm', { unit: 's', value: median(xs), rounds: xs, target: 0.015 });
  });

  await attempt('UID FETCH 1:* (UID FLAGS) with flags set', 's', async () => {
    const xs = await rounds(input.rounds, async () => {
      const s = await openSession(port, mailbox, 'bench-s0', BENCH_PASS);
      try {
        return (await s.client.ok('UID FETCH 1:* (UID FLAGS)')).seconds;
      } finally {
        s.client.close();
      }
    });
    emit('UID FETCH 1:* (UID FLAGS) with flags set', { unit: 's', value: median(xs), rounds: xs, target: 0.098 });
  });

  const qKind = `SELECT (QRESYNC) after ${QRESYNC_CHANGES.toLocaleString('en-US')} changes`;
  await attempt(qKind, 's', () => qresyncRow(input, qKind, emit));

  const cKind = '50 concurrent sessions, UID STORE of one UID each';
  await attempt(cKind, 'cmd/s', async () => {
    const sessions = await Promise.all(Array.from({ length: 50 }, () => openSession(port, mailbox, 'bench', BENCH_PASS)));
    try {
      const seconds = input.quick ? 3 : 5;
      const until = performance.now() + seconds * 1000;
      let done = 0;
      const { cpu } = await timed(input, () =>
        Promise.all(
          sessions.map(async (s, k) => {
            let uid = 1 + k;
            while (performance.now() < until) {
              await s.client.ok(`UID STORE ${uid} ${done % 2 ? '-' : '+'}FLAGS.SILENT (\\Flagged)`);
              done++;
              uid = (uid + 50) % Math.max(input.count, 1) || 1;
            }
          }),
        ),
      );
      emit(cKind, { unit: 'cmd/s', value: done / seconds, note: `${done} STOREs in ${seconds} s, each durable before its OK; ${cpuNote([cpu])}` });
    } finally {
      for (const s of sessions) s.client.close();
    }
  });

  await attempt('change delay STORE → IDLE, two sessions of one front-end, p50', 'ms', async () => {
    const r = await changeDelays({ writer: port, idler: port, mailbox, user: 'bench-d', pass: BENCH_PASS, changes: input.quick ? DELAYS_QUICK : DELAYS });
    const d = [...r.delaysMs].sort((a, b) => a - b);
    const note = `${d.length} changes one at a time; STORE OK p50 ${percentile([...r.storeMs].sort((a, b) => a - b), 50).toFixed(1)} ms`;
    emit('change delay STORE → IDLE, two sessions of one front-end, p50', { unit: 'ms', value: percentile(d, 50), note });
    emit('change delay STORE → IDLE, two sessions of one front-end, p99', { unit: 'ms', value: percentile(d, 99), target: 100, note: `max ${d[d.length - 1]!.toFixed(1)} ms` });
  });
}

/**
 * A client that knew the mailbox at modseq M comes back after 10,000 messages
 * changed (100 STOREs of 100 UIDs, every other UID when the mailbox is big
 * enough, so the changes stay 10,000 separate messages) and SELECTs with
 * QRESYNC (uidvalidity M): timed to its OK, with the FETCH responses counted.
 * The note gives the same SELECT with nothing changed (a LISTGROUP upstream
 * for cancels is part of both).
 */
async function qresyncRow(input: StateInput, kind: string, emit: Emit): Promise<void> {
  const { port, mailbox } = input;
  /** A session after LOGIN and ENABLE QRESYNC; `select` returns the SELECT's time, FETCH count and HIGHESTMODSEQ. */
  const open = async (): Promise<{ c: RawImap; select: (arg?: string) => Promise<{ seconds: number; fetches: number; uidValidity: number; highest: number }> }> => {
    const c = await RawImap.connect('127.0.0.1', port);
    try {
      await c.ok(`LOGIN bench-q ${BENCH_PASS}`);
      await c.ok('ENABLE QRESYNC');
    } catch (err) {
      c.close();
      throw err;
    }
    const select = async (arg?: string): Promise<{ seconds: number; fetches: number; uidValidity: number; highest: number }> => {
      const r = await c.ok(`SELECT ${quote(mailbox)}${arg ? ` (QRESYNC (${arg}))` : ''}`, { keep: true });
      const num = (re: RegExp): number => Number(r.lines.map((l) => re.exec(l)?.[1]).find((x) => x !== undefined));
      return { seconds: r.seconds, fetches: r.lines.filter((l) => /^\* \d+ FETCH /.test(l)).length, uidValidity: num(/UIDVALIDITY (\d+)/), highest: num(/HIGHESTMODSEQ (\d+)/) };
    };
    return { c, select };
  };
  const changes = Math.min(QRESYNC_CHANGES, input.count);
  const stride = input.count >= 2 * changes ? 2 : 1;
  const first = await open();
  let known: { uidValidity: number; highest: number };
  try {
    known = await first.select();
    const per = Math.ceil(changes / CHANGE_BATCHES);
    for (let b = 0; b * per < changes; b++) {
      const uids: number[] = [];
      for (let k = b * per; k < Math.min(changes, (b + 1) * per); k++) uids.push(1 + k * stride);
      await first.c.ok(`UID STORE ${uids.join(',')} +FLAGS.SILENT (\\Answered)`);
    }
  } finally {
    first.c.close();
  }
  const xs: number[] = [];
  const cpus: Cpu[] = [];
  let fetches = 0;
  let unchanged = '';
  for (let i = 0; i < input.rounds; i++) {
    const s = await open();
    try {
      const t = await timed(input, () => s.select(`${known.uidValidity} ${known.highest}`));
      xs.push(t.value.seconds);
      cpus.push(t.cpu);
      fetches = t.value.fetches;
      if (i === 0) {
        const u = await s.select(`${known.uidValidity} ${t.value.highest}`);
        unchanged = `; the same SELECT with nothing changed ${ms(u.seconds)}`;
      }
      if (t.value.seconds > EXPENSIVE_ROUND_S) break;
    } finally {
      s.c.close();
    }
  }
  if (fetches !== changes) throw new Error(`QRESYNC SELECT reported ${fetches} changed messages, not ${changes}`);
  emit(kind, { unit: 's', value: median(xs), rounds: xs, note: `${fetches} FETCH (FLAGS MODSEQ) responses${unchanged}; ${cpuNote(cpus)}` });
}
