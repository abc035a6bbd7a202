/**
 * Load: N concurrent IMAP sessions against one or several newsfront ports,
 * each doing SELECT and then a random mix of commands for a bounded time.
 *
 *     node dist/bench/load-sessions.js [--sessions 100] [--seconds 10] [--processes 1] [--upstream nntp://…] [--group name]
 *                                      [--search-window N] [--index] [--data DIR]
 *
 * Run as a script it starts its own front-ends (`node dist/src/cli.js serve`
 * child processes sharing ONE data directory, i.e. one LMDB UID map, serving
 * the embedded sample archive unless --upstream is given), runs the load
 * spread over them, prints commands/s, errors and each process's RSS before
 * and after, checks that every process shows the same UIDVALIDITY and the
 * same UID → Message-ID list for the group, then stops the children.
 * `runSessions()` is the library part (used by test/faults/load-short.test.ts).
 *
 * Command mix per session (seeded, reproducible): FETCH ENVELOPE of a random
 * message 30 %, BODY.PEEK[] 20 %, UID SEARCH (SUBJECT/FROM/BODY word) 15 %,
 * STORE ±FLAGS 15 %, FETCH FLAGS of a range 10 %, NOOP 10 %. An error is a
 * tagged NO/BAD, a closed connection or a command over COMMAND_TIMEOUT_MS
 * (load-client.ts, the line client it shares with the soak).
 * `--search-window N` limits each SEARCH to N messages from a random one
 * (`UID SEARCH 5000:5999 BODY word`): without a body index a whole-mailbox
 * BODY search of a 100k group is a full scan (~45 s warm), which 1,000
 * sessions cannot each afford. `--index`: the first front-end crawls every
 * body at once (`index.crawlDelayMs: 0`) and the load starts only when its
 * /status (operations listener) says every body of the group is indexed;
 * the build time is printed. Latency is also given per SEARCH key.
 * `--data DIR`: serve from this data directory (kept afterwards), e.g. one
 * indexed before with `newsfront index GROUP --data DIR`, instead of a new
 * temporary one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NODE_FLAGS, freePort, procCpuSeconds } from './server.js';
import { serverStatus } from './index-rows.js';
import { prng } from './prng.js';
import { LoadClient } from './load-client.js';

/** Errors kept verbatim in the report. */
const KEEP_ERRORS = 10;

export interface LoadOptions {
  ports: number[];
  mailbox: string;
  sessions: number;
  seconds: number;
  seed: number;
  user?: string;
  pass?: string;
  host?: string;
  /** Each SEARCH covers this many messages from a random one (default: the whole mailbox). */
  searchWindow?: number;
  /** Session i logs in as `userOf(i)` (default `user`/`pass`, or anonymous). */
  userOf?: (i: number) => { user: string; pass: string };
  /** A message sequence number never asked for (e.g. a 57 MB article that would dominate the window). */
  skipSeq?: number;
  /**
   * Open every session (connect, LOGIN, SELECT) before the clock starts; the
   * `seconds` window, commands and latencies then count the mix alone
   * (default false: the window starts with the first connect and counts
   * LOGIN and SELECT as one command each).
   */
  openFirst?: boolean;
  /** Awaited just before the timed window starts (with `openFirst`: once every session is open). */
  onWindow?: () => Promise<void> | void;
}

export interface LoadReport {
  sessions: number;
  commands: number;
  seconds: number;
  commandsPerSecond: number;
  byKind: Record<string, number>;
  /** Per command kind: mean, 99th percentile and max latency in ms. */
  latency: Record<string, { meanMs: number; p99Ms: number; maxMs: number }>;
  /** Latency of every command of the mix together, ms. */
  p50Ms: number;
  p99Ms: number;
  /** With `openFirst`: seconds until every session was open (or had failed). */
  openSeconds?: number;
  errors: string[];
  errorCount: number;
  /** Errors per command kind ('open' for connect, LOGIN and SELECT) and cause ('timeout' or the first words of the answer). */
  errorKinds: Record<string, number>;
}

const WORDS = ['the', 'news', 'test', 're', 'and', 'of', 'question', 'release', 'hello'];

