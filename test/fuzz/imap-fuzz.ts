/**
 * The IMAP line fuzzer (used by test/fuzz/imap-lines.test.ts with a bounded
 * run and by `fuzz/run.ts` for ≥ 1,000,000 lines): a live ImapServer over
 * the fixture backend (test/imap/fixture-backend.ts) filled with generated
 * netnews (MIME, 8-bit, nested), driven by `connections` concurrent clients
 * writing mutated command lines (mutate.ts) as fast as the server takes them.
 *
 * What counts as a failure (DESIGN invariant 8):
 *  - a crash: an uncaught exception or unhandled rejection in this process
 *    (the server runs here) — listeners are installed for the run;
 *  - a hang: the control session (its own connection) does not answer NOOP
 *    within HANG_MS, or a fuzz connection does not take input for HANG_MS;
 *  - a server bug: a tagged `NO [SERVERBUG]` (an internal error the
 *    connection caught) — the line that caused it is kept.
 * Two targets: in-process (default; the fixture backend) and a child
 * process (`childTarget()`: the real export backend over an mboxrd archive
 * of the same articles, `newsfront` started by test/harness/serve-child.ts).
 * In-process, a blocked event loop (e.g. a ReDoS) blocks the fuzzer too and
 * cannot be reported; with the child, a hang or crash is recorded, the
 * child is killed and restarted, and the run goes on.
 * The caller owns nothing: `runImapFuzz` starts and stops the server(s).
 */
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatMboxrdMessage } from '../../src/export/archive/mboxrd-writer.js';
import { spawnServer, type ChildServer } from '../harness/child-server.js';
import { FixtureBackend } from '../imap/fixture-backend.js';
import { startImap } from '../imap/harness.js';
import { generateCorpus } from '../corpus/generate.js';
import { Prng } from '../corpus/prng.js';
import { mutateLine, tagFor } from './mutate.js';

/** A session that does not answer / take input for this long is hung. */
export const HANG_MS = 15_000;
/** Lines a fuzz connection sends before it is replaced by a fresh one. */
const LINES_PER_CONNECTION = 400;
/** Lines a fuzz connection may have unanswered (below the server's MAX_PIPELINED_COMMANDS). */
const WINDOW = 48;
/** No answer for this long: the server is probably reading literal octets; go on. */
const STALL_MS = 50;
/** Control NOOP period. */
const PING_MS = 500;
/** Examples of each failure kept for the report. */
const KEEP = 10;

/** A server to fuzz that lives in another process. */
export interface FuzzTarget {
  readonly port: number;
  /** A crash line if the server died, else null. */
  crashed(): string | null;
  /** The server's RSS (bytes) as last reported, if known. */
  rss(): number | undefined;
  /** Kill (if needed) and start again; resolves when it listens. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface FuzzOptions {
  lines: number;
  connections: number;
  seed: number;
  /** Fuzz a server in a child process instead of the in-process fixture. */
  target?: () => Promise<FuzzTarget>;
  /** Let mutations insert runs of LIST wildcards (only sensible with a child target). */
  wildcardRuns?: boolean;
  /** Progress callback, about once per second. */
  progress?: (r: FuzzResult) => void;
}

export interface FuzzResult {
  lines: number;
  bytesSent: number;
  bytesReceived: number;
  seconds: number;
  linesPerSecond: number;
  connectionsOpened: number;
  serverClosed: number;
  crashes: string[];
  hangs: string[];
  serverBugs: string[];
  /** In-process only: IMAP connections still open 5 s after every client closed (must be 0). */
  leftConnections?: number;
  /** In-process only: file descriptors of this process after the run minus before (sockets leaked if ≫ 0). */
  fdGrowth?: number;
  /** Process warnings (e.g. MaxListenersExceededWarning), reported, not failures. */
  warnings: string[];
  maxRss: number;
  /** Child target only: the server process's max RSS (from its STATS lines). */
  serverMaxRss?: number;
  pings: number;
}

/** A group whose first label is long, as in real hierarchies (`international.*`): LIST patterns work harder on it. */
const LONG_LABEL_GROUP = 'international.fuzz';

