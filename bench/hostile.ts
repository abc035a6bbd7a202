/**
 * Hostile clients against a live newsfront (outside `npm test`; loopback only,
 * bounded in count and time). newsfront runs in a child process on the sample
 * archive with a users file of scrypt hashes; meanwhile a legitimate client
 * (127.0.0.1, a process of its own) connects, LOGINs and SELECTs over and over,
 * and its latencies are printed every 5 s and per phase (p50 / p99 / max):
 *
 *   0. quiet: the legitimate client alone;
 *   1. connection flood: FLOOD idle sockets before login from FLOOD/100 loopback
 *      addresses (127.0.1.x), a fifth of them sending one byte every 5 s, plus
 *      EXTRA sockets from one address (127.0.0.9) beyond its per-address cap;
 *   2. login flood, few sources: LOGIN_CONNS connections from 10 addresses guessing
 *      passwords of existing users (alice, user0…user49);
 *   3. login flood, many sources: LOGIN_CONNS connections, each from an address of
 *      its own, each attempt with a fresh user name (unknown names cost a check too).
 *
 *   node --import tsx bench/hostile.ts [--baseline] [--seconds 20] [--flood 4000] [--login-conns 300]
 *
 * `--baseline` passes no `limits` config (for a build from before admission
 * control). Loopback addresses are not exempt here (`limits.exemptAddresses: []`),
 * so the 127.x.y.z sources stand for distinct remote hosts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { spawnServer, type ChildServer } from '../test/harness/child-server.js';
import { hashPassword } from '../src/app/auth/users.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const BASELINE = args.includes('--baseline');
const PHASE_S = opt('seconds', 20);
const FLOOD = opt('flood', 4000);
const EXTRA = 500;
const LOGIN_CONNS = opt('login-conns', 300);
/** Pre-auth deadline for this run: short, so the flood phase sees it act. */
const DEADLINE_MS = 15_000;
const LEGIT = { user: 'legit', password: 'legit-password-1' };
const GROUP = 'sample.discuss';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A line-level client bound to a local address; one command at a time. */
class LineClient {
  private buf = '';
  private waiter: (() => void) | undefined;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buf += d;
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    socket.on('error', () => undefined);
  }

  static async open(port: number, localAddress: string, ms = 30_000): Promise<{ client: LineClient; greeting: string }> {
    const c = new LineClient(connect({ port, host: '127.0.0.1', localAddress }));
    const greeting = await c.line((l) => l.startsWith('* '), ms);
    return { client: c, greeting };
  }

  /** The first complete line matching `pred`, consuming everything up to it. */
  async line(pred: (l: string) => boolean, ms: number): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      let i: number;
      while ((i = this.buf.indexOf('\r\n')) >= 0) {
        const l = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        if (pred(l)) return l;
      }
      if (this.closed) throw new Error('closed');
      if (Date.now() > deadline) throw new Error('timeout');
      await new Promise<void>((r) => {
        const t = setTimeout(r, deadline - Date.now());
        this.waiter = () => {
          clearTimeout(t);
          this.waiter = undefined;
          r();
        };
      });
    }
  }

  async cmd(tag: string, text: string, ms = 60_000): Promise<string> {
    this.socket.write(`${tag} ${text}\r\n`);
    return this.line((l) => l.startsWith(`${tag} `) || l.startsWith('* BYE'), ms);
  }

  close(): void {
    this.socket.destroy();
  }
}

// ---- the legitimate client (a process of its own, so the attackers' work does not delay it) ----

interface Sample { t: number; login: number; select: number; ok: boolean; err?: string }
const samples: Sample[] = [];

/** Child mode: LOGIN + SELECT + LOGOUT on a fresh connection, over and over, one JSON line per round, until stdin ends. */
async function legitLoop(port: number): Promise<void> {
  let stopped = false;
  process.stdin.on('end', () => (stopped = true)).resume();
  while (!stopped) {
    const t = Date.now();
    const sample: Sample = { t, login: NaN, select: NaN, ok: false };
    try {
      const { client, greeting } = await LineClient.open(port, '127.0.0.1');
      if (!greeting.startsWith('* OK')) throw new Error(`greeting ${greeting}`);
      const a = performance.now();
      const l = await client.cmd('a', `LOGIN ${LEGIT.user} ${LEGIT.password}`);
      sample.login = performance.now() - a;
      if (!l.startsWith('a OK')) throw new Error(l);
      const b = performance.now();
      const s = await client.cmd('b', `SELECT ${GROUP}`);
      sample.select = performance.now() - b;
      if (!s.startsWith('b OK')) throw new Error(s);
      await client.cmd('c', 'LOGOUT').catch(() => undefined);
      client.close();
      sample.ok = true;
    } catch (err) {
      sample.err = (err as Error).message.slice(0, 120);
    }
    process.stdout.write(`${JSON.stringify(sample)}\n`);
    await sleep(100);
  }
  process.exit(0);
}

