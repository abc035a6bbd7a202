/**
 * The one Debian package installer of the test harness: the INN suites
 * (`install-inn.ts`), the real-client suites (`install-clients.ts`) and later
 * ones (PostgreSQL, HAProxy) name the packages they need and the file each one
 * provides; what is missing gets installed.
 *
 *     await ensureAptPackages([{ name: 'isync', provides: '/usr/bin/mbsync' }]);
 *
 * Contract:
 *  - a package whose `provides` file is executable counts as installed and costs
 *    nothing (no apt, no root needed);
 *  - otherwise root is required (`NOT_ROOT`, naming the command to run by hand);
 *  - `apt-get update` runs at most once per process (per `run`; a failed update is
 *    forgotten, so the next call tries again);
 *  - `DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y
 *    [installArgs] <missing packages>` — apt waits for a dpkg lock held by a suite
 *    installing in parallel;
 *  - `afterInstall` (if given) runs next whatever apt's exit status, for packages
 *    whose maintainer scripts need help (inn2, see install-inn.ts);
 *  - then the files are looked for again: a package still missing is
 *    `INSTALL_FAILED` (apt failed; a parallel suite may still have installed it,
 *    which is why apt's status alone is not decisive) or `STILL_MISSING` (apt said
 *    yes, the file is not there). Every error carries the command's output tail.
 *
 * Throws `AptInstallError` with a stable `code`, so a suite that cannot have what
 * it needs FAILS with a clear message rather than skipping.
 */
import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import type { Logger } from '../../src/util/log.js';

/** apt on a cold cache is slow; a hung apt must still end the test run. */
const APT_TIMEOUT_MS = 15 * 60_000;
/** Seconds apt waits for a dpkg lock held by another suite's install (apt ≥ 1.9). */
const DPKG_LOCK_WAIT_S = 600;
/** Output kept for error messages. */
const OUTPUT_TAIL_CHARS = 20_000;

/** A Debian package and a file that exists exactly when it is installed. */
export interface AptPackage {
  name: string;
  /** Absolute path of an executable the package installs. */
  provides: string;
}

export type AptInstallErrorCode = 'NOT_ROOT' | 'APT_UPDATE_FAILED' | 'CONFIGURE_FAILED' | 'INSTALL_FAILED' | 'STILL_MISSING';

export class AptInstallError extends Error {
  readonly code: AptInstallErrorCode;
  constructor(code: AptInstallErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AptInstallError';
    this.code = code;
  }
}

export interface RunResult {
  code: number | null;
  output: string;
}

/** A user and group to run a command as (PostgreSQL's programs refuse root). */
export interface OsIds {
  uid: number;
  gid: number;
}

/** Runs a command (as `ids` when given); injectable so the logic can be tested without apt. Never rejects on exit status. */
export type CommandRunner = (cmd: string, args: string[], env: NodeJS.ProcessEnv, ids?: OsIds) => Promise<RunResult>;

export interface AptOptions {
  /** Extra `apt-get install` arguments (e.g. `--no-install-recommends`, dpkg conffile options). */
  installArgs?: readonly string[];
  /**
   * Runs after `apt-get install` whatever its exit status (`run` and `env` are the
   * ones apt ran with); may throw (e.g. `CONFIGURE_FAILED`).
   */
  afterInstall?: (install: RunResult, run: CommandRunner, env: NodeJS.ProcessEnv) => Promise<void>;
  logger?: Logger;
  /** Test seams: how commands run, whether we are root, whether a file is there. */
  run?: CommandRunner;
  isRoot?: boolean;
  present?: (path: string) => Promise<boolean>;
}

export interface AptResult {
  /** Names of the packages that were missing and are installed now. */
  installed: string[];
}

/** Run a command, collecting stdout+stderr (tail kept for error messages); SIGKILL after APT_TIMEOUT_MS. */
export const spawnRunner: CommandRunner = (cmd, args, env, ids) =>
  new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], ...(ids ?? {}) });
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

export async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `apt-get update` per runner: the real one is shared by every caller in this process. */
const updates = new WeakMap<CommandRunner, Promise<RunResult>>();

/** Install the packages of `wanted` whose `provides` file is missing (contract in the header). */
export async function ensureAptPackages(wanted: readonly AptPackage[], opts: AptOptions = {}): Promise<AptResult> {
  const run = opts.run ?? spawnRunner;
  const present = opts.present ?? isExecutable;
  const log = opts.logger;
  const missing = async (): Promise<AptPackage[]> => {
    const out: AptPackage[] = [];
    for (const p of wanted) if (!(await present(p.provides))) out.push(p);
    return out;
  };
  const todo = await missing();
  if (todo.length === 0) return { installed: [] };
  const names = todo.map((p) => p.name);
  const files = (ps: AptPackage[]): string => ps.map((p) => p.provides).join(', ');

  const isRoot = opts.isRoot ?? process.getuid?.() === 0;
  if (!isRoot) {
    throw new AptInstallError('NOT_ROOT', `missing ${files(todo)} and not root: run "apt-get install -y ${names.join(' ')}" as root`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const lock = ['-o', `DPkg::Lock::Timeout=${DPKG_LOCK_WAIT_S}`];

  log?.info({ packages: names }, 'apt: packages missing, apt-get update');
  let update = updates.get(run);
  if (!update) updates.set(run, (update = run('apt-get', [...lock, 'update'], env)));
  const up = await update;
  if (up.code !== 0) {
    updates.delete(run);
    throw new AptInstallError('APT_UPDATE_FAILED', `apt-get update failed (exit ${up.code}):\n${up.output}`);
  }
  const inst = await run('apt-get', [...lock, 'install', '-y', ...(opts.installArgs ?? []), ...names], env);
  log?.info({ packages: names, exit: inst.code }, 'apt: apt-get install finished');
  if (opts.afterInstall) await opts.afterInstall(inst, run, env);

  const still = await missing();
  if (still.length > 0) {
    if (inst.code !== 0) {
      throw new AptInstallError('INSTALL_FAILED', `apt-get install ${names.join(' ')} failed (exit ${inst.code}); missing ${files(still)}:\n${inst.output}`);
    }
    throw new AptInstallError('STILL_MISSING', `apt-get install ${names.join(' ')} succeeded but ${files(still)} still missing:\n${inst.output}`);
  }
  return { installed: names };
}
