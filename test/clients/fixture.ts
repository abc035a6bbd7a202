/**
 * What every real-client suite needs beside the stack (`test/harness/stack.ts`):
 * the client user, the stack options the suites share (`CLIENT_STACK`), a way to
 * run a client program asynchronously (the server runs in the test process and
 * must keep serving, so never spawnSync), and a raw IMAP look at the server's flags.
 *
 *     fx = await startStack({ ...CLIENT_STACK, corpus: { seed, groups, perGroup }, state: 'local' });
 */
import { spawn } from 'node:child_process';
import type { StackOptions } from '../harness/stack.js';
import { RawClient, tagged } from '../imap/raw-client.js';

export const USER = 'reader';
export const PASS = 'pw-reader';
/**
 * A client program that hangs is killed after this long — below vitest's 60 s
 * test timeout, so the test fails with the program's output rather than a bare timeout.
 */
export const CLIENT_TIMEOUT_MS = 45_000;

/** The client user, and new articles on INN seen within a second. */
export const CLIENT_STACK = Object.freeze({ users: { [USER]: PASS }, config: { pollIntervalMs: 1000 } }) satisfies StackOptions;

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
