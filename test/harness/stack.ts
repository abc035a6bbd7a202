/**
 * The one fixture that starts a test stack: a private INN holding a generated
 * corpus (or no INN: the embedded sample archive is served), newsfront in front
 * of it (in this process or in a child process), optionally a counting relay
 * between them, a state agent (in this process or as a killable child), a users
 * file and a self-signed TLS certificate — all under one temp dir.
 *
 *     const stack = await startStack({ corpus: { seed: 1, groups: ['a.b'], perGroup: 20 }, state: 'local' });
 *     stack.nf.port;  stack.inn;  stack.byGroup.get('a.b');     // alice / secret by default
 *     await stack.restartFrontend();                             // same port, same data
 *     const other = await stack.spawn({ pollIntervalMs: 1000 }); // one more front-end, a child process
 *     await stack.close();                                       // everything below, INN by `ctlinnd shutdown`
 *
 * Contract:
 *  - `startStack` resolves once everything listens (INN has filed the corpus); if
 *    any part fails to start, what was started is stopped and the error rethrown;
 *  - every front-end started through the stack (`nf`, `serve`, `spawn`) uses
 *    `config()` — the same upstream, data directory, users, state and TLS — plus
 *    the caller's overlay, and is stopped by `close()`; so are INNs from `addInn`;
 *  - `close()` stops front-ends, then the agent, the relay and every INN, then
 *    removes the temp dir; it tries every step and throws the first error after;
 *    calling it twice is harmless;
 *  - getters of parts that were not asked for (`inn` without `corpus`, `relay`,
 *    `agent`, `agentProcess`, `nf` while stopped) throw, naming the option.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startNewsfront, type RunningNewsfront } from '../../src/app/start.js';
import { testConfig } from '../../src/app/config/load.js';
import type { ConfigInput } from '../../src/app/config/schema.js';
import { silentLogger } from '../../src/util/log.js';
import { startAgent, type RunningAgent } from '../../src/stateagent/agent/server.js';
import { Tokens } from '../../src/stateagent/agent/auth.js';
import { articlesByGroup, generateCorpus, type CorpusArticle, type CorpusOptions } from '../corpus/generate.js';
import { startInn, type InnServer, type StartInnOptions } from './inn.js';
import { startRelay, type Relay } from './relay.js';
import { spawnServer, type ChildServer } from './child-server.js';
import { startAgentProcess, type AgentProcess } from './agent-process.js';

/** Where the stack's own front-end (`nf`) runs; 'none' starts none (use `serve` / `spawn`). */
export type FrontendMode = 'in-process' | 'child' | 'none';
/** `session` (client-held), `local` (LMDB in the front-end), a state agent in this process, or one in a child process. */
export type StateMode = 'session' | 'local' | 'agent' | 'agent-process';

/** `stack.nf` by mode: in this process its internals can be read; a child's crash is seen as its death. */
export type FrontendOf<M extends FrontendMode> = M extends 'child' ? ChildServer : M extends 'in-process' ? RunningNewsfront : never;

export interface StackOptions<M extends FrontendMode = 'in-process'> {
  /** Start INN with this generated corpus (groups = `corpus.groups`). Without it newsfront serves the embedded sample archive. */
  corpus?: CorpusOptions;
  /** Put a counting TCP relay (`relay.ts`) between newsfront and INN; needs `corpus`. */
  relay?: boolean;
  /** Users and passwords for the users file (`{PLAIN}`). Default `{ alice: 'secret' }`; null: no users file. */
  users?: Readonly<Record<string, string>> | null;
  /** Default 'session'. */
  state?: StateMode;
  /** Default 'in-process'. */
  frontend?: M;
  /** A self-signed certificate for 127.0.0.1 (openssl, `<dir>/cert.pem`): STARTTLS on the port and an IMAPS listener (`tlsPort`). */
  tls?: boolean;
  /** More config for every front-end (e.g. `{ pollIntervalMs: 1000 }`). */
  config?: ConfigInput;
}

