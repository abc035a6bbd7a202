/**
 * A real state agent as a child process (`newsfront agent` through tsx), for
 * integration tests: started on a free port, restarted on the same port and
 * data, stopped with SIGTERM (or killed with SIGKILL) by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../harness/inn.js';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

export interface AgentProcess {
  url: string;
  port: number;
  restart(): Promise<void>;
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startAgentProcess(dir: string, tokens: string): Promise<AgentProcess> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokens'), tokens);
  const port = await freePort();
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const p = spawn(process.execPath, ['--import', 'tsx', CLI, 'agent', '--listen', `127.0.0.1:${port}`, '--data', join(dir, 'data'),
      '--tokens', join(dir, 'tokens'), '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = p;
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      p.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('listening ')) resolve();
      });
      p.once('exit', (code) => reject(new Error(`agent exited ${code}: ${err}`)));
      setTimeout(() => reject(new Error(`agent did not start: ${err}`)), 30_000);
    });
  };
  const end = (signal: NodeJS.Signals) => async (): Promise<void> => {
    const p = child;
    child = undefined;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill(signal);
    });
  };
  await start();
  const stop = end('SIGTERM');
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    start,
    stop,
    kill: end('SIGKILL'),
    async restart() {
      await stop();
      await start();
    },
  };
}
