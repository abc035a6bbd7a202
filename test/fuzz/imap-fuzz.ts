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
 * The caller owns nothing: `runImapFuzz` starts and stops the server.
 */
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { FixtureBackend } from '../imap/fixture-backend.js';
import { startImap } from '../imap/harness.js';
import { generateCorpus } from '../corpus/generate.js';
import { Prng } from '../corpus/prng.js';
import { mutateLine, tagFor } from './mutate.js';

/** A session that does not answer / take input for this long is hung. */
export const HANG_MS = 15_000;
/** Lines a fuzz connection sends before it is replaced by a fresh one. */
const LINES_PER_CONNECTION = 400;
/** Control NOOP period. */
const PING_MS = 500;
/** Examples of each failure kept for the report. */
const KEEP = 10;

export interface FuzzOptions {
  lines: number;
  connections: number;
  seed: number;
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
  /** Process warnings (e.g. MaxListenersExceededWarning), reported, not failures. */
  warnings: string[];
  maxRss: number;
  pings: number;
}

function fixture(seed: number): FixtureBackend {
  const b = new FixtureBackend();
  const mime = generateCorpus({ seed, groups: ['fuzz.mime'], perGroup: 40 });
  mime.forEach((a, i) => b.add('fuzz.mime', i + 1, a.bytes));
  const plain = generateCorpus({ seed: seed + 1, groups: ['fuzz.plain'], perGroup: 10 });
  plain.forEach((a, i) => b.add('fuzz.plain', i * 2 + 1, a.bytes));
  return b;
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

  const server = await startImap(fixture(opts.seed), { loginFailureDelayMs: 1 });
  const rng = new Prng(opts.seed);
  const started = Date.now();
  let tagSeq = 0;
  let stop = false;

  const sampler = setInterval(() => {
    r.maxRss = Math.max(r.maxRss, process.memoryUsage().rss);
    r.seconds = (Date.now() - started) / 1000;
    r.linesPerSecond = r.lines / Math.max(r.seconds, 0.001);
    opts.progress?.(r);
  }, 1000);

  /** The control session: must answer NOOP promptly all along. */
  const control = async (): Promise<void> => {
    const s = connect(server.port, '127.0.0.1');
    await once(s, 'connect');
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
      if (!ok) keep(r.hangs, `control session: no answer within ${HANG_MS} ms after ${r.lines} lines`);
      await new Promise((res) => setTimeout(res, PING_MS));
    }
    s.destroy();
  };

  /** One fuzz connection: logs in (mostly), then writes mutated lines. */
  const fuzzOne = async (): Promise<void> => {
    const s: Socket = connect(server.port, '127.0.0.1');
    r.connectionsOpened++;
    const recent = new Map<string, Buffer>();
    let closedByServer = true;
    let pending = '';
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => {
      r.bytesReceived += d.length;
      pending = (pending + d.toString('latin1')).slice(-4096);
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
        keep(r.hangs, `fuzz connection took no input for ${HANG_MS} ms; recent lines: ${JSON.stringify([...recent.values()].slice(-3).map((x) => x.toString('latin1').slice(0, 200)))}`);
        s.destroy();
        return false;
      }
      return drained;
    };
    if (rng.chance(0.9)) await write(Buffer.from('a LOGIN alice secret\r\nb SELECT fuzz.mime\r\n'));
    for (let i = 0; i < LINES_PER_CONNECTION && !stop && r.lines < opts.lines; i++) {
      const tag = tagFor(tagSeq++);
      const body = mutateLine(rng);
      recent.set(tag, body);
      if (recent.size > 200) recent.delete(recent.keys().next().value!);
      const line = rng.chance(0.03) ? body : Buffer.concat([Buffer.from(`${tag} `), body, Buffer.from('\r\n')]);
      r.lines++;
      if (!(await write(line))) break;
      if (i % 32 === 31) await new Promise((res) => setImmediate(res));
    }
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
  const s = connect(server.port, '127.0.0.1');
  let out = '';
  s.setEncoding('latin1').on('data', (d: string) => (out += d));
  s.on('error', () => undefined);
  s.write('z1 LOGIN alice secret\r\nz2 SELECT fuzz.mime\r\nz3 UID FETCH 1 (BODY.PEEK[])\r\nz4 LOGOUT\r\n');
  const end = Date.now() + HANG_MS;
  while (!/z4 OK/.test(out) && Date.now() < end) await new Promise((res) => setTimeout(res, 50));
  s.destroy();
  if (!/z3 OK/.test(out)) keep(r.hangs, `fresh session after the run failed: ${out.slice(-300)}`);

  await server.close();
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onRejection);
  process.off('warning', onWarning);
  return r;
}