export interface Stack<M extends FrontendMode = 'in-process'> {
  /** Temp dir holding users, data, agent data and certificate; removed by close(). */
  readonly dir: string;
  readonly inn: InnServer;
  /** The generated articles in injection order ([] without `corpus`). */
  readonly corpus: CorpusArticle[];
  /** Articles per group in article-number order: UID = index + 1. */
  readonly byGroup: Map<string, CorpusArticle[]>;
  readonly relay: Relay;
  /** The in-process agent (`state: 'agent'`). */
  readonly agent: RunningAgent;
  /** The agent child process (`state: 'agent-process'`): kill, start, restart. */
  readonly agentProcess: AgentProcess;
  /** The front-end token the agent accepts. */
  readonly agentToken: string;
  /** The stack's own front-end; throws while it is stopped (or with frontend 'none'). */
  readonly nf: FrontendOf<M>;
  /** The config input every front-end of the stack gets, with `overlay` on top (shallow). */
  config(overlay?: ConfigInput): ConfigInput;
  /** Start `nf` (after stopFrontend); port 0 unless the overlay says otherwise. */
  startFrontend(overlay?: ConfigInput): Promise<FrontendOf<M>>;
  /** Stop `nf` (a child: closes its stdin, waits for the exit). */
  stopFrontend(): Promise<void>;
  /** Stop `nf` and start it again on the same port(s) with the same data; `overlay` may change the config. */
  restartFrontend(overlay?: ConfigInput): Promise<FrontendOf<M>>;
  /** One more front-end in this process. */
  serve(overlay?: ConfigInput): Promise<RunningNewsfront>;
  /** One more front-end in a child process (`child-server.ts`). */
  spawn(overlay?: ConfigInput): Promise<ChildServer>;
  /** One more private INN, stopped by close(). */
  addInn(opts: StartInnOptions): Promise<InnServer>;
  close(): Promise<void>;
}

export const DEFAULT_USERS: Readonly<Record<string, string>> = Object.freeze({ alice: 'secret' });
const AGENT_TOKEN = 'stack-frontend-token-0123456789';

const run = promisify(execFile);

/** A self-signed certificate for 127.0.0.1 (2 days), written to `<dir>/cert.pem` and `<dir>/key.pem`. */
export async function selfSignedCert(dir: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert]);
  return { cert, key };
}

/** Both kinds of front-end behind one close. */
interface Running {
  port: number;
  tlsPort: number | undefined;
  close(): Promise<unknown>;
}
const inProcess = (nf: RunningNewsfront): Running => ({ port: nf.port, tlsPort: nf.tlsPort, close: () => nf.close() });
const child = (nf: ChildServer): Running => ({ port: nf.port, tlsPort: undefined, close: () => nf.stop() });

