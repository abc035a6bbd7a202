/**
 * What every real-client suite needs: a private INN holding a small corpus,
 * newsfront in front of it with a persistent flag store (`state: 'local'`, or
 * a remote state agent), a user, a way to run a client program asynchronously
 * (the server runs in the test process and must keep serving, so never
 * spawnSync), and a raw IMAP look at the server's flags.
 *
 * `startClientFixture()` starts everything; `fixture.close()` stops newsfront,
 * the agent (if any) and INN (`ctlinnd shutdown`) and removes the temp dir.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInn, type InnServer } from '../harness/inn.js';
import { articlesByGroup, generateCorpus, type CorpusArticle } from '../corpus/generate.js';
import { startNewsfront, type RunningNewsfront } from '../../src/app/start.js';
import { testConfig } from '../../src/app/config/load.js';
import { silentLogger } from '../../src/util/log.js';
import { startAgent, type RunningAgent } from '../../src/stateagent/agent/server.js';
import { Tokens } from '../../src/stateagent/agent/auth.js';
import { RawClient, tagged } from '../imap/raw-client.js';

export const USER = 'reader';
export const PASS = 'pw-reader';
/**
 * A client program that hangs is killed after this long — below vitest's 60 s
 * test timeout, so the test fails with the program's output rather than a bare timeout.
 */
export const CLIENT_TIMEOUT_MS = 45_000;

export interface ClientFixtureOptions {
  groups: string[];
  seed: number;
  perGroup: number;
  /** 'local' (default) or 'agent': a state agent started here, newsfront pointed at it. */
  state?: 'local' | 'agent';
  /** Add one article of at least this many bytes (multipart with a base64 attachment) to groups[0]. */
  largeArticleBytes?: number;
  /**
   * Also serve TLS: a self-signed certificate for 127.0.0.1 (made with openssl,
   * written to `<dir>/cert.pem`), STARTTLS on the plain port and an IMAPS
   * listener (`nf.tlsPort`).
   */
  tls?: boolean;
}

export interface ClientFixture {
  dir: string;
  inn: InnServer;
  nf: RunningNewsfront;
  agent?: RunningAgent;
  corpus: CorpusArticle[];
  /** Articles per group in article-number order (UID = index + 1). */
  byGroup: Map<string, CorpusArticle[]>;
  /** Stop newsfront and start it again on the same port with the same data (UID maps, flags). */
  restartNewsfront(): Promise<void>;
  close(): Promise<void>;
}

export async function startClientFixture(opts: ClientFixtureOptions): Promise<ClientFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'nf-clients-'));
  const corpus = generateCorpus({
    seed: opts.seed,
    groups: opts.groups,
    perGroup: opts.perGroup,
    ...(opts.largeArticleBytes !== undefined ? { largeArticleBytes: opts.largeArticleBytes } : {}),
  });
  const byGroup = articlesByGroup(corpus);
  writeFileSync(join(dir, 'users'), `${USER}:{PLAIN}${PASS}\n`);
  let inn: InnServer | undefined;
  let agent: RunningAgent | undefined;
  let nf: RunningNewsfront | undefined;
  let config: (port: number) => ReturnType<typeof testConfig>;
  const close = async (): Promise<void> => {
    await nf?.close();
    await agent?.close();
    await inn?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    inn = await startInn({ groups: opts.groups, articles: corpus.map((a) => a.bytes) });
    let state = 'local';
    let stateToken: string | null = null;
    if (opts.state === 'agent') {
      const token = 'frontend-token-for-client-tests-0123456789';
      const tokens = new Tokens();
      tokens.add(token, { kind: 'frontend', name: 'nf-test' });
      agent = await startAgent({ host: '127.0.0.1', port: 0, dataDir: join(dir, 'agent'), tokens, logger: silentLogger() });
      state = `http://127.0.0.1:${agent.port}`;
      stateToken = token;
    }
    const innPort = inn.port;
    let tls: { cert: string; key: string; listen: { host: string; port: number } } | null = null;
    if (opts.tls) {
      tls = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem'), listen: { host: '127.0.0.1', port: 0 } };
      const r = await runProgram('openssl', [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', tls.key, '-out', tls.cert,
      ]);
      if (r.status !== 0) throw new Error(`openssl req failed: ${describeRun(r)}`);
    }
    config = (port) =>
      testConfig({
        upstreams: [{ url: `nntp://127.0.0.1:${innPort}` }],
        data: join(dir, 'data'),
        listen: { host: '127.0.0.1', port },
        users: join(dir, 'users'),
        state,
        stateToken,
        tls,
        pollIntervalMs: 1000,
      });
    nf = await startNewsfront(config(0), silentLogger());
  } catch (err) {
    await close();
    throw err;
  }
  const fx: ClientFixture = {
    dir,
    inn,
    nf,
    ...(agent ? { agent } : {}),
    corpus,
    byGroup,
    restartNewsfront: async () => {
      const port = fx.nf.port;
      await fx.nf.close();
      nf = undefined;
      nf = await startNewsfront(config(port), silentLogger());
      fx.nf = nf;
    },
    close,
  };
  return fx;
}

