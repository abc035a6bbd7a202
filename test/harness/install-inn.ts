/**
 * Make sure INN2 (Debian package `inn2`) is installed, so the integration suites
 * can start private INN instances (see `inn.ts`).
 *
 * Idempotent: when `/usr/lib/news/bin/innd` exists nothing is run. Otherwise the
 * recipe verified on these machines (see /work/shared/NNTP-UPSTREAM.md):
 *
 *   1. `apt-get update`
 *   2. `DEBIAN_FRONTEND=noninteractive apt-get install -y -o Dpkg::Options::=--force-confdef
 *       -o Dpkg::Options::=--force-confold inn2` — allowed to fail: the package's
 *      post-install script fails unless /etc/news/inn.conf has a `domain:` line, and we
 *      must not pre-create inn.conf (that triggers a conffile prompt);
 *   3. copy `/etc/news/inn.conf.dpkg-dist` over `/etc/news/inn.conf` if it exists, make
 *      sure a `domain:` line is present (`domain: localdomain`);
 *   4. `dpkg --configure -a` (same non-interactive options), then verify `innd` exists.
 *
 * The system INN is never started or configured beyond that; tests only run private
 * instances with their own INNCONF.
 *
 * Throws `InnInstallError` (stable `code`) with the failing command's output.
 */
import { spawn } from 'node:child_process';
import { access, copyFile, readFile, writeFile } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import type { Logger } from '../../src/util/log.js';

/** Where Debian's inn2 puts its programs (inn.conf `pathbin`). */
export const INN_BIN_DIR = '/usr/lib/news/bin';
export const INND_PATH = `${INN_BIN_DIR}/innd`;
const INN_CONF = '/etc/news/inn.conf';
const INN_CONF_DIST = '/etc/news/inn.conf.dpkg-dist';
/** apt can be slow on a cold cache; a hung apt must still end the test run. */
const APT_TIMEOUT_MS = 15 * 60_000;

export type InnInstallErrorCode = 'NOT_ROOT' | 'APT_UPDATE_FAILED' | 'CONFIGURE_FAILED' | 'STILL_MISSING';

export class InnInstallError extends Error {
  readonly code: InnInstallErrorCode;
  constructor(code: InnInstallErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InnInstallError';
    this.code = code;
  }
}

export interface InnInstallResult {
  /** false when INN was already there and nothing was run. */
  installed: boolean;
  innd: string;
}

export interface RunResult {
  code: number | null;
  output: string;
}

/** Runs a command; injectable so the install logic can be tested without apt. */
export type CommandRunner = (cmd: string, args: string[], env: NodeJS.ProcessEnv) => Promise<RunResult>;

/** File locations; injectable for tests. */
export interface InnPaths {
  innd: string;
  innConf: string;
  innConfDist: string;
}

export const DEFAULT_PATHS: InnPaths = Object.freeze({ innd: INND_PATH, innConf: INN_CONF, innConfDist: INN_CONF_DIST });

export interface EnsureInnOptions {
  logger?: Logger;
  /** Test seams: where the files are, how commands run, whether we are root. */
  paths?: InnPaths;
  run?: CommandRunner;
  isRoot?: boolean;
}

/** Run a command, collecting stdout+stderr (tail kept for error messages). Never throws on exit status. */
const spawnRunner: CommandRunner = (cmd, args, env) => {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-20_000);
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
};

async function exists(path: string, mode: number = fsConstants.F_OK): Promise<boolean> {
  try {
    await access(path, mode);
    return true;
  } catch {
    return false;
  }
}

/** Ensure /etc/news/inn.conf exists (from the dpkg-dist copy if needed) and has a `domain:` line. */
async function fixInnConf(paths: InnPaths, log?: Logger): Promise<void> {
  if (await exists(paths.innConfDist)) {
    await copyFile(paths.innConfDist, paths.innConf);
    log?.info({ from: paths.innConfDist }, 'install-inn: restored inn.conf from dpkg-dist');
  }
  let text = '';
  try {
    text = await readFile(paths.innConf, 'utf8');
  } catch {
    // No inn.conf at all: a file with only the domain line lets postinst finish.
  }
  if (!/^domain:/m.test(text)) {
    const sep = text === '' || text.endsWith('\n') ? '' : '\n';
    await writeFile(paths.innConf, `${text}${sep}domain: localdomain\n`);
    log?.info('install-inn: added "domain: localdomain" to inn.conf');
  }
}

/**
 * Install INN2 if `innd` is missing. Safe to call from every test file and from
 * vitest globalSetup; concurrent callers in one process share one attempt.
 */
export function ensureInnInstalled(opts: EnsureInnOptions = {}): Promise<InnInstallResult> {
  if (opts.paths || opts.run) return doEnsure(opts);
  inFlight ??= doEnsure(opts).finally(() => {
    inFlight = undefined;
  });
  return inFlight;
}
let inFlight: Promise<InnInstallResult> | undefined;

async function doEnsure(opts: EnsureInnOptions): Promise<InnInstallResult> {
  const log = opts.logger;
  const paths = opts.paths ?? DEFAULT_PATHS;
  const run = opts.run ?? spawnRunner;
  if (await exists(paths.innd, fsConstants.X_OK)) return { installed: false, innd: paths.innd };
  const isRoot = opts.isRoot ?? (typeof process.getuid !== 'function' || process.getuid() === 0);
  if (!isRoot) {
    throw new InnInstallError('NOT_ROOT', `INN2 is not installed (${paths.innd} missing) and installing it needs root`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const dpkgOpts = ['-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold'];
  log?.info('install-inn: innd missing, running apt-get update');
  const upd = await run('apt-get', ['update'], env);
  if (upd.code !== 0) {
    throw new InnInstallError('APT_UPDATE_FAILED', `apt-get update failed (exit ${upd.code}):\n${upd.output}`);
  }
  log?.info('install-inn: apt-get install inn2 (a post-install failure here is expected)');
  const inst = await run('apt-get', ['install', '-y', ...dpkgOpts, 'inn2'], env);
  log?.info({ exit: inst.code }, 'install-inn: apt-get install finished');
  await fixInnConf(paths, log);
  const conf = await run('dpkg', ['--configure', '-a', '--force-confdef', '--force-confold'], env);
  if (conf.code !== 0) {
    throw new InnInstallError(
      'CONFIGURE_FAILED',
      `dpkg --configure -a failed (exit ${conf.code}) after installing inn2.\n` +
        `apt-get install output:\n${inst.output}\n\ndpkg output:\n${conf.output}`,
    );
  }
  if (!(await exists(paths.innd, fsConstants.X_OK))) {
    throw new InnInstallError(
      'STILL_MISSING',
      `inn2 install finished but ${paths.innd} is missing.\napt-get install output:\n${inst.output}`,
    );
  }
  return { installed: true, innd: paths.innd };
}
