/**
 * newsfront as a child process (`node dist/src/cli.js serve …`), so its memory
 * can be read from /proc and the bench's own client work does not share its
 * event loop.
 *
 * `startServer` resolves once the IMAP port answers with a greeting; it
 * rejects (and has already killed the child) if the process exits first or
 * no greeting comes within START_TIMEOUT_MS. `stop()` sends SIGTERM to that
 * PID (newsfront shuts down cleanly on it), waits, and SIGKILLs after
 * STOP_TIMEOUT_MS. stdout/stderr go to `logPath`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Start-up includes the first ingest of the whole group (OVER of 100k articles). */
export const START_TIMEOUT_MS = 300_000;
const STOP_TIMEOUT_MS = 30_000;
const POLL_MS = 100;

export interface ServerOptions {
  upstreamPort: number;
  dataDir: string;
  listenPort: number;
  logPath: string;
  /** `session` (default), `local`, an agent URL or a postgres:// URL. */
  state?: string;
  /** `--uidmap postgres://…` (default: LMDB in the data dir). */
  uidmap?: string;
  logLevel?: string;
  /** Users file (`--users`), for rows that need a real (non-anonymous) user. */
  users?: string;
  /** Bearer token for an agent URL in `state` (passed as NEWSFRONT_STATE_TOKEN). */
  stateToken?: string;
  /** The newsfront entry point to run (default CLI_PATH, this build's); e.g. an older build to compare with. */
  cli?: string;
  /** A config file's content (config/README.md), written beside the log (`<log>.config.json`) and passed with --config. */
  config?: Record<string, unknown>;
  /** Node flags instead of NODE_FLAGS (BENCH_SERVER_NODE_FLAGS still follow them). */
  nodeFlags?: string[];
  /** Extra environment variables of the child (e.g. MALLOC_ARENA_MAX); an empty value unsets one (SERVER_ENV's too). */
  env?: Record<string, string>;
  /** Open an IPC channel to the child (for a probe loaded with `--import`, see soak-probe.ts). */
  ipc?: boolean;
}

export interface ServerProcess {
  readonly pid: number;
  readonly port: number;
  /** Seconds from spawn to the first greeting. */
  readonly startSeconds: number;
  /** The child process (its IPC channel when `ipc` was asked for). */
  readonly child: ChildProcess;
  memory(): Promise<ProcMemory>;
  /** CPU time (user + system, all threads) the process has used so far, seconds. */
  cpuSeconds(): Promise<number>;
  stop(): Promise<void>;
}

export interface ProcMemory {
  rssMB: number;
  /** Peak RSS of the process so far. */
  hwmMB: number;
  /** Proportional set size (shared pages split among sharers). */
  pssMB: number;
  /**
   * The anonymous part of PSS (`Pss_Anon`: JS heap, buffers, malloc arenas,
   * thread stacks): what the process itself holds.
   */
  anonMB: number;
  /**
   * The file-backed part of PSS (`Pss_File`): mapped files, mostly LMDB's
   * memory maps (page cache the kernel may drop and read again) and the code.
   */
  fileMB: number;
}

const here = dirname(fileURLToPath(import.meta.url));
/** dist/bench/server.js → dist/src/cli.js */
export const CLI_PATH = resolve(here, '..', 'src', 'cli.js');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A port free at this instant on 127.0.0.1. */
import { freePort } from '../test/harness/inn.js';
export { freePort };

function greets(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      s.destroy();
      res(ok);
    };
    s.setTimeout(5_000, () => done(false));
    s.once('data', (d: Buffer) => done(d.toString('latin1').startsWith('* ')));
    s.once('error', () => done(false));
  });
}

async function kb(path: string, field: string): Promise<number> {
  const text = await readFile(path, 'latin1');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** Memory of process `pid` from /proc, in MB (10^6 bytes). */
export async function procMemory(pid: number): Promise<ProcMemory> {
  const status = `/proc/${pid}/status`;
  const rss = await kb(status, 'VmRSS');
  const hwm = await kb(status, 'VmHWM');
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'latin1').catch(() => '');
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup);
    return m ? (Number(m[1]) * 1024) / 1e6 : NaN;
  };
  return { rssMB: (rss * 1024) / 1e6, hwmMB: (hwm * 1024) / 1e6, pssMB: field('Pss'), anonMB: field('Pss_Anon'), fileMB: field('Pss_File') };
}

