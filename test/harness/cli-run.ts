/**
 * Runs the newsfront CLI from source (`node --import tsx src/cli.ts ARGS`) to
 * its end and collects what it printed. The child's environment is PATH plus
 * `env`, so no NEWSFRONT_* setting of the test process leaks in.
 *
 * `killAfterMs` ends a child that started serving instead of exiting
 * (SIGKILL; `code` is then null).
 */
import { spawn } from 'node:child_process';

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

export function runCli(args: readonly string[], opts: { env?: Record<string, string>; killAfterMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      env: { PATH: process.env['PATH'] ?? '', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = opts.killAfterMs === undefined ? undefined : setTimeout(() => p.kill('SIGKILL'), opts.killAfterMs);
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}
