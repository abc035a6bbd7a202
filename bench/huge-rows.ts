/**
 * The rows of `npm run bench -- --huge` (issue 14, "costs grow linearly"):
 * newsfront over a private INN holding one group of 1,000,000 articles
 * (corpus.ts `corpusOptions(false, true)`), each row printed beside the
 * figures issue 14 gives for the 100k group and for the 1M group before, with
 * the server's CPU time (utime + stime from /proc) and the load average when
 * the row started (the machine is shared: wall time alone says little).
 *
 * Rows, in an order that keeps "first" and "cold" honest (fresh data dir):
 *   INN OVER of the group → server start → connect + LOGIN + SELECT, first
 *   (never-seen group) and warm → UID FETCH 1:* (UID FLAGS) → the ENVELOPE
 *   listing cold, then warm (every round run: the acceptance row) → memory
 *   (Pss_Anon and Pss_File apart) → UID SEARCH SUBJECT → SORT (DATE),
 *   SORT (SUBJECT), THREAD REFERENCES, first and again → memory again.
 *
 * Also a development aid against an INN that is already up
 * (`npx tsx bench/hold-inn.ts --huge`):
 *
 *   npm run build && node dist/bench/huge-rows.js --port P [--rounds 3] [--cli OTHER/dist/src/cli.js]
 *        [--data DIR] [--rows select,flags,envelope,search,sort] [--log-dir DIR] [--quick]
 *        [--probe] [--snapshot DIR] [--trim]
 *
 * `--data DIR` keeps (and reuses) the data dir, so a later run measures warm
 * rows without the cold listing first ("first"/"cold" rows then say so);
 * `--cli` runs another build (A/B); BENCH_SERVER_NODE_FLAGS adds Node flags
 * to the server (e.g. `--cpu-prof --cpu-prof-dir=DIR`). `--probe` adds, after
 * each memory line, one after a forced GC with V8's figures and the anonymous
 * mappings by kind; `--snapshot DIR` writes a heap snapshot then, `--trim`
 * adds a line after glibc's malloc_trim (both imply `--probe`). Starts and stops its
 * own newsfront child (by PID); a temp data dir is removed at the end.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusOptions, prepareCorpus, type PreparedCorpus } from './corpus.js';
import { median } from './report.js';
import { anonSplit, heapSnapshot, mallocTrim, probe, PROBE_NODE_FLAGS, v8AfterGc } from './heap-probe.js';
import { freePort, NODE_FLAGS, startServer, type ServerProcess } from './server.js';
import { openSession, quote, searchHits, type OpenSession } from './session.js';
import * as up from './upstream.js';
import { rowScriptArgs, type RowScriptArgs } from './args.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '..', '..');

/** Row groups `--rows` can pick. */
const ROW_GROUPS = ['select', 'flags', 'envelope', 'search', 'sort'] as const;
type RowGroup = (typeof ROW_GROUPS)[number];

/** Issue 14's figures: the 100k group (bench of 2026-12-06) and the 1M group before this work. */
const ISSUE: Record<string, { k100?: string; before?: string; goal?: string }> = {
  over: { k100: '0.43 s', before: '5.6 s' },
  select: { k100: '2.5–3.1 s', before: '27–29 s', goal: '≤ 1.2× INN OVER' },
  selectWarm: { k100: '0.0025 s' },
  flags: { before: '0.9 s' },
  envCold: { before: '37–61 s' },
  envWarm: { k100: '0.44 s', before: '17–18 s', goal: '≤ 5 s' },
  mem: { k100: '931 MB PSS (50 sessions)', before: '840–880 MB', goal: 'Pss_Anon ≤ 400 MB' },
  search: { before: '14–15 s' },
};

export interface HugeLine {
  row: string;
  /** Wall seconds (or MB for memory lines). */
  value: number;
  unit: 's' | 'MB';
  /** Server CPU seconds during the row (all threads). */
  cpu?: number;
  /** Of it, the main thread's (the rest: the search index writer, GC helpers, libuv's pool). */
  cpuMain?: number;
  /** 1-minute load average when the row started. */
  load: number;
  inn?: number;
  k100?: string;
  before?: string;
  goal?: string;
  note?: string;
  rounds?: number[];
}