export interface ProgramResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Run a program asynchronously (stdin closed unless `input` is given), collect
 * its output, SIGKILL it after `timeoutMs`. Never throws on a non-zero exit.
 */
export function runProgram(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; timeoutMs?: number } = {},
): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? CLIENT_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

/** One line summary of a run for assertion messages. */
export function describeRun(r: ProgramResult): string {
  return `exit ${r.status}${r.signal ? ` (${r.signal})` : ''}\n--- stdout ---\n${r.stdout.slice(-4000)}\n--- stderr ---\n${r.stderr.slice(-4000)}`;
}

/** Log in over a raw connection as the test user. Caller closes. */
export async function imapLogin(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  const r = await c.cmd('L', `LOGIN ${USER} ${PASS}`);
  if (!/^L OK/.test(tagged(r, 'L'))) throw new Error(`login failed: ${r}`);
  return c;
}

/** Flags per UID of a mailbox as the server holds them (EXAMINE: changes nothing). */
export async function serverFlags(port: number, mailbox: string): Promise<Map<number, string[]>> {
  const c = await imapLogin(port);
  try {
    await c.cmd('E', `EXAMINE ${mailbox}`);
    const r = await c.cmd('F', 'UID FETCH 1:* (FLAGS)');
    const out = new Map<number, string[]>();
    for (const m of r.matchAll(/\* \d+ FETCH \((?=[^\r\n]*UID (\d+))(?=[^\r\n]*FLAGS \(([^)]*)\))/g)) {
      out.set(Number(m[1]), m[2]!.split(' ').filter((f) => f !== ''));
    }
    return out;
  } finally {
    c.close();
  }
}

/** `UID STORE uid +FLAGS.SILENT (flags)` as the test user. */
export async function storeFlags(port: number, mailbox: string, uid: number, flags: string): Promise<void> {
  const c = await imapLogin(port);
  try {
    await c.cmd('S', `SELECT ${mailbox}`);
    const r = await c.cmd('T', `UID STORE ${uid} +FLAGS.SILENT (${flags})`);
    if (!/^T OK/.test(tagged(r, 'T'))) throw new Error(`STORE failed: ${r}`);
  } finally {
    c.close();
  }
}

/** Poll `STATUS mailbox (UIDNEXT)` until it reaches `uidNext` (new articles seen by newsfront). */
export async function waitForUidNext(port: number, mailbox: string, uidNext: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const c = await imapLogin(port);
  try {
    for (let i = 0; ; i++) {
      const r = await c.cmd(`s${i}`, `STATUS ${mailbox} (UIDNEXT)`);
      const m = /UIDNEXT (\d+)/.exec(r);
      if (m && Number(m[1]) >= uidNext) return;
      if (Date.now() > deadline) throw new Error(`UIDNEXT of ${mailbox} did not reach ${uidNext}: ${r}`);
      await new Promise((res) => setTimeout(res, 250));
    }
  } finally {
    c.close();
  }
}
