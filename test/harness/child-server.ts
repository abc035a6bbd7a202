/**
 * Runs newsfront in a child process (serve-child.ts) so a crash is observed
 * as the child's death instead of killing the test runner:
 *
 *     const s = await spawnServer({ upstreams: [...], data, users, listen: { host: '127.0.0.1', port: 0 } });
 *     s.port; s.crashed; s.exitCode; s.lastStats;   // STATS: IMAP connections and RSS, once a second
 *     await s.stop();                                 // closes stdin: clean close, waits for exit
 *
 * Uses async `spawn` (the parent's event loop keeps running). `stop()`
 * kills the child with SIGKILL if it has not exited 15 s after stdin closed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ConfigInput } from '../../src/app/config/schema.js';

const ENTRY = fileURLToPath(new URL('./serve-child.ts', import.meta.url));
/** Start-up bound on a loaded 2-core box (tsx transpiles on first import). */
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

export interface ChildServer {
  readonly port: number;
  readonly pid: number;
  /** `CRASH …` line printed by the child, if it crashed. */
  readonly crashed: string | null;
  /** Exit status once exited (null while running). */
  readonly exitCode: number | null;
  /** Latest STATS line: IMAP connections open and RSS bytes. */
  readonly lastStats: { connections: number; rss: number } | null;
  /** Resolves with the exit status when the child exits. */
  readonly exited: Promise<number | null>;
  stop(): Promise<number | null>;
  /** SIGKILL (for a child known to be stuck); resolves with the exit status. */
  kill(): Promise<number | null>;
}

export async function spawnServer(config: ConfigInput): Promise<ChildServer> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', ENTRY, JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let crashed: string | null = null;
  let exitCode: number | null = null;
  let lastStats: { connections: number; rss: number } | null = null;
  let out = '';
  let onPort: ((p: number) => void) | null = null;
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code, signal) => {
      exitCode = code ?? (signal ? 128 : null);
      resolve(exitCode);
    });
  });
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    out += d;
    let i: number;
    while ((i = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, i);
      out = out.slice(i + 1);
      if (line.startsWith('PORT ')) onPort?.(Number(line.slice(5)));
      else if (line.startsWith('CRASH ')) crashed = line;
      else if (line.startsWith('STATS ')) {
        const [, c, r] = line.split(' ');
        lastStats = { connections: Number(c), rss: Number(r) };
      }
    }
  });
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('serve-child: no PORT line in time')), START_TIMEOUT_MS);
    onPort = (p) => {
      clearTimeout(t);
      resolve(p);
    };
    void exited.then((code) => {
      clearTimeout(t);
      reject(new Error(`serve-child exited (${code}) before listening${crashed ? `: ${crashed}` : ''}`));
    });
  });
  return {
    port,
    pid: child.pid!,
    get crashed() {
      return crashed;
    },
    get exitCode() {
      return exitCode;
    },
    get lastStats() {
      return lastStats;
    },
    exited,
    async stop() {
      if (exitCode !== null) return exitCode;
      child.stdin!.end();
      const t = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
    async kill() {
      if (exitCode !== null) return exitCode;
      child.kill('SIGKILL');
      return exited;
    },
  };
}
