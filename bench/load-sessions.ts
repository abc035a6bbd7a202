/**
 * Load: N concurrent IMAP sessions against one or several newsfront ports,
 * each doing SELECT and then a random mix of commands for a bounded time.
 *
 *     node dist/bench/load-sessions.js [--sessions 100] [--seconds 10] [--processes 1] [--upstream nntp://…] [--group name] [--search-window N]
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
 * (`UID SEARCH 5000:5999 BODY word`): newsfront has no body index yet, and a
 * whole-mailbox BODY search of a 100k group is a full scan (~45 s warm), which
 * 1,000 sessions cannot each afford.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NODE_FLAGS, freePort } from './server.js';
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
}

export interface LoadReport {
  sessions: number;
  commands: number;
  seconds: number;
  commandsPerSecond: number;
  byKind: Record<string, number>;
  /** Per command kind: mean and max latency in ms. */
  latency: Record<string, { meanMs: number; maxMs: number }>;
  errors: string[];
  errorCount: number;
}

const WORDS = ['the', 'news', 'test', 're', 'and', 'of', 'question', 'release', 'hello'];

export async function runSessions(o: LoadOptions): Promise<LoadReport> {
  const report: LoadReport = { sessions: o.sessions, commands: 0, seconds: 0, commandsPerSecond: 0, byKind: {}, latency: {}, errors: [], errorCount: 0 };
  const total: Record<string, number> = {};
  const fail = (s: string): void => {
    report.errorCount++;
    if (report.errors.length < KEEP_ERRORS) report.errors.push(s);
  };
  const started = Date.now();
  const deadline = started + o.seconds * 1000;
  const one = async (i: number): Promise<void> => {
    const rnd = prng(o.seed + i * 7919);
    let c: LoadClient;
    try {
      c = await LoadClient.open(o.ports[i % o.ports.length]!, o.host);
      await c.cmd(`LOGIN ${o.user ?? 'anonymous'} ${o.pass ?? 'x'}`);
    } catch (err) {
      fail(`session ${i} open: ${(err as Error).message}`);
      return;
    }
    try {
      const sel = await c.cmd(`SELECT ${o.mailbox}`).catch((err: unknown) => {
        throw new Error(`SELECT: ${(err as Error).message}`);
      });
      report.commands += 2;
      const exists = Number(/\* (\d+) EXISTS/.exec(sel)?.[1] ?? 0);
      if (exists === 0) throw new Error(`${o.mailbox} is empty`);
      while (Date.now() < deadline) {
        const r = rnd();
        const seq = 1 + Math.floor(rnd() * exists);
        let kind: string;
        let command: string;
        if (r < 0.3) [kind, command] = ['fetch-envelope', `FETCH ${seq} (UID ENVELOPE)`];
        else if (r < 0.5) [kind, command] = ['fetch-body', `FETCH ${seq} (UID BODY.PEEK[])`];
        else if (r < 0.65) {
          const w = WORDS[Math.floor(rnd() * WORDS.length)]!;
          const key = ['SUBJECT', 'FROM', 'BODY'][Math.floor(rnd() * 3)]!;
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
          total[kind] = (total[kind] ?? 0) + ms;
          const l = (report.latency[kind] ??= { meanMs: 0, maxMs: 0 });
          l.maxMs = Math.max(l.maxMs, ms);
        } catch (err) {
          fail(`session ${i}: ${command.slice(0, 50)}: ${(err as Error).message}`);
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
  for (const [k, l] of Object.entries(report.latency)) {
    l.meanMs = Math.round((total[k]! / report.byKind[k]!) * 10) / 10;
    l.maxMs = Math.round(l.maxMs);
  }
  return report;
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

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
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
  const data = mkdtempSync(join(tmpdir(), 'nf-load-'));
  const children: Array<{ proc: ChildProcess; port: number }> = [];
  try {
    for (let i = 0; i < processes; i++) {
      const port = await freePort();
      const args = [...NODE_FLAGS, cli, 'serve', '--listen', `127.0.0.1:${port}`, '--data', data, '--log-level', 'error'];
      if (upstream) args.push('--upstream', upstream);
      const proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
      children.push({ proc, port });
      await waitListening(port, proc);
    }
    const ports = children.map((c) => c.port);
    const listings = await Promise.all(ports.map((p) => uidListing(p, group)));
    const same = listings.every((l) => l.uidValidity === listings[0]!.uidValidity && l.uids.join('\n') === listings[0]!.uids.join('\n'));
    const rss0 = children.map((c) => rssOf(c.proc.pid!));
    const searchWindow = Number(arg('search-window', '0')) || undefined;
    const r = await runSessions({ ports, mailbox: group, sessions, seconds, seed: 1733, ...(searchWindow ? { searchWindow } : {}) });
    const rss1 = children.map((c) => rssOf(c.proc.pid!));
    const mb = (n: number): string => `${Math.round(n / 1048576)} MB`;
    process.stdout.write(
      [
        `load-sessions: ${sessions} sessions on ${processes} process(es), ${group}, ${r.seconds.toFixed(1)} s${searchWindow ? `, SEARCH over ${searchWindow} messages` : ''}`,
        `  commands:      ${r.commands} = ${Math.round(r.commandsPerSecond)} commands/s  ${JSON.stringify(r.byKind)}`,
        `  latency (ms):  ${Object.entries(r.latency).map(([k, l]) => `${k} mean ${l.meanMs} max ${l.maxMs}`).join(', ')}`,
        `  errors:        ${r.errorCount}${r.errors.map((e) => `\n    ${e}`).join('')}`,
        `  RSS per process before → after: ${rss0.map((x, i) => `${mb(x)} → ${mb(rss1[i]!)}`).join(', ')}`,
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
    rmSync(data, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`load-sessions: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
