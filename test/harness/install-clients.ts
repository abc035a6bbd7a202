/**
 * Make sure the real IMAP clients the client suites drive are installed
 * (Debian packages), so `test/integration/clients-*.test.ts` can run them.
 *
 *   await ensureClients(['isync', 'offlineimap3', 'neomutt', 'fetchmail']);
 *
 * Idempotent: a package whose program is already on disk costs nothing. The
 * missing ones are installed by `apt.ts` (root check, one `apt-get update` per
 * process, `apt-get install -y --no-install-recommends`, waiting for a dpkg lock
 * held by a parallel suite; a failed install is forgiven if the programs are
 * there afterwards).
 *
 * Throws `AptInstallError` (stable `code`) with the failing command's output
 * tail, so a suite whose client cannot be had FAILS with a clear message rather
 * than skipping.
 */
import { ensureAptPackages, type CommandRunner } from './apt.js';

export { AptInstallError, type CommandRunner, type RunResult } from './apt.js';

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

export async function ensureClients(packages: readonly ClientPackage[], opts: EnsureClientsOptions = {}): Promise<EnsureClientsResult> {
  const programs: Record<string, string> = {};
  for (const p of packages) programs[p] = CLIENT_PROGRAMS[p];
  const res = await ensureAptPackages(
    packages.map((name) => ({ name, provides: CLIENT_PROGRAMS[name] })),
    { ...opts, installArgs: ['--no-install-recommends'] },
  );
  return { installed: res.installed as ClientPackage[], programs };
}