export async function startStack<M extends FrontendMode = 'in-process'>(opts: StackOptions<M> = {}): Promise<Stack<M>> {
  const mode: FrontendMode = opts.frontend ?? 'in-process';
  const dir = mkdtempSync(join(tmpdir(), 'nf-stack-'));
  const corpus = opts.corpus ? generateCorpus(opts.corpus) : [];
  const byGroup = articlesByGroup(corpus);
  const inns: InnServer[] = [];
  const frontends = new Set<Running>();
  let relay: Relay | undefined;
  let agent: RunningAgent | undefined;
  let agentProcess: AgentProcess | undefined;
  let tls: { cert: string; key: string } | undefined;
  let nf: { handle: FrontendOf<M>; running: Running } | undefined;
  let closed = false;

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    const errors: unknown[] = [];
    const attempt = async (fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    };
    for (const f of frontends) await attempt(() => f.close());
    frontends.clear();
    nf = undefined;
    if (agent) await attempt(() => agent!.close());
    if (agentProcess) await attempt(() => agentProcess!.stop());
    if (relay) await attempt(() => relay!.close());
    for (const inn of inns) await attempt(() => inn.stop());
    rmSync(dir, { recursive: true, force: true });
    if (errors.length > 0) throw errors[0];
  };

  const config = (overlay: ConfigInput = {}): ConfigInput => {
    const upstreamPort = relay?.port ?? inns[0]?.port;
    const state = opts.state ?? 'session';
    return {
      ...(upstreamPort !== undefined ? { upstreams: [{ url: `nntp://127.0.0.1:${upstreamPort}` }] } : {}),
      data: join(dir, 'data'),
      listen: { host: '127.0.0.1', port: 0 },
      ...(opts.users !== null ? { users: join(dir, 'users') } : {}),
      ...(state === 'local' ? { state: 'local' } : {}),
      ...(state === 'agent' ? { state: `http://127.0.0.1:${agent!.port}`, stateToken: AGENT_TOKEN } : {}),
      ...(state === 'agent-process' ? { state: agentProcess!.url, stateToken: AGENT_TOKEN } : {}),
      ...(tls ? { tls: { ...tls, listen: { host: '127.0.0.1', port: 0 } } } : {}),
      ...opts.config,
      ...overlay,
    };
  };
  const serve = async (overlay?: ConfigInput): Promise<RunningNewsfront> => {
    const s = await startNewsfront(testConfig(config(overlay)), silentLogger());
    frontends.add(inProcess(s));
    return s;
  };
  const spawn = async (overlay?: ConfigInput): Promise<ChildServer> => {
    const s = await spawnServer(config(overlay));
    frontends.add(child(s));
    return s;
  };
  const startFrontend = async (overlay?: ConfigInput): Promise<FrontendOf<M>> => {
    if (mode === 'none') throw new Error('stack: started with frontend "none"; use serve() or spawn()');
    if (nf) throw new Error('stack: the front-end is running; stopFrontend() first');
    const handle = (mode === 'child' ? await spawnServer(config(overlay)) : await startNewsfront(testConfig(config(overlay)), silentLogger())) as FrontendOf<M>;
    const running = mode === 'child' ? child(handle as ChildServer) : inProcess(handle as RunningNewsfront);
    frontends.add(running);
    nf = { handle, running };
    return handle;
  };
  const stopFrontend = async (): Promise<void> => {
    const cur = nf;
    if (!cur) return;
    nf = undefined;
    frontends.delete(cur.running);
    await cur.running.close();
  };
  const restartFrontend = async (overlay: ConfigInput = {}): Promise<FrontendOf<M>> => {
    const cur = nf?.running;
    if (!cur) throw new Error('stack: no front-end running to restart');
    await stopFrontend();
    const base = config(overlay);
    const samePorts: ConfigInput = { listen: { host: '127.0.0.1', port: cur.port } };
    if (base.tls && cur.tlsPort !== undefined) samePorts.tls = { ...base.tls, listen: { host: '127.0.0.1', port: cur.tlsPort } };
    return startFrontend({ ...samePorts, ...overlay });
  };

  try {
    if (opts.users !== null) {
      const users = opts.users ?? DEFAULT_USERS;
      writeFileSync(join(dir, 'users'), Object.entries(users).map(([u, p]) => `${u}:{PLAIN}${p}\n`).join(''));
    }
    if (opts.corpus) inns.push(await startInn({ groups: opts.corpus.groups, articles: corpus.map((a) => a.bytes) }));
    if (opts.relay) {
      if (!inns[0]) throw new Error('stack: relay needs corpus (an INN to relay to)');
      relay = await startRelay(inns[0].port);
    }
    if (opts.state === 'agent') {
      const tokens = new Tokens();
      tokens.add(AGENT_TOKEN, { kind: 'frontend', name: 'stack' });
      agent = await startAgent({ host: '127.0.0.1', port: 0, dataDir: join(dir, 'agent'), tokens, logger: silentLogger() });
    }
    if (opts.state === 'agent-process') agentProcess = await startAgentProcess(join(dir, 'agent'), `${AGENT_TOKEN} frontend stack\n`);
    if (opts.tls) tls = await selfSignedCert(dir);
    if (mode !== 'none') await startFrontend();
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }

  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`stack: no ${what}`);
    return v;
  };
  return {
    dir,
    corpus,
    byGroup,
    agentToken: AGENT_TOKEN,
    get inn() {
      return need(inns[0], 'INN (start the stack with corpus)');
    },
    get relay() {
      return need(relay, 'relay (start the stack with relay: true)');
    },
    get agent() {
      return need(agent, "in-process agent (start the stack with state: 'agent')");
    },
    get agentProcess() {
      return need(agentProcess, "agent process (start the stack with state: 'agent-process')");
    },
    get nf() {
      return need(nf, 'front-end running').handle;
    },
    config,
    startFrontend,
    stopFrontend,
    restartFrontend,
    serve,
    spawn,
    async addInn(o: StartInnOptions) {
      const inn = await startInn(o);
      inns.push(inn);
      return inn;
    },
    close,
  };
}
