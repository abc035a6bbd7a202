/**
 * A real state agent as a child process (`newsfront agent` through tsx), for
 * tests that kill it or restart it: started on a free loopback port, started
 * again on the same port and data, stopped with SIGTERM or killed with SIGKILL
 * by PID. Its stderr is kept (tail) for error messages.
 *
 *     const agent = await startAgentProcess(dir, `${token} frontend fe1\n`);
 *     agent.url;              // http://127.0.0.1:PORT, for `state`
 *     await agent.kill();     // SIGKILL, resolves once it has exited
 *     await agent.start();    // same port, same data
 *     await agent.stop();     // SIGTERM; idempotent
 *
 * With `{ store: 'postgres://…' }` it keeps flags in PostgreSQL (`--store`)
 * instead of LMDB under `<dir>/data`; several such agents share one database.
 *
 * `start()` resolves once the agent printed `listening `; it rejects if the
 * process exits first or does not listen within START_TIMEOUT_MS (and then
 * kills it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './inn-tools.js';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
/** tsx transpiles on first import; a loaded 2-core box needs the margin. */
const START_TIMEOUT_MS = 60_000;
const STDERR_TAIL_CHARS = 4000;

export interface AgentProcess {
  readonly url: string;
  readonly port: number;
  /** PID of the running process, or null while stopped. */
  readonly pid: number | null;
  /** Start it (again) on the same port and data directory. */
  start(): Promise<void>;
  /** SIGTERM and wait for the exit; no-op when not running. */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit; no-op when not running. */
  kill(): Promise<void>;
  restart(): Promise<void>;
}

/** Write `tokens` (tokens-file text) to `<dir>/tokens` and start the agent with data in `<dir>/data` (or in `opts.store`). */
export async function startAgentProcess(dir: string, tokens: string, opts: { store?: string } = {}): Promise<AgentProcess> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokens'), tokens);
  const port = await freePort();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async (): Promise<void> => {
    if (child) throw new Error('agent process: already running');
    const p = spawn(
      process.execPath,
      [
        '--import', 'tsx', CLI, 'agent', '--listen', `127.0.0.1:${port}`,
        ...(opts.store !== undefined ? ['--store', opts.store] : ['--data', join(dir, 'data')]),
        '--tokens', join(dir, 'tokens'), '--log-level', 'warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = p;
    exited = new Promise((resolve) => p.once('exit', () => resolve()));
    void exited.then(() => {
      if (child === p) child = undefined;
    });
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-STDERR_TAIL_CHARS)));
    let out = '';
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`agent did not listen within ${START_TIMEOUT_MS} ms: ${err}`)), START_TIMEOUT_MS);
        p.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('listening ')) {
            clearTimeout(timer);
            resolve();
          }
        });
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`agent exited before listening (exit ${p.exitCode}): ${err}`));
        });
      });
    } catch (e) {
      p.kill('SIGKILL');
      await exited;
      throw e;
    }
  };
  const end = (signal: NodeJS.Signals) => async (): Promise<void> => {
    const p = child;
    if (!p) return;
    p.kill(signal);
    await exited;
  };
  const stop = end('SIGTERM');
  await start();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get pid() {
      return child?.pid ?? null;
    },
    start,
    stop,
    kill: end('SIGKILL'),
    async restart() {
      await stop();
      await start();
    },
  };
}
