/**
 * Soak: a mixed IMAP load against a newsfront it starts, for minutes, with the
 * server's memory sampled all along (issue 12 #14: is RSS growth after many
 * IDLE-then-disconnect rounds a leak?).
 *
 *     npm run soak -- --minutes 30                 # state agent (default)
 *     npm run soak -- --minutes 5 --state local    # LMDB flag store in the front-end
 *     npm run soak -- --minutes 10 --snapshots /tmp/soak-heaps   # heap snapshots after warm-up and at the end
 *
 * What it starts (all under one temp dir, removed at the end; children are
 * stopped by PID): with `--state agent` a state agent (`newsfront agent`, a
 * front-end token), then `newsfront serve` on the embedded sample archive
 * with a users file, loaded with bench/soak-probe.ts and --expose-gc so the
 * heap can be read after a major GC over IPC.
 *
 * The load (soak-load.ts): `--clients` (default 12) concurrent loops, each round one
 * connection: LOGIN as one of 8 users, SELECT or EXAMINE a sample group, 1–5
 * commands (UID FETCH of FLAGS+ENVELOPE, BODY.PEEK[] of one article, UID
 * SEARCH SUBJECT/FROM/BODY, STORE ±FLAGS \Seen/\Flagged, FETCH FLAGS of all,
 * STATUS), then IDLE for 0.3–3 s while other sessions of the same user STORE
 * (so IDLE hears flag changes from the feed), and then: 45 % close the socket
 * mid-IDLE, 15 % reset it (RST) mid-IDLE, 40 % DONE and LOGOUT.
 *
 * Every `--sample` seconds (default 5): the server's RSS (/proc), its heap
 * after GC (probe), its open descriptors, and the agent's RSS. Printed: one
 * line per minute with min–max of each. The verdict compares the median RSS
 * of the first window after warm-up (`--warmup` minutes, default a third of
 * the run, 0.5–10) with the median of the last window (a fifth of the
 * post-warm-up time, at most one minute): the exit code is 1 when the end is
 * more than `--limit` percent (default 10) above the start, when the server
 * died, or when a round failed in more than 1 % of rounds.
 *
 * Reading it: RSS counts V8's young generation as committed, which grows in
 * steps (up to twice the semi-space size, V8's default 16 MB under `npm start`) when the
 * load keeps many objects alive across scavenges, and then stays. Such a
 * step is not a leak: the heap after GC stays flat. A leak shows as heap
 * after GC (or anon RSS) rising with the rounds, without a plateau. To see
 * only what grows with time, pin the young generation:
 * `--node-flags "--max-semi-space-size=64 --min-semi-space-size=64"`.
 * Heap snapshots (`--snapshots`) cost RSS themselves (tens of MB at the
 * first one): compare their objects, not the RSS of a run that took them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prng } from './prng.js';
import { freePort } from './server.js';
import { round, USERS, type Counters } from './soak-load.js';
import { LoadClient } from './load-client.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '..');
const CLI = join(ROOT, 'src', 'cli.ts');
const PROBE = join(here, 'soak-probe.ts');
const START_TIMEOUT_MS = 120_000;
const TOKEN = 'soak-frontend-token-0123456789abcdef';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Sample {
  t: number;
  rss: number;
  /** Anonymous part of RSS (malloc, V8 heap, thread stacks); the rest is file-backed (code, LMDB maps). */
  anon: number;
  heap: number;
  heapTotal: number;
  /** V8's young generation as committed (grows up to twice --max-semi-space-size). */
  newSpace: number;
  external: number;
  fds: number;
  agentRss: number;
  rounds: number;
}