export interface HugeInput {
  innPort: number;
  corpus: PreparedCorpus;
  rounds: number;
  /** Data dir to use (kept); default a temp dir removed at the end. */
  dataDir?: string;
  /** Another build's CLI (A/B). */
  cli?: string;
  logDir?: string;
  rows?: ReadonlySet<RowGroup>;
  log: (m: string) => void;
  /** Called with each line as it is measured. */
  onLine?: (l: HugeLine) => void;
  /** Registers the server's stop with the caller's cleanup (a signal must not leave it running). */
  onServer?: (s: ServerProcess) => void;
  /**
   * Development aid: load bench/soak-probe.ts into the server, and after each
   * memory line add one taken after a forced major GC with V8's figures and
   * the anonymous mappings by kind (heap-probe.ts); `snapshotDir`: write a
   * heap snapshot there too; `trim`: then a line after glibc's malloc_trim.
   */
  probe?: { snapshotDir?: string; trim?: boolean };
}

/** utime + stime of a process (or of one thread: `/proc/PID/task/TID`), seconds. */
export async function cpuSeconds(pid: number, tid?: number): Promise<number> {
  const stat = await readFile(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // fields 14 and 15, clock ticks (USER_HZ = 100)
}

/** CPU seconds of the whole process and of its main thread (whose TID is the PID). */
async function cpuSplit(pid: number): Promise<{ all: number; main: number }> {
  return { all: await cpuSeconds(pid), main: await cpuSeconds(pid, pid) };
}

/** Fields of /proc/PID/smaps_rollup in MB (Pss_Anon: heap and buffers; Pss_File: LMDB maps, code). */
export async function rollup(pid: number): Promise<Record<'rss' | 'pss' | 'anon' | 'file', number>> {
  const t = await readFile(`/proc/${pid}/smaps_rollup`, 'latin1');
  const mb = (f: string): number => (Number(new RegExp(`^${f}:\\s+(\\d+) kB`, 'm').exec(t)?.[1] ?? NaN) * 1024) / 1e6;
  return { rss: mb('Rss'), pss: mb('Pss'), anon: mb('Pss_Anon'), file: mb('Pss_File') };
}

const fmtS = (s: number): string => (s < 0.1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`);

export function formatLine(l: HugeLine): string {
  const v = l.unit === 'MB' ? `${l.value.toFixed(0)} MB` : fmtS(l.value);
  const cpu = l.cpu !== undefined ? `cpu ${fmtS(l.cpu)}${l.cpuMain !== undefined ? ` (main ${fmtS(l.cpuMain)})` : ''}` : '';
  const inn = l.inn !== undefined ? `INN ${fmtS(l.inn)} (×${(l.value / l.inn).toFixed(2)})` : '';
  const cols = [l.row.padEnd(58), v.padStart(10), cpu.padEnd(28), `load ${l.load.toFixed(1)}`.padEnd(9), inn.padEnd(22)];
  const ref = [l.k100 ? `100k: ${l.k100}` : '', l.before ? `1M before: ${l.before}` : '', l.goal ? `goal ${l.goal}` : ''].filter(Boolean).join('; ');
  return `${cols.join(' ')} ${ref}${l.note ? ` — ${l.note}` : ''}`;
}

export async function hugeRows(input: HugeInput): Promise<HugeLine[]> {
  const { corpus, log } = input;
  const count = corpus.messageIds.length;
  const g = corpus.group;
  const want = (r: RowGroup): boolean => input.rows === undefined || input.rows.has(r);
  const lines: HugeLine[] = [];
  const emit = (l: HugeLine): void => {
    lines.push(l);
    input.onLine?.(l);
  };
  const load = (): number => loadavg()[0]!;

  // INN's own OVER of the group, this run (the first SELECT's yardstick)
  let innOver: number | undefined;
  if (want('select')) {
    log('inn: OVER of the group');
    const l0 = load();
    const t = await up.overAll(input.innPort, g, count);
    innOver = t.seconds;
    emit({ row: `INN: OVER of the ${count}-article group`, value: t.seconds, unit: 's', load: l0, ...ISSUE['over'], note: `${t.articles} lines` });
  }

  const dataDir = input.dataDir ?? (await mkdtemp(join(tmpdir(), 'nf-huge-')));
  const reused = input.dataDir !== undefined && (await readdir(input.dataDir).catch(() => [])).length > 0;
  let server: ServerProcess | undefined;
  let session: OpenSession | undefined;
  try {
    const l0 = load();
    server = await startServer({
      upstreamPort: input.innPort,
      dataDir,
      listenPort: await freePort(),
      logPath: join(input.logDir ?? dataDir, `huge-server-${Date.now()}.log`),
      ...(input.cli ? { cli: input.cli } : {}),
      ...(input.probe ? { ipc: true, nodeFlags: [...NODE_FLAGS, ...PROBE_NODE_FLAGS] } : {}),
    });
    input.onServer?.(server);
    emit({ row: 'server start, until the first greeting', value: server.startSeconds, unit: 's', load: l0 });
    const pid = server.pid;
    const port = server.port;
    const timed = async (row: string, ref: Partial<HugeLine>, fn: () => Promise<{ seconds: number; note?: string; rounds?: number[] }>): Promise<void> => {
      log(`imap: ${row}`);
      const l = load();
      const c0 = await cpuSplit(pid);
      try {
        const r = await fn();
        const c1 = await cpuSplit(pid);
        emit({ row, value: r.seconds, unit: 's', cpu: c1.all - c0.all, cpuMain: c1.main - c0.main, load: l, ...ref, ...(r.note ? { note: r.note } : {}), ...(r.rounds ? { rounds: r.rounds } : {}) });
      } catch (err) {
        emit({ row, value: NaN, unit: 's', load: l, ...ref, note: `error: ${(err as Error).message.split('\n')[0]!.slice(0, 160)}` });
        session?.client.close();
        session = undefined;
      }
    };
    /** `n` rounds, every one run (the warm rows are the point of this bench), median reported. */
    const each = async (n: number, fn: () => Promise<number>): Promise<{ seconds: number; rounds: number[] }> => {
      const xs: number[] = [];
      for (let i = 0; i < n; i++) xs.push(await fn());
      return { seconds: median(xs), rounds: xs };
    };
    const client = async (): Promise<OpenSession['client']> => {
      session ??= await openSession(port, g);
      return session.client;
    };
    const memory = async (when: string): Promise<void> => {
      const m = await rollup(pid);
      const l = load();
      emit({ row: `server Pss_Anon ${when}`, value: m.anon, unit: 'MB', load: l, ...ISSUE['mem'], note: `Pss_File ${m.file.toFixed(0)} MB, RSS ${m.rss.toFixed(0)} MB` });
      if (input.probe !== undefined) await probed(when);
    };
    const probed = async (when: string): Promise<void> => {
      const s = server!;
      const mb = (x: number): string => `${(x / 1e6).toFixed(0)}`;
      const split = async (): Promise<string> => Object.entries(await anonSplit(pid)).map(([k, x]) => `${k} ${x.toFixed(0)}`).join(', ');
      // as the row found it, before the forced GC: V8's spaces (committed/used MB) and the mappings by kind
      const now = await probe<{ spaces: string; arrayBuffers: number; external: number }>(s, 'spaces', 'spaces');
      emit({ row: `server Pss_Anon ${when}, as it was (no GC)`, value: (await rollup(pid)).anon, unit: 'MB', load: load(), note: `V8 ${now.spaces}; external ${mb(now.external)}, arrayBuffers ${mb(now.arrayBuffers)}; anon MB: ${await split()}` });
      const v8 = await v8AfterGc(s);
      const m = await rollup(pid);
      emit({ row: `server Pss_Anon ${when}, after a forced GC`, value: m.anon, unit: 'MB', load: load(), note: `V8 heapUsed ${mb(v8['heapUsed']!)}, heapTotal ${mb(v8['heapTotal']!)}, external ${mb(v8['external']!)}, arrayBuffers ${mb(v8['arrayBuffers']!)}; V8 ${(v8 as unknown as { spaces: string }).spaces}; anon MB: ${await split()}` });
      if (input.probe?.snapshotDir) log(`heap snapshot: ${await heapSnapshot(s, join(input.probe.snapshotDir, `huge-${Date.now()}.heapsnapshot`))}`);
      if (input.probe?.trim) {
        mallocTrim(pid);
        emit({ row: `server Pss_Anon ${when}, after malloc_trim(0)`, value: (await rollup(pid)).anon, unit: 'MB', load: load(), note: `anon MB: ${await split()}` });
      }
    };
    const check = (responses: number): string | undefined => (responses === count ? undefined : `ONLY ${responses} of ${count} responses`);
    const first = reused ? ' (data dir reused: not first)' : '';

    await timed(`connect + LOGIN + SELECT, first open${first}`, { ...ISSUE['select'], ...(innOver !== undefined ? { inn: innOver } : {}) }, async () => {
      session = await openSession(port, g);
      return { seconds: session.seconds, note: `EXISTS ${session.exists}` };
    });
    if (want('select')) {
      await timed('connect + LOGIN + SELECT, warm', ISSUE['selectWarm']!, () =>
        each(input.rounds, async () => {
          const s = await openSession(port, g);
          s.client.close();
          return s.seconds;
        }),
      );
    }
    if (want('flags')) {
      let note: string | undefined;
      await timed('UID FETCH 1:* (UID FLAGS)', ISSUE['flags']!, async () => {
        const c = await client();
        const r = await each(input.rounds, async () => {
          const x = await c.ok('UID FETCH 1:* (UID FLAGS)');
          note = check(x.responses);
          return x.seconds;
        });
        return { ...r, ...(note ? { note } : {}) };
      });
    }
    if (want('envelope')) {
      const cmd = 'UID FETCH 1:* (UID FLAGS ENVELOPE RFC822.SIZE INTERNALDATE)';
      await timed(`${cmd}, cold${reused ? ' (data dir reused)' : ''}`, ISSUE['envCold']!, async () => {
        const r = await (await client()).ok(cmd, { timeoutMs: 1_800_000 });
        return { seconds: r.seconds, note: check(r.responses) ?? `${(r.bytes / 1e6).toFixed(0)} MB` };
      });
      let note: string | undefined;
      await timed(`${cmd}, warm`, ISSUE['envWarm']!, async () => {
        const c = await client();
        const r = await each(input.rounds, async () => {
          const x = await c.ok(cmd, { timeoutMs: 1_800_000 });
          note = check(x.responses);
          return x.seconds;
        });
        return { ...r, ...(note ? { note } : {}) };
      });
      await memory('after the listings');
    }
    if (want('search')) {
      const sw = corpus.subjectWord;
      await timed(`UID SEARCH SUBJECT ${sw.word}`, ISSUE['search']!, async () => {
        const c = await client();
        let hits = 0;
        const r = await each(input.rounds, async () => {
          const x = await c.ok(`UID SEARCH SUBJECT ${quote(sw.word)}`, { keep: true, timeoutMs: 1_800_000 });
          hits = searchHits(x);
          return x.seconds;
        });
        return { ...r, note: `${hits} hits, corpus says ${sw.hits}` };
      });
    }
    if (want('sort')) {
      for (const cmd of ['UID SORT (DATE) UTF-8 ALL', 'UID SORT (SUBJECT) UTF-8 ALL', 'UID THREAD REFERENCES UTF-8 ALL']) {
        await timed(`${cmd}, first`, {}, async () => {
          const r = await (await client()).ok(cmd, { timeoutMs: 1_800_000 });
          return { seconds: r.seconds, note: `${(r.bytes / 1e6).toFixed(1)} MB answered` };
        });
        await timed(`${cmd}, again`, {}, async () => {
          const c = await client();
          return each(input.rounds, async () => (await c.ok(cmd, { timeoutMs: 1_800_000 })).seconds);
        });
      }
      await memory('after SEARCH, SORT and THREAD');
    }
  } finally {
    session?.client.close();
    await server?.stop();
    if (input.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
  }
  return lines;
}

interface Args extends RowScriptArgs {
  rows?: Set<RowGroup>;
  probe?: { snapshotDir?: string; trim?: boolean };
}

function parseArgs(argv: string[]): Args {
  let probe: Args['probe'];
  let rows: Set<RowGroup> | undefined;
  const a = rowScriptArgs(argv, (name, next) => {
    if (name === '--probe') probe = { ...probe };
    else if (name === '--snapshot') probe = { ...probe, snapshotDir: resolve(next()) };
    else if (name === '--trim') probe = { ...probe, trim: true };
    else if (name === '--rows') {
      const list = next().split(',');
      for (const r of list) if (!(ROW_GROUPS as readonly string[]).includes(r)) throw new Error(`--rows: unknown ${r} (${ROW_GROUPS.join(', ')})`);
      rows = new Set(list as RowGroup[]);
    } else return false;
    return true;
  }, '`bench/hold-inn.ts --huge`');
  return { ...a, ...(probe !== undefined ? { probe } : {}), ...(rows !== undefined ? { rows } : {}) };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = parseArgs(process.argv.slice(2));
  const log = (m: string): void => void process.stderr.write(`[huge-rows] ${m}\n`);
  const corpus = await prepareCorpus(join(ROOT, '.bench'), corpusOptions(args.quick, !args.quick), log);
  await hugeRows({
    innPort: args.port,
    corpus,
    rounds: args.rounds,
    ...(args.cli ? { cli: args.cli } : {}),
    ...(args.data ? { dataDir: args.data } : {}),
    ...(args.logDir ? { logDir: args.logDir } : {}),
    ...(args.rows ? { rows: args.rows } : {}),
    ...(args.probe ? { probe: args.probe } : {}),
    log,
    onLine: (l) => process.stdout.write(`${formatLine(l)}\n`),
  });
}