function articles(seed: number): { mime: Buffer[]; plain: Buffer[] } {
  return {
    mime: generateCorpus({ seed, groups: ['fuzz.mime'], perGroup: 40 }).map((a) => a.bytes),
    plain: generateCorpus({ seed: seed + 1, groups: ['fuzz.plain'], perGroup: 10 }).map((a) => a.bytes),
  };
}

function fixture(seed: number): FixtureBackend {
  const b = new FixtureBackend();
  const { mime, plain } = articles(seed);
  mime.forEach((a, i) => b.add('fuzz.mime', i + 1, a));
  plain.forEach((a, i) => b.add('fuzz.plain', i * 2 + 1, a));
  plain.forEach((a, i) => b.add(LONG_LABEL_GROUP, i + 1, a));
  return b;
}

/**
 * newsfront in a child process over an mboxrd archive holding the fuzz
 * articles (groups fuzz.mime and fuzz.plain), user alice/secret. `close()`
 * stops it and removes its directory.
 */
export function childTarget(seed: number): () => Promise<FuzzTarget> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nf-fuzz-'));
    const archive = join(dir, 'archive');
    mkdirSync(archive);
    const { mime, plain } = articles(seed);
    const date = new Date(Date.UTC(2024, 0, 1));
    writeFileSync(join(archive, 'fuzz.mime.mbox'), Buffer.concat(mime.map((a) => formatMboxrdMessage(a, 'fuzz@test.invalid', date))));
    writeFileSync(join(archive, 'fuzz.plain.mbox'), Buffer.concat(plain.map((a) => formatMboxrdMessage(a, 'fuzz@test.invalid', date))));
    writeFileSync(join(archive, `${LONG_LABEL_GROUP}.mbox`), Buffer.concat(plain.map((a) => formatMboxrdMessage(a, 'fuzz@test.invalid', date))));
    writeFileSync(join(dir, 'users'), 'alice:{PLAIN}secret\n');
    const config = { archive, data: join(dir, 'data'), listen: { host: '127.0.0.1', port: 0 }, users: join(dir, 'users') };
    let child: ChildServer = await spawnServer(config);
    return {
      get port() {
        return child.port;
      },
      crashed: () => child.crashed ?? (child.exitCode !== null ? `exited with status ${child.exitCode}` : null),
      rss: () => child.lastStats?.rss,
      async restart() {
        await child.kill();
        child = await spawnServer(config);
      },
      async close() {
        await child.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}

export async function runImapFuzz(opts: FuzzOptions): Promise<FuzzResult> {
  const r: FuzzResult = {
    lines: 0, bytesSent: 0, bytesReceived: 0, seconds: 0, linesPerSecond: 0, connectionsOpened: 0, serverClosed: 0,
    crashes: [], hangs: [], serverBugs: [], warnings: [], maxRss: process.memoryUsage().rss, pings: 0,
  };
  const keep = (list: string[], s: string): void => {
    if (list.length < KEEP) list.push(s);
  };
  const onCrash = (kind: string) => (err: unknown): void => keep(r.crashes, `${kind}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  const onUncaught = onCrash('uncaughtException');
  const onRejection = onCrash('unhandledRejection');
  const onWarning = (w: Error): void => keep(r.warnings, `${w.name}: ${w.message}`);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onRejection);
  process.on('warning', onWarning);

  const inProcess = opts.target ? null : await startImap(fixture(opts.seed), { loginFailureDelayMs: 1 });
  const target = opts.target ? await opts.target() : null;
  const port = (): number => (target ? target.port : inProcess!.port);
  /** Set while a child target is being restarted (connections wait). */
  let restarting: Promise<void> | null = null;
  const restart = (why: string, list: string[]): Promise<void> => {
    if (!target) return Promise.resolve();
    restarting ??= (async () => {
      keep(list, why);
      await target.restart();
    })().finally(() => {
      restarting = null;
    });
    return restarting;
  };
  const rng = new Prng(opts.seed);
  const fdsNow = (): number => readdirSync('/proc/self/fd').length;
  const fd0 = fdsNow();
  const started = Date.now();
  let tagSeq = 0;
  let stop = false;

  const sampler = setInterval(() => {
    const dead = target?.crashed();
    if (dead && !restarting) void restart(`child crashed after ${r.lines} lines: ${dead}`, r.crashes);
    r.maxRss = Math.max(r.maxRss, process.memoryUsage().rss);
    const srss = target?.rss();
    if (srss !== undefined) r.serverMaxRss = Math.max(r.serverMaxRss ?? 0, srss);
    r.seconds = (Date.now() - started) / 1000;
    r.linesPerSecond = r.lines / Math.max(r.seconds, 0.001);
    opts.progress?.(r);
  }, 1000);

  /** The control session: must answer NOOP promptly all along. */
  const control = async (): Promise<void> => {
    while (!stop) {
      await controlSession();
      if (restarting) await restarting;
    }
  };
  const controlSession = async (): Promise<void> => {
    const s = connect(port(), '127.0.0.1');
    try {
      await once(s, 'connect');
    } catch {
      await new Promise((res) => setTimeout(res, 200));
      return;
    }
    let buf = '';
    let waiter: (() => void) | null = null;
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      buf += d;
      waiter?.();
    });
    s.on('error', () => undefined);
    const ask = async (tag: string, cmd: string): Promise<boolean> => {
      s.write(`${tag} ${cmd}\r\n`);
      const re = new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)`);
      const end = Date.now() + HANG_MS;
      while (!re.test(buf)) {
        if (Date.now() > end || s.destroyed) return false;
        await new Promise<void>((res) => {
          const t = setTimeout(res, 100);
          waiter = () => {
            clearTimeout(t);
            res();
          };
        });
      }
      buf = '';
      return true;
    };
    if (!(await ask('c0', 'LOGIN alice secret')) || !(await ask('c1', 'SELECT fuzz.mime'))) keep(r.hangs, 'control session could not log in');
    let n = 2;
    while (!stop) {
      const ok = await ask(`c${n++}`, n % 10 === 0 ? 'UID FETCH 1:3 (ENVELOPE BODY.PEEK[1])' : 'NOOP');
      r.pings++;
      if (!ok) {
        const why = `control session: no answer within ${HANG_MS} ms after ${r.lines} lines; last lines sent: ${JSON.stringify(lastLines.slice(-3))}`;
        if (target) {
          s.destroy();
          await restart(why, r.hangs);
          return;
        }
        keep(r.hangs, why);
      }
      await new Promise((res) => setTimeout(res, PING_MS));
    }
    s.destroy();
  };

  /** One fuzz connection: logs in (mostly), then writes mutated lines. */
  /** The latest lines written by any connection (for hang reports). */
  const lastLines: string[] = [];
  const fuzzOne = async (): Promise<void> => {
    if (restarting) await restarting;
    const s: Socket = connect(port(), '127.0.0.1');
    r.connectionsOpened++;
    const recent = new Map<string, Buffer>();
    let closedByServer = true;
    let pending = '';
    /** Response lines received: lines sent minus this is what the server has not answered yet. */
    let answered = 0;
    let onData: (() => void) | null = null;
    /** Resolves at the next data from the server, or after `ms`. */
    const progress = (ms: number): Promise<boolean> =>
      new Promise((res) => {
        const t = setTimeout(() => {
          onData = null;
          res(false);
        }, ms);
        onData = () => {
          clearTimeout(t);
          onData = null;
          res(true);
        };
      });
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => {
      r.bytesReceived += d.length;
      pending = (pending + d.toString('latin1')).slice(-4096);
      for (let k = d.indexOf(0x0a); k >= 0; k = d.indexOf(0x0a, k + 1)) answered++;
      onData?.();
      let i: number;
      while ((i = pending.indexOf('\r\n')) >= 0) {
        const line = pending.slice(0, i);
        pending = pending.slice(i + 2);
        const m = /^(\S+) NO \[SERVERBUG\]/.exec(line);
        if (m) {
          const cause = recent.get(m[1]!);
          keep(r.serverBugs, `${line} <= ${cause ? JSON.stringify(cause.toString('latin1').slice(0, 300)) : '(line not known)'}`);
        }
      }
    });
    const closed = new Promise<void>((res) => s.on('close', () => res()));
    try {
      await once(s, 'connect');
    } catch {
      return;
    }
    const write = async (b: Buffer): Promise<boolean> => {
      if (s.destroyed) return false;
      r.bytesSent += b.length;
      if (s.write(b)) return true;
      const drained = await new Promise<boolean | 'hang'>((res) => {
        const done = (v: boolean | 'hang'): void => {
          clearTimeout(t);
          s.off('drain', onDrain);
          s.off('close', onClose);
          res(v);
        };
        const onDrain = (): void => done(true);
        const onClose = (): void => done(false);
        const t = setTimeout(() => done('hang'), HANG_MS);
        s.once('drain', onDrain);
        s.once('close', onClose);
      });
      if (drained === 'hang') {
        if (target) {
          // the control session reports (and restarts) a blocked server
          s.destroy();
          return false;
        }
        keep(r.hangs, `fuzz connection took no input for ${HANG_MS} ms; recent lines: ${JSON.stringify([...recent.values()].slice(-3).map((x) => x.toString('latin1').slice(0, 200)))}`);
        s.destroy();
        return false;
      }
      return drained;
    };
    if (rng.chance(0.9)) await write(Buffer.from('a LOGIN alice secret\r\nb SELECT fuzz.mime\r\n'));
    for (let i = 0; i < LINES_PER_CONNECTION && !stop && r.lines < opts.lines; i++) {
      const tag = tagFor(tagSeq++);
      const body = mutateLine(rng, { wildcardRuns: opts.wildcardRuns === true });
      lastLines.push(body.toString('latin1').slice(0, 300));
      if (lastLines.length > 50) lastLines.shift();
      recent.set(tag, body);
      if (recent.size > 200) recent.delete(recent.keys().next().value!);
      const line = rng.chance(0.03) ? body : Buffer.concat([Buffer.from(`${tag} `), body, Buffer.from('\r\n')]);
      r.lines++;
      if (!(await write(line))) break;
      // keep at most WINDOW lines unanswered, so lines are processed, not just buffered.
      // Silence means the session waits: in IDLE (send DONE), for AUTHENTICATE data or
      // for literal octets (the DONE line feeds those) — then go on.
      while (i + 1 - answered > WINDOW && !s.destroyed) {
        if (await progress(STALL_MS)) continue;
        await write(Buffer.from('DONE\r\n'));
        answered = i + 1 - WINDOW / 2;
        break;
      }
    }
    // let the server answer what it has before hanging up
    while (!s.destroyed && (await progress(STALL_MS)));
    if (!s.destroyed) {
      closedByServer = false;
      s.destroy();
    }
    await closed;
    if (closedByServer) r.serverClosed++;
  };

  const ctl = control();
  const workers = Array.from({ length: opts.connections }, async () => {
    while (!stop && r.lines < opts.lines) await fuzzOne();
  });
  await Promise.all(workers);
  stop = true;
  await ctl;
  clearInterval(sampler);
  r.seconds = (Date.now() - started) / 1000;
  r.linesPerSecond = r.lines / Math.max(r.seconds, 0.001);
  r.maxRss = Math.max(r.maxRss, process.memoryUsage().rss);

  // a fresh session still works end to end
  if (restarting) await restarting;
  const s = connect(port(), '127.0.0.1');
  let out = '';
  s.setEncoding('latin1').on('data', (d: string) => (out += d));
  s.on('error', () => undefined);
  s.write('z1 LOGIN alice secret\r\nz2 SELECT fuzz.mime\r\nz3 UID FETCH 1 (BODY.PEEK[])\r\nz4 LOGOUT\r\n');
  const end = Date.now() + HANG_MS;
  while (!/z4 OK/.test(out) && Date.now() < end) await new Promise((res) => setTimeout(res, 50));
  s.destroy();
  if (!/z3 OK/.test(out)) keep(r.hangs, `fresh session after the run failed: ${out.slice(-300)}`);

  if (inProcess) {
    for (let i = 0; i < 100 && inProcess.server.connectionCount > 0; i++) await new Promise((res) => setTimeout(res, 50));
    r.leftConnections = inProcess.server.connectionCount;
    r.fdGrowth = fdsNow() - fd0;
  }
  await inProcess?.close();
  await target?.close();
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onRejection);
  process.off('warning', onWarning);
  return r;
}