function rssOf(pid: number | undefined, field = 'VmRSS'): number {
  if (pid === undefined) return 0;
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function fdsOf(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** Ask the probe for one thing and wait for its answer of `kind`. */
function ask<T>(child: ChildProcess, msg: unknown, kind: string, ms = 60_000): Promise<T> {
  return new Promise((res, rej) => {
    const t = setTimeout(() => {
      child.off('message', on);
      rej(new Error(`probe: no ${kind} answer`));
    }, ms);
    const on = (m: unknown): void => {
      if ((m as { kind?: string }).kind !== kind) return;
      clearTimeout(t);
      child.off('message', on);
      res(m as T);
    };
    child.on('message', on);
    child.send(msg as never);
  });
}

async function waitFor(pred: () => boolean | Promise<boolean>, child: ChildProcess, what: string): Promise<void> {
  const end = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    if (await pred()) return;
    await sleep(200);
  }
  throw new Error(`${what} did not start in time`);
}

const mb = (n: number): string => `${(n / 1048576).toFixed(0)}`;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]!;
};
const range = (xs: number[]): string => `${mb(Math.min(...xs))}–${mb(Math.max(...xs))}`;

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}

async function main(): Promise<void> {
  const minutes = Number(arg('minutes', '30'));
  const state = arg('state', 'agent');
  const clients = Number(arg('clients', '12'));
  const sampleSec = Number(arg('sample', '5'));
  const limit = Number(arg('limit', '10'));
  const warmup = Number(arg('warmup', String(Math.min(10, Math.max(0.5, minutes / 3)))));
  const snapshots = arg('snapshots', '');
  /** Node flags of the server (default: those of `npm start`). */
  const nodeFlags = arg('node-flags', '').split(' ').filter(Boolean);
  if (!(minutes > warmup)) throw new Error('--minutes must be longer than the warm-up');
  if (state !== 'agent' && state !== 'local') throw new Error('--state agent or local');

  const dir = mkdtempSync(join(tmpdir(), 'nf-soak-'));
  let agent: ChildProcess | undefined;
  let server: ChildProcess | undefined;
  let running = true;
  try {
    writeFileSync(join(dir, 'users'), USERS.map((u) => `${u}:{PLAIN}pw-${u}\n`).join(''));
    let stateArg = 'local';
    if (state === 'agent') {
      writeFileSync(join(dir, 'tokens'), `${TOKEN} frontend soak\n`);
      const aport = await freePort();
      agent = spawn(process.execPath, ['--import', 'tsx', CLI, 'agent', '--listen', `127.0.0.1:${aport}`, '--data', join(dir, 'agent'),
        '--tokens', join(dir, 'tokens'), '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT });
      let out = '';
      agent.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      await waitFor(() => out.includes('listening '), agent, 'agent');
      stateArg = `http://127.0.0.1:${aport}`;
    }
    const port = await freePort();
    server = spawn(process.execPath, ['--expose-gc', ...nodeFlags, '--import', 'tsx', '--import', PROBE, CLI, 'serve',
      '--listen', `127.0.0.1:${port}`, '--data', join(dir, 'data'), '--users', join(dir, 'users'), '--state', stateArg, '--log-level', 'error'],
    { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], cwd: ROOT, env: { ...process.env, NEWSFRONT_STATE_TOKEN: TOKEN } });
    const srv = server;
    await waitFor(async () => {
      try {
        (await LoadClient.open(port)).close();
        return true;
      } catch {
        return false;
      }
    }, srv, 'newsfront');
    process.stdout.write(`soak: ${minutes} min, state ${state}, ${clients} clients, warm-up ${warmup} min, sample every ${sampleSec} s; server pid ${srv.pid}\n`);

    const n: Counters = { rounds: 0, commands: 0, idleUpdates: 0, errors: 0, errorSamples: [], midIdleCloses: 0 };
    const t0 = Date.now();
    const deadline = t0 + minutes * 60_000;
    const warmEnd = t0 + warmup * 60_000;
    const loops = Array.from({ length: clients }, async (_, i) => {
      const rnd = prng(4242 + i * 7919);
      while (running && Date.now() < deadline) {
        try {
          await round(port, rnd, n);
        } catch (err) {
          n.errors++;
          if (n.errorSamples.length < 10) n.errorSamples.push((err as Error).message);
          await sleep(200);
        }
      }
    });

    const samples: Sample[] = [];
    let snapped = false;
    let pending: Sample[] = [];
    const printMinute = (xs: Sample[]): void => {
      const minute = Math.floor(xs[0]!.t / 60_000);
      const last = xs[xs.length - 1]!;
      process.stdout.write(
        `min ${String(minute + 1).padStart(2)}${minute * 60_000 < warmup * 60_000 ? ' (warm-up)' : '          '}  RSS ${range(xs.map((x) => x.rss))} MB` +
          ` (anon ${range(xs.map((x) => x.anon))})  heap ${range(xs.map((x) => x.heap))} of ${range(xs.map((x) => x.heapTotal))} MB (new space ${range(xs.map((x) => x.newSpace))})  external ${range(xs.map((x) => x.external))} MB  fds ${Math.min(...xs.map((x) => x.fds))}–${Math.max(...xs.map((x) => x.fds))}` +
          (agent ? `  agent RSS ${range(xs.map((x) => x.agentRss))} MB` : '') +
          `  rounds ${last.rounds}  failed ${n.errors}\n`,
      );
    };
    while (Date.now() < deadline) {
      await sleep(Math.min(sampleSec * 1000, Math.max(0, deadline - Date.now())));
      if (srv.exitCode !== null || srv.signalCode !== null) throw new Error(`newsfront died (exit ${srv.exitCode ?? srv.signalCode})`);
      const mem = await ask<{ heapUsed: number; heapTotal: number; external: number; newSpace: number }>(srv, 'sample', 'sample');
      const s: Sample = { t: Date.now() - t0, rss: rssOf(srv.pid), anon: rssOf(srv.pid, 'RssAnon'), heap: mem.heapUsed, heapTotal: mem.heapTotal, newSpace: mem.newSpace, external: mem.external, fds: fdsOf(srv.pid!), agentRss: rssOf(agent?.pid), rounds: n.rounds };
      if (pending.length > 0 && Math.floor(pending[0]!.t / 60_000) !== Math.floor(s.t / 60_000)) {
        printMinute(pending);
        pending = [];
      }
      pending.push(s);
      samples.push(s);
      if (snapshots && !snapped && Date.now() >= warmEnd) {
        snapped = true;
        mkdirSync(snapshots, { recursive: true });
        await ask(srv, { snapshot: join(snapshots, 'after-warmup.heapsnapshot') }, 'snapshot', 300_000);
      }
    }
    if (pending.length > 0) printMinute(pending);
    running = false;
    await Promise.all(loops);
    if (snapshots) await ask(srv, { snapshot: join(snapshots, 'end.heapsnapshot') }, 'snapshot', 300_000);

    const post = samples.filter((s) => s.t >= warmup * 60_000);
    const span = (minutes - warmup) * 60_000;
    const win = Math.min(60_000, span / 5);
    const first = post.filter((s) => s.t < warmup * 60_000 + win);
    const last = post.filter((s) => s.t >= minutes * 60_000 - win - sampleSec * 1000);
    const startRss = median(first.map((s) => s.rss));
    const endRss = median(last.map((s) => s.rss));
    const startHeap = median(first.map((s) => s.heap));
    const endHeap = median(last.map((s) => s.heap));
    const growth = startRss > 0 ? ((endRss - startRss) / startRss) * 100 : 0;
    const failRate = n.errors / Math.max(1, n.rounds + n.errors);
    process.stdout.write(
      [
        `rounds ${n.rounds} (${n.midIdleCloses} ended mid-IDLE), commands ${n.commands}, IDLE rounds that heard a flag change ${n.idleUpdates}, failed rounds ${n.errors}`,
        ...n.errorSamples.map((e) => `  error: ${e}`),
        `after warm-up: RSS ${mb(startRss)} → ${mb(endRss)} MB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} %, limit ${limit} %), ` +
          `heap after GC ${mb(startHeap)} → ${mb(endHeap)} MB (medians of ${first.length} and ${last.length} samples)`,
        snapshots ? `heap snapshots: ${snapshots}/after-warmup.heapsnapshot, ${snapshots}/end.heapsnapshot` : '',
        '',
      ].filter((l, i, a) => l !== '' || i === a.length - 1).join('\n'),
    );
    if (growth > limit || failRate > 0.01) process.exitCode = 1;
  } finally {
    running = false;
    await stop(server);
    await stop(agent);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`soak: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