export async function runSessions(o: LoadOptions): Promise<LoadReport> {
  const report: LoadReport = { sessions: o.sessions, commands: 0, seconds: 0, commandsPerSecond: 0, byKind: {}, latency: {}, p50Ms: NaN, p99Ms: NaN, errors: [], errorCount: 0, errorKinds: {} };
  const total: Record<string, number> = {};
  const samples: Record<string, number[]> = {};
  const fail = (s: string, kind = 'other'): void => {
    const cause = /timeout/.test(s) ? 'timeout' : /closed/.test(s) ? 'closed' : /\b(NO|BAD)\b/.test(s) ? /\b(NO|BAD)\b.*/.exec(s)![0].slice(0, 30) : 'other';
    report.errorKinds[`${kind} ${cause}`] = (report.errorKinds[`${kind} ${cause}`] ?? 0) + 1;
    report.errorCount++;
    if (report.errors.length < KEEP_ERRORS) report.errors.push(s);
  };
  if (!o.openFirst) await o.onWindow?.();
  let started = Date.now();
  let deadline = started + o.seconds * 1000;
  // with openFirst, every session waits here until all have opened (or failed)
  let arrived = 0;
  let release!: () => void;
  const allOpen = new Promise<void>((r) => (release = r));
  const arrive = (): void => {
    if (++arrived < o.sessions || !o.openFirst) return;
    report.openSeconds = (Date.now() - started) / 1000;
    void Promise.resolve(o.onWindow?.())
      .catch((err: unknown) => fail(`onWindow: ${(err as Error).message}`))
      .then(() => {
        started = Date.now();
        deadline = started + o.seconds * 1000;
        release();
      });
  };
  const one = async (i: number): Promise<void> => {
    const rnd = prng(o.seed + i * 7919);
    const who = o.userOf?.(i) ?? { user: o.user ?? 'anonymous', pass: o.pass ?? 'x' };
    let c: LoadClient | undefined;
    let exists = 0;
    let stage = 'greeting';
    try {
      c = await LoadClient.open(o.ports[i % o.ports.length]!, o.host);
      stage = 'LOGIN';
      await c.cmd(`LOGIN ${who.user} ${who.pass}`);
      stage = 'SELECT';
      const sel = await c.cmd(`SELECT ${o.mailbox}`).catch((err: unknown) => {
        throw new Error(`SELECT: ${(err as Error).message}`);
      });
      if (!o.openFirst) report.commands += 2;
      exists = Number(/\* (\d+) EXISTS/.exec(sel)?.[1] ?? 0);
      if (exists === 0) throw new Error(`${o.mailbox} is empty`);
    } catch (err) {
      fail(`session ${i} open (${stage}): ${(err as Error).message}`, `open ${stage}`);
      c?.close();
      arrive();
      return;
    }
    arrive();
    if (o.openFirst) await allOpen;
    try {
      while (Date.now() < deadline) {
        const r = rnd();
        let seq = 1 + Math.floor(rnd() * exists);
        if (seq === o.skipSeq) seq = (seq % exists) + 1;
        let kind: string;
        let command: string;
        let sub: string | undefined;
        if (r < 0.3) [kind, command] = ['fetch-envelope', `FETCH ${seq} (UID ENVELOPE)`];
        else if (r < 0.5) [kind, command] = ['fetch-body', `FETCH ${seq} (UID BODY.PEEK[])`];
        else if (r < 0.65) {
          const w = WORDS[Math.floor(rnd() * WORDS.length)]!;
          const key = ['SUBJECT', 'FROM', 'BODY'][Math.floor(rnd() * 3)]!;
          sub = `search ${key}`;
          const win = o.searchWindow ? `${seq}:${Math.min(exists, seq + o.searchWindow - 1)} ` : '';
          [kind, command] = ['search', `UID SEARCH ${win}${key} ${w}`];
        } else if (r < 0.8) [kind, command] = ['store', `STORE ${seq} ${rnd() < 0.5 ? '+' : '-'}FLAGS.SILENT (\\Seen)`];
        else if (r < 0.9) {
          const hi = Math.min(exists, seq + 50);
          [kind, command] = ['fetch-flags', `FETCH ${seq}:${hi} (UID FLAGS)`];
        } else [kind, command] = ['noop', 'NOOP'];
        try {
          const t0 = performance.now();
          await c.cmd(command);
          const ms = performance.now() - t0;
          report.commands++;
          report.byKind[kind] = (report.byKind[kind] ?? 0) + 1;
          for (const k of sub === undefined ? [kind] : [kind, sub]) {
            total[k] = (total[k] ?? 0) + ms;
            (samples[k] ??= []).push(ms);
          }
        } catch (err) {
          fail(`session ${i}: ${command.slice(0, 50)}: ${(err as Error).message}`, sub ?? kind);
          if (c.closed) return;
        }
      }
      await c.cmd('LOGOUT').catch(() => undefined);
    } catch (err) {
      fail(`session ${i}: ${(err as Error).message}`);
    } finally {
      c.close();
    }
  };
  await Promise.all(Array.from({ length: o.sessions }, (_, i) => one(i)));
  report.seconds = (Date.now() - started) / 1000;
  report.commandsPerSecond = report.commands / report.seconds;
  const round1 = (x: number): number => Math.round(x * 10) / 10;
  for (const [k, xs] of Object.entries(samples)) {
    xs.sort((a, b) => a - b);
    report.latency[k] = { meanMs: round1(total[k]! / xs.length), p99Ms: round1(percentile(xs, 99)), maxMs: Math.round(xs[xs.length - 1]!) };
  }
  const all = Object.values(samples).flat().sort((a, b) => a - b);
  report.p50Ms = round1(percentile(all, 50));
  report.p99Ms = round1(percentile(all, 99));
  return report;
}