function startLegit(port: number): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--legit', String(port)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.startsWith('{')) samples.push(JSON.parse(line) as Sample);
    }
  });
  return child;
}

function quantiles(xs: number[]): string {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return 'n/a';
  const q = (p: number): number => v[Math.min(v.length - 1, Math.floor(p * v.length))]!;
  return `p50 ${q(0.5).toFixed(0)} ms, p99 ${q(0.99).toFixed(0)} ms, max ${v[v.length - 1]!.toFixed(0)} ms`;
}

function report(label: string, from: number, to: number): void {
  const s = samples.filter((x) => x.t >= from && x.t < to);
  const failed = s.filter((x) => !x.ok);
  console.log(
    `${label}: ${s.length} rounds, ${failed.length} failed | LOGIN ${quantiles(s.map((x) => x.login))} | SELECT ${quantiles(s.map((x) => x.select))}`,
  );
  if (failed.length > 0) console.log(`  legit failures: ${failed.slice(0, 5).map((x) => x.err).join(' / ')}`);
}

/** CPU seconds used so far by process `pid` (user + system, from /proc). */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function phase(name: string, nf: ChildServer, attack: (stop: () => boolean) => Promise<string>): Promise<void> {
  const from = Date.now();
  const cpu0 = cpuSeconds(nf.pid);
  const end = from + PHASE_S * 1000;
  const stop = (): boolean => Date.now() >= end;
  const ticker = setInterval(() => {
    const now = Date.now();
    const st = nf.lastStats;
    const where = `server connections ${st?.connections ?? '?'}, RSS ${st ? Math.round(st.rss / 1048576) : '?'} MB`;
    report(`  [${name} t=${((now - from) / 1000).toFixed(0)}s, ${where}]`, now - 5000, now);
  }, 5000);
  const summary = await attack(stop);
  clearInterval(ticker);
  const secs = (Date.now() - from) / 1000;
  report(`${name} (whole phase)`, from, Date.now());
  console.log(`  attack: ${summary}`);
  console.log(`  server CPU ${(((cpuSeconds(nf.pid) - cpu0) / secs) * 100).toFixed(0)}% of one core; load average ${loadavg()[0]!.toFixed(1)}`);
}

// ---- attacks ----

/** Idle sockets before login; some trickle a byte every 5 s. Returns a summary. */
async function connectionFlood(port: number, stop: () => boolean): Promise<string> {
  const socks: Socket[] = [];
  const counts = { greeted: 0, refused: 0, errors: 0, closedByServer: 0, trickleClosed: 0 };
  const closedAfter: number[] = [];
  const openOne = (addr: string, trickle: boolean): Promise<void> =>
    new Promise((resolve) => {
      const s = connect({ port, host: '127.0.0.1', localAddress: addr });
      const t0 = performance.now();
      let first = true;
      let timer: NodeJS.Timeout | undefined;
      s.setEncoding('latin1');
      s.on('data', (d: string) => {
        if (!first) return;
        first = false;
        if (d.startsWith('* OK')) counts.greeted++;
        else counts.refused++;
        resolve();
        if (trickle && d.startsWith('* OK')) timer = setInterval(() => s.write('x'), 5000);
      });
      s.on('error', () => {
        counts.errors++;
        resolve();
      });
      s.on('close', () => {
        if (timer) clearInterval(timer);
        if (!first) {
          counts.closedByServer++;
          if (trickle) counts.trickleClosed++;
          closedAfter.push(performance.now() - t0);
        }
        resolve();
      });
      socks.push(s);
    });
  const jobs: Array<{ addr: string; trickle: boolean }> = [];
  for (let i = 0; i < FLOOD; i++) jobs.push({ addr: `127.0.1.${10 + Math.floor(i / 100)}`, trickle: i % 5 === 0 });
  for (let i = 0; i < EXTRA; i++) jobs.push({ addr: '127.0.0.9', trickle: false });
  for (let i = 0; i < jobs.length && !stop(); i += 200) {
    await Promise.all(jobs.slice(i, i + 200).map((j) => openOne(j.addr, j.trickle)));
  }
  const opened = performance.now();
  while (!stop()) await sleep(200);
  const open = socks.filter((s) => !s.destroyed).length;
  for (const s of socks) s.destroy();
  const ca = closedAfter.filter((x) => x > 1000).sort((a, b) => a - b);
  return (
    `${jobs.length} sockets: ${counts.greeted} greeted, ${counts.refused} refused at connect, ${counts.errors} errors; ` +
    `${counts.closedByServer} closed by the server (${counts.trickleClosed} of them trickling), ${open} still open after ` +
    `${((performance.now() - opened) / 1000).toFixed(0)} s; server closed idle ones after ${ca.length ? `${(ca[0]! / 1000).toFixed(1)}–${(ca[ca.length - 1]! / 1000).toFixed(1)} s` : 'n/a'}`
  );
}

