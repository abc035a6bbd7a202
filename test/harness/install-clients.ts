/**
 * Make sure the real IMAP clients the client suites drive are installed
 * (Debian packages), so `test/integration/clients-*.test.ts` can run them.
 *
 *   await ensureClients(['isync', 'offlineimap3', 'neomutt', 'fetchmail']);
 *
 * Idempotent: a package whose program is already on disk costs nothing. For the
 * missing ones: `apt-get update` (once per process) and
 * `DEBIAN_FRONTEND=noninteractive apt-get install -y <packages>`. apt waits for a
 * dpkg lock held by a parallel suite (`DPkg::Lock::Timeout`); if the install
 * still fails, the programs are looked for again (the other suite may have
 * installed them) before giving up.
 *
 * Throws `ClientInstallError` (stable `code`) with the failing command's output
 * tail, so a suite whose client cannot be had FAILS with a clear message rather
 * than skipping.
 */
import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';

/** The Debian packages the client suites use and the program each provides. */
export const CLIENT_PROGRAMS = Object.freeze({
  isync: '/usr/bin/mbsync',
  offlineimap3: '/usr/bin/offlineimap',
  neomutt: '/usr/bin/neomutt',
  fetchmail: '/usr/bin/fetchmail',
  /** `script` (util-linux): runs neomutt under a pseudo-terminal. Essential on Debian, listed for clarity. */
  bsdutils: '/usr/bin/script',
} as const);

export type ClientPackage = keyof typeof CLIENT_PROGRAMS;

/** apt on a cold cache is slow; a hung apt must still end the test run. */
const APT_TIMEOUT_MS = 15 * 60_000;
/** Seconds apt waits for a dpkg lock held by another suite's install (apt ≥ 1.9). */
const DPKG_LOCK_WAIT_S = 600;
/** Output kept for error messages. */
const OUTPUT_TAIL_CHARS = 20_000;

export type ClientInstallErrorCode = 'NOT_ROOT' | 'APT_UPDATE_FAILED' | 'INSTALL_FAILED' | 'STILL_MISSING';

export class ClientInstallError extends Error {
  readonly code: ClientInstallErrorCode;
  constructor(code: ClientInstallErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClientInstallError';
    this.code = code;
  }
}

export interface RunResult {
  code: number | null;
  output: string;
}

/** Runs a command; injectable so the logic can be tested without apt. */
export type CommandRunner = (cmd: string, args: string[], env: NodeJS.ProcessEnv) => Promise<RunResult>;

export interface EnsureClientsOptions {
  /** Test seams. */
  run?: CommandRunner;
  isRoot?: boolean;
  /** Is this program present? (default: executable file check) */
  present?: (path: string) => Promise<boolean>;
}

export interface EnsureClientsResult {
  /** Packages that were missing and have been installed by this call. */
  installed: ClientPackage[];
  /** Program path per requested package. */
  programs: Record<string, string>;
}

const spawnRunner: CommandRunner = (cmd, args, env) =>
  new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), APT_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `apt-get update` runs at most once per process (a second suite in the same worker reuses it). */
let updated: Promise<RunResult> | undefined;

/** Forget that apt-get update ran (tests of this module only). */
export function resetAptUpdateMemo(): void {
  updated = undefined;
}

export async function ensureClients(packages: readonly ClientPackage[], opts: EnsureClientsOptions = {}): Promise<EnsureClientsResult> {
  const run = opts.run ?? spawnRunner;
  const present = opts.present ?? isExecutable;
  const programs: Record<string, string> = {};
  for (const p of packages) programs[p] = CLIENT_PROGRAMS[p];
  const missing = async (): Promise<ClientPackage[]> => {
    const out: ClientPackage[] = [];
    for (const p of packages) if (!(await present(CLIENT_PROGRAMS[p]))) out.push(p);
    return out;
  };

  const todo = await missing();
  if (todo.length === 0) return { installed: [], programs };

  const isRoot = opts.isRoot ?? process.getuid?.() === 0;
  if (!isRoot) {
    throw new ClientInstallError('NOT_ROOT', `IMAP client programs missing (${todo.map((p) => CLIENT_PROGRAMS[p]).join(', ')}) and not root: run "apt-get install -y ${todo.join(' ')}" as root`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const lock = ['-o', `DPkg::Lock::Timeout=${DPKG_LOCK_WAIT_S}`];

  updated ??= run('apt-get', [...lock, 'update'], env);
  const up = await updated;
  if (up.code !== 0) {
    updated = undefined; // let a later call try again
    throw new ClientInstallError('APT_UPDATE_FAILED', `apt-get update failed (exit ${up.code}):\n${up.output}`);
  }

  const inst = await run('apt-get', [...lock, 'install', '-y', '--no-install-recommends', ...todo], env);
  const still = await missing();
  if (still.length > 0) {
    if (inst.code !== 0) {
      throw new ClientInstallError('INSTALL_FAILED', `apt-get install ${todo.join(' ')} failed (exit ${inst.code}):\n${inst.output}`);
    }
    throw new ClientInstallError('STILL_MISSING', `apt-get install ${todo.join(' ')} succeeded but ${still.map((p) => CLIENT_PROGRAMS[p]).join(', ')} still missing:\n${inst.output}`);
  }
  return { installed: todo, programs };
}