/** The p-th percentile (nearest rank) of ascending `xs`; NaN when empty. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  return xs[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))]!;
}

/** UIDVALIDITY and the UID → Message-ID list of `mailbox` as one port shows it. */
export async function uidListing(port: number, mailbox: string, user = 'anonymous', pass = 'x'): Promise<{ uidValidity: number; uids: string[] }> {
  const c = await LoadClient.open(port);
  try {
    await c.cmd(`LOGIN ${user} ${pass}`);
    const sel = await c.cmd(`EXAMINE ${mailbox}`);
    const uidValidity = Number(/UIDVALIDITY (\d+)/.exec(sel)![1]);
    const f = await c.cmd('UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])');
    const uids: string[] = [];
    const re = /UID (\d+) BODY\[HEADER\.FIELDS \(MESSAGE-ID\)\] \{(\d+)\}\r\n/g;
    for (let m = re.exec(f); m; m = re.exec(f)) {
      const start = m.index + m[0].length;
      const field = f.slice(start, start + Number(m[2]));
      uids.push(`${m[1]} ${field.replace(/^message-id:\s*/i, '').trim()}`);
      re.lastIndex = start + Number(m[2]);
    }
    return { uidValidity, uids };
  } finally {
    c.close();
  }
}

// ---- script part -----------------------------------------------------------

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}

function rssOf(pid: number, field = 'VmRSS'): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Waits until the /status of the front-end whose operations listener is on
 * `metricsPort` says every body of `group` is indexed; prints how long it took.
 */