/** LOGIN_CONNS workers, each reconnecting and guessing passwords until `stop`. */
async function loginFlood(
  port: number,
  stop: () => boolean,
  addrOf: (worker: number) => string,
  userOf: (worker: number, n: number) => string,
): Promise<string> {
  const counts: Record<string, number> = {};
  const bump = (k: string): void => {
    counts[k] = (counts[k] ?? 0) + 1;
  };
  const worker = async (w: number): Promise<void> => {
    let n = 0;
    while (!stop()) {
      let c: LineClient | undefined;
      try {
        const o = await LineClient.open(port, addrOf(w));
        c = o.client;
        if (!o.greeting.startsWith('* OK')) {
          bump('refused at connect');
          await sleep(500);
          continue;
        }
        for (let k = 0; k < 3 && !stop(); k++) {
          const user = userOf(w, n);
          const r = await c.cmd(`g${n}`, `LOGIN ${user} guess-${w}-${n++}`);
          const code = /\[([A-Z-]+)\]/.exec(r)?.[1] ?? r.split(' ')[1] ?? '?';
          bump(`${r.startsWith('* BYE') ? 'BYE' : 'NO'} ${code}`);
          if (r.startsWith('* BYE')) break;
        }
      } catch (err) {
        bump(`error ${(err as Error).message}`);
      } finally {
        c?.close();
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: LOGIN_CONNS }, (_, w) => worker(w)));
  const secs = (performance.now() - started) / 1000;
  const failed = counts['NO AUTHENTICATIONFAILED'] ?? 0;
  const parts = Object.entries(counts).map(([k, v]) => `${k}: ${v}`);
  return `${parts.join(', ')}; answered AUTHENTICATIONFAILED (a password check ran) ${(failed / secs).toFixed(1)}/s`;
}

// ---- main ----

if (args.includes('--legit')) await legitLoop(opt('legit', 0));

const dir = mkdtempSync(join(tmpdir(), 'nf-hostile-'));
let nf: ChildServer | undefined;
let legit: ChildProcess | undefined;
try {
  const lines = [await hashPassword(LEGIT.user, LEGIT.password), await hashPassword('alice', 'alice-secret')];
  for (let i = 0; i < 50; i++) lines.push(await hashPassword(`user${i}`, `pw-${i}-${Math.random()}`));
  writeFileSync(join(dir, 'users'), `${lines.join('\n')}\n`);
  const limits = { exemptAddresses: [], preAuthDeadlineMs: DEADLINE_MS };
  nf = await spawnServer({
    data: join(dir, 'data'),
    listen: { host: '127.0.0.1', port: 0 },
    users: join(dir, 'users'),
    anonymous: false,
    ...(BASELINE ? {} : { limits }),
  } as Parameters<typeof spawnServer>[0]);
  console.log(
    `newsfront pid ${nf.pid} port ${nf.port}${BASELINE ? ' (baseline: no limits config)' : ` limits ${JSON.stringify(limits)}`}; ` +
      `phases of ${PHASE_S} s; flood ${FLOOD}+${EXTRA} sockets, login flood ${LOGIN_CONNS} connections`,
  );
  await sleep(1000);
  const port = nf.port;
  legit = startLegit(port);
  await sleep(2000);
  await phase('0 quiet', nf, async (stop) => {
    while (!stop()) await sleep(200);
    return 'none';
  });
  await phase('1 connection flood', nf, (stop) => connectionFlood(port, stop));
  await sleep(2000);
  await phase('2 login flood, 10 sources, known names', nf, (stop) =>
    loginFlood(port, stop, (w) => `127.0.2.${10 + (w % 10)}`, (_w, n) => (n % 2 === 0 ? 'alice' : `user${n % 50}`)),
  );
  await sleep(2000);
  await phase(`3 login flood, ${LOGIN_CONNS} sources, fresh names`, nf, (stop) =>
    loginFlood(port, stop, (w) => `127.0.${3 + Math.floor(w / 250)}.${1 + (w % 250)}`, (w, n) => `nobody${w}x${n}`),
  );
  if (nf.crashed) console.log(`server crashed: ${nf.crashed}`);
} finally {
  legit?.stdin!.end();
  await nf?.stop();
  rmSync(dir, { recursive: true, force: true });
}
