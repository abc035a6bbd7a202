/**
 * Make sure INN2 (Debian package `inn2`) is installed, so the integration suites
 * can start private INN instances (see `inn.ts`). The apt part is `apt.ts`'s
 * (root check, one `apt-get update` per process, clear errors); what is particular
 * to inn2 is the recovery of its post-install script (see
 * /work/shared/NNTP-UPSTREAM.md):
 *
 *   1. `apt-get install -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold
 *      inn2` — allowed to fail: the package's post-install script fails unless
 *      /etc/news/inn.conf has a `domain:` line, and we must not pre-create inn.conf
 *      (that triggers a conffile prompt);
 *   2. copy `/etc/news/inn.conf.dpkg-dist` over `/etc/news/inn.conf` if it exists, make
 *      sure a `domain:` line is present (`domain: localdomain`);
 *   3. `dpkg --configure -a` (same non-interactive options), then verify `innd` exists.
 *
 * Idempotent: when `/usr/lib/news/bin/innd` exists nothing is run. The system INN
 * is never started or configured beyond that; tests only run private instances
 * with their own INNCONF.
 *
 * Throws `AptInstallError` (stable `code`: NOT_ROOT, APT_UPDATE_FAILED,
 * CONFIGURE_FAILED, INSTALL_FAILED, STILL_MISSING) with the failing command's output.
 */
import { access, copyFile, readFile, writeFile } from 'node:fs/promises';
import type { Logger } from '../../src/util/log.js';
import { ensureAptPackages, type CommandRunner, AptInstallError } from './apt.js';

export { AptInstallError, type CommandRunner, type RunResult } from './apt.js';

/** Where Debian's inn2 puts its programs (inn.conf `pathbin`). */
export const INN_BIN_DIR = '/usr/lib/news/bin';
export const INND_PATH = `${INN_BIN_DIR}/innd`;
const INN_CONF = '/etc/news/inn.conf';
const INN_CONF_DIST = '/etc/news/inn.conf.dpkg-dist';
const DPKG_CONF_OPTIONS = ['-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold'];

export interface InnInstallResult {
  /** false when INN was already there and nothing was run. */
  installed: boolean;
  innd: string;
}

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

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Ensure inn.conf exists (from the dpkg-dist copy if there is one) and has a `domain:` line. */
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
  const paths = opts.paths ?? DEFAULT_PATHS;
  const res = await ensureAptPackages([{ name: 'inn2', provides: paths.innd }], {
    installArgs: DPKG_CONF_OPTIONS,
    afterInstall: async (install, run, env) => {
      await fixInnConf(paths, opts.logger);
      const conf = await run('dpkg', ['--configure', '-a', '--force-confdef', '--force-confold'], env);
      if (conf.code !== 0) {
        throw new AptInstallError(
          'CONFIGURE_FAILED',
          `dpkg --configure -a failed (exit ${conf.code}) after installing inn2.\n` +
            `apt-get install output:\n${install.output}\n\ndpkg output:\n${conf.output}`,
        );
      }
    },
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.run ? { run: opts.run } : {}),
    ...(opts.isRoot !== undefined ? { isRoot: opts.isRoot } : {}),
  });
  return { installed: res.installed.length > 0, innd: paths.innd };
}