async function waitIndexed(metricsPort: number, group: string, pid: number, since: number): Promise<void> {
  for (let last = 0; ; ) {
    const s = await serverStatus(metricsPort);
    const g = s.index?.groups.find((x) => x.group === group);
    if (g !== undefined && g.total !== null && g.bodies >= g.total) {
      const cpu = await procCpuSeconds(pid);
      process.stdout.write(
        `  index:         ${g.bodies} of ${g.total} bodies indexed ${((Date.now() - since) / 1000).toFixed(1)} s after start (server CPU ${cpu.toFixed(1)} s); ` +
          `${(s.index!.bytes / 1e6).toFixed(0)} MB on disk, ${s.index!.bytesPerArticle} B per article\n`,
      );
      return;
    }
    if (Date.now() - last > 10_000) {
      last = Date.now();
      process.stderr.write(`load-sessions: index ${g ? `${g.bodies} of ${g.total ?? '?'} bodies, ${g.crawl?.state ?? 'no crawl'} ${Math.round(g.crawl?.rate ?? 0)}/s` : 'not started'}\n`);
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

async function waitListening(port: number, child: ChildProcess, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`front-end exited with ${child.exitCode}`);
    try {
      const c = await LoadClient.open(port);
      c.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`front-end on ${port} did not listen in time`);
}

async function main(): Promise<void> {
  const sessions = Number(arg('sessions', '100'));
  const seconds = Number(arg('seconds', '10'));
  const processes = Number(arg('processes', '1'));
  const upstream = arg('upstream', '');
  const group = arg('group', upstream ? '' : 'sample.discuss');
  if (!group) throw new Error('--group is required with --upstream');
  const cli = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli.js');
  const kept = arg('data', '');
  const data = kept || mkdtempSync(join(tmpdir(), 'nf-load-'));
  const children: Array<{ proc: ChildProcess; port: number }> = [];
  const index = process.argv.includes('--index');
  const metricsPort = index ? await freePort() : 0;
  const started = Date.now();
  try {
    for (let i = 0; i < processes; i++) {
      const port = await freePort();
      const args = [...NODE_FLAGS, cli, 'serve', '--listen', `127.0.0.1:${port}`, '--data', data, '--log-level', 'error'];
      if (upstream) args.push('--upstream', upstream);
      if (index && i === 0) {
        const file = join(data, 'load-config.json');
        writeFileSync(file, JSON.stringify({ metrics: { listen: { host: '127.0.0.1', port: metricsPort } }, index: { crawlDelayMs: 0 } }));
        args.push('--config', file);
      }
      const proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
      children.push({ proc, port });
      await waitListening(port, proc);
    }
    const ports = children.map((c) => c.port);
    const listings = await Promise.all(ports.map((p) => uidListing(p, group)));
    const same = listings.every((l) => l.uidValidity === listings[0]!.uidValidity && l.uids.join('\n') === listings[0]!.uids.join('\n'));
    if (index) await waitIndexed(metricsPort, group, children[0]!.proc.pid!, started);
    const rss0 = children.map((c) => rssOf(c.proc.pid!));
    const cpu0 = await Promise.all(children.map((c) => procCpuSeconds(c.proc.pid!)));
    const searchWindow = Number(arg('search-window', '0')) || undefined;
    const clientCpu0 = process.cpuUsage();
    const r = await runSessions({ ports, mailbox: group, sessions, seconds, seed: 1733, ...(searchWindow ? { searchWindow } : {}) });
    const clientCpu = process.cpuUsage(clientCpu0);
    const rss1 = children.map((c) => rssOf(c.proc.pid!));
    const hwm = children.map((c) => rssOf(c.proc.pid!, 'VmHWM'));
    const cpu1 = await Promise.all(children.map((c) => procCpuSeconds(c.proc.pid!)));
    const mb = (n: number): string => `${Math.round(n / 1048576)} MB`;
    process.stdout.write(
      [
        `load-sessions: ${sessions} sessions on ${processes} process(es), ${group}, ${r.seconds.toFixed(1)} s${searchWindow ? `, SEARCH over ${searchWindow} messages` : ', SEARCH over the whole group'}${index ? ', bodies indexed first' : ''}`,
        `  commands:      ${r.commands} = ${Math.round(r.commandsPerSecond)} commands/s  ${JSON.stringify(r.byKind)}`,
        `  latency (ms):  all p50 ${r.p50Ms} p99 ${r.p99Ms}; ${Object.entries(r.latency).map(([k, l]) => `${k} mean ${l.meanMs} p99 ${l.p99Ms} max ${l.maxMs}`).join(', ')}`,
        `  errors:        ${r.errorCount} ${JSON.stringify(r.errorKinds)}${r.errors.map((e) => `\n    ${e}`).join('')}`,
        `  RSS per process before → after (peak): ${rss0.map((x, i) => `${mb(x)} → ${mb(rss1[i]!)} (${mb(hwm[i]!)})`).join(', ')}`,
        `  server CPU during the load: ${cpu1.map((x, i) => `${(x - cpu0[i]!).toFixed(1)} s`).join(', ')}; this client's ${((clientCpu.user + clientCpu.system) / 1e6).toFixed(1)} s (load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})`,
        `  same UIDVALIDITY and UID→Message-ID list on every process: ${same ? 'yes' : 'NO'} (${listings[0]!.uids.length} messages)`,
        '',
      ].join('\n'),
    );
    if (r.errorCount > 0 || !same) process.exitCode = 1;
  } finally {
    for (const c of children) {
      c.proc.kill('SIGTERM');
      await new Promise<void>((res) => (c.proc.exitCode !== null ? res() : c.proc.once('exit', () => res())));
    }
    if (!kept) rmSync(data, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`load-sessions: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