/** CPU seconds (utime + stime) of process `pid`, from /proc/PID/stat (clock ticks of 1/100 s on Linux). */
export async function procCpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** The `msg`/`err` of the last JSON log line, or the last line itself. */
function lastMessage(tailText: string): string {
  const last = tailText.split('\n').filter((l) => l.trim() !== '').pop() ?? '(empty log)';
  try {
    const j = JSON.parse(last) as { msg?: string; err?: unknown };
    const err = typeof j.err === 'string' ? j.err : (j.err as { message?: string } | undefined)?.message;
    return [j.msg, err].filter(Boolean).join(': ');
  } catch {
    return last.slice(0, 200);
  }
}

async function tail(path: string, lines = 15): Promise<string> {
  const t = await readFile(path, 'utf8').catch(() => '');
  return t.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Node flags newsfront is started with (package.json `start`, the `newsfront`
 * bin's shebang; README "Quick start"; a test checks the three agree):
 * semi-spaces of 8 MiB. V8's default is 16 MiB on a 64-bit host (new space
 * 33.6 MB, grown to it right at start by the first ingest or view load); 8
 * commits 16.8 MB. Issue 14, 2026-12-07 (session 12, /work/tools/ab load2
 * alternations against e654c29, load 7–10): the young generation at the
 * 50-client peak 33.6 → 16.8 MB in every run; scavenges of the 10-client
 * phase 82 → 179 in 10 s, their time 234 → 418 ms (--trace-gc), i.e.
 * ~+1.2 µs of CPU per command, within the runs' spread of CPU per command.
 * Earlier runs (bench/memory.js --focus --as-bench, load 9–15) had put 8 MiB
 * at 81–94 µs against 52–72 µs; 4 MiB cost more (4× the scavenges, the
 * commands' objects in flight promoted: ~45 major collections in 10 s).
 * The flag is read only when the heap is made (src/util/young-gen.ts), and a
 * process-wide one also overrides the index writer's `resourceLimits`
 * (src/search/index.ts: its young generation may then grow to 2 × 8 MiB
 * while it writes instead of 8.4 MB). With 64 MB (used until issue 14) a
 * cold 100k-article listing took ~8% less server CPU but ~100 MB more
 * Pss_Anon stayed.
 *
 * `--v8-pool-size=1`: one V8 platform thread (node's default is 4, whatever
 * the cores) for concurrent marking, parallel scavenges and TurboFan's
 * background compiles. Issue 14, session 13 (2026-12-07, 2 cores, quiet
 * machine, /work/tools/first/seq3.mjs: fresh server, first SELECT, then 3
 * never-read ranges of 1,000 BODY.PEEK[] in one process, 3 alternations):
 * every range 167 ms median with 4 threads, 150 with 2, 124 with 1 (INN's
 * own ARTICLE ×1000 pipelined: 64–75 ms). perf: with 4 threads the V8
 * threads spent ~200 ms of CPU per range (42% TurboFan, GC the rest) against
 * the main thread's ~110, on 2 cores shared with INN's nnrpd; with 1, ~105.
 * `--only load` alternations (2 pairs): 10 clients 5,690/6,960 → 6,325/7,327
 * cmd/s, 50 clients 7,034/9,134 → 7,227/7,895, peak Pss_Anon 268/274 →
 * 257/276 MB: within the runs' spread.
 */
export const NODE_FLAGS: string[] = ['--max-semi-space-size=8', '--v8-pool-size=1'];

/**
 * Environment newsfront is started with (the same places as NODE_FLAGS; README
 * "Quick start" says why): two glibc malloc arenas. (A fixed
 * MALLOC_MMAP_THRESHOLD_ of 1 MiB was tried and cost CPU in the full bench:
 * bench/README.) `opts.env` may override them (bench/memory.js `--env`).
 */
export const SERVER_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

export async function startServer(opts: ServerOptions): Promise<ServerProcess> {
  const args = [
    ...(opts.nodeFlags ?? NODE_FLAGS),
    ...(process.env['BENCH_SERVER_NODE_FLAGS'] ?? '').split(' ').filter(Boolean),
    opts.cli ?? CLI_PATH,
    'serve',
    '--upstream',
    `nntp://127.0.0.1:${opts.upstreamPort}`,
    '--data',
    opts.dataDir,
    '--listen',
    `127.0.0.1:${opts.listenPort}`,
    '--log-level',
    opts.logLevel ?? 'warn',
    '--state',
    opts.state ?? 'session',
    ...(opts.users ? ['--users', opts.users] : []),
    // Extra serve arguments for A/B runs, e.g. BENCH_SERVER_ARGS='--config /tmp/no-index.json'.
    ...(process.env['BENCH_SERVER_ARGS'] ?? '').split(' ').filter(Boolean),
    ...(opts.uidmap ? ['--uidmap', opts.uidmap] : []),
  ];
  if (opts.config) {
    const file = `${opts.logPath.replace(/\.log$/, '')}.config.json`;
    await writeFile(file, `${JSON.stringify(opts.config, null, 2)}\n`);
    args.push('--config', file);
  }
  const out = createWriteStream(opts.logPath, { flags: 'a' });
  const t0 = performance.now();
  const env: Record<string, string | undefined> = { ...process.env, ...SERVER_ENV, ...(opts.stateToken ? { NEWSFRONT_STATE_TOKEN: opts.stateToken } : {}), ...opts.env };
  for (const [k, v] of Object.entries(env)) if (v === '') delete env[k]; // `KEY=` unsets KEY
  const stdio = opts.ipc ? (['ignore', 'pipe', 'pipe', 'ipc'] as const) : (['ignore', 'pipe', 'pipe'] as const);
  const child: ChildProcess = spawn(process.execPath, args, { stdio: [...stdio], cwd: join(here, '..', '..'), env });
  child.stdout!.pipe(out, { end: false });
  child.stderr!.pipe(out, { end: false });
  let exit: string | undefined;
  const exited = new Promise<void>((res) => {
    child.once('exit', (code, signal) => {
      exit = signal ? `signal ${signal}` : `exit ${code}`;
      res();
    });
  });
  const pid = child.pid;
  const stop = async (): Promise<void> => {
    if (exit === undefined) {
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    out.end();
  };
  if (pid === undefined) {
    await exited.catch(() => undefined);
    throw new Error('newsfront: spawn failed');
  }
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (exit === undefined && Date.now() < deadline) {
    if (await greets(opts.listenPort)) {
      return {
        pid,
        port: opts.listenPort,
        startSeconds: (performance.now() - t0) / 1000,
        child,
        memory: () => procMemory(pid),
        cpuSeconds: () => procCpuSeconds(pid),
        stop,
      };
    }
    await sleep(POLL_MS);
  }
  const why = exit ?? `no IMAP greeting within ${START_TIMEOUT_MS / 1000} s`;
  await stop();
  const t = await tail(opts.logPath);
  throw new Error(`newsfront serve: ${why}: ${lastMessage(t)}\nlog tail (${opts.logPath}):\n${t}`);
}

export interface AgentProcess {
  url: string;
  token: string;
  stop(): Promise<void>;
}

/**
 * A state agent (`newsfront agent`) as a child process on a free port, with one
 * front-end token; registered with `cleanup` so an aborted run stops it by PID.
 */
export async function startAgent(
  dir: string,
  cleanup: { add(name: string, fn: () => Promise<void>): void },
  log: (m: string) => void,
): Promise<AgentProcess> {
  await mkdir(dir, { recursive: true });
  const token = 'bench-frontend-token-000000000001';
  await writeFile(join(dir, 'tokens'), `${token} frontend bench\n`);
  const port = await freePort();
  const child = spawn(process.execPath, [CLI_PATH, 'agent', '--listen', `127.0.0.1:${port}`, '--data', join(dir, 'data'), '--tokens', join(dir, 'tokens'), '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('state agent did not start in 30 s')), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening ')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(() => reject(new Error('state agent exited at start')));
  });
  log(`state agent ${child.pid} on 127.0.0.1:${port}`);
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await exited;
  };
  cleanup.add(`state agent ${child.pid}`, stop);
  return { url: `http://127.0.0.1:${port}`, token, stop };
}
