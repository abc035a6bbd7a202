/**
 * ensureAptPackages() without apt: an injected runner records the commands and
 * a fake file system says which programs exist.
 */
import { describe, expect, it } from 'vitest';
import { AptInstallError, ensureAptPackages, type AptPackage, type CommandRunner, type RunResult } from './apt.js';

const MBSYNC: AptPackage = { name: 'isync', provides: '/usr/bin/mbsync' };
const NEOMUTT: AptPackage = { name: 'neomutt', provides: '/usr/bin/neomutt' };
const PSQL: AptPackage = { name: 'postgresql', provides: '/usr/lib/postgresql/15/bin/postgres' };
const KNOWN = [MBSYNC, NEOMUTT, PSQL];

interface Fake {
  run: CommandRunner;
  calls: string[][];
  present: (p: string) => Promise<boolean>;
  files: Set<string>;
}

/** `answers` by subcommand ("update" / "install"); a successful install puts the named packages' files on disk. */
function fake(files: string[], answers: { update?: RunResult; install?: RunResult; installCreates?: boolean } = {}): Fake {
  const f: Fake = {
    calls: [],
    files: new Set(files),
    present: async (p) => f.files.has(p),
    run: async (cmd, args, env) => {
      f.calls.push([cmd, ...args]);
      expect(env.DEBIAN_FRONTEND).toBe('noninteractive');
      if (args.includes('update')) return answers.update ?? { code: 0, output: 'Reading package lists...' };
      const res = answers.install ?? { code: 0, output: 'Setting up ...' };
      if (res.code === 0 && answers.installCreates !== false) {
        for (const p of KNOWN) if (args.includes(p.name)) f.files.add(p.provides);
      }
      return res;
    },
  };
  return f;
}

describe('ensureAptPackages', () => {
  it('runs nothing (and needs no root) when every file is there', async () => {
    const f = fake([MBSYNC.provides, NEOMUTT.provides]);
    const r = await ensureAptPackages([MBSYNC, NEOMUTT], { run: f.run, present: f.present, isRoot: false });
    expect(r.installed).toEqual([]);
    expect(f.calls).toEqual([]);
  });

  it('installs only the missing packages by name, after apt-get update, waiting for the dpkg lock', async () => {
    const f = fake([MBSYNC.provides]);
    const r = await ensureAptPackages([MBSYNC, NEOMUTT, PSQL], { run: f.run, present: f.present, isRoot: true, installArgs: ['--no-install-recommends'] });
    expect(r.installed).toEqual(['neomutt', 'postgresql']);
    expect(f.calls).toEqual([
      ['apt-get', '-o', 'DPkg::Lock::Timeout=600', 'update'],
      ['apt-get', '-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '--no-install-recommends', 'neomutt', 'postgresql'],
    ]);
  });

  it('runs apt-get update once per process (per runner)', async () => {
    const f = fake([]);
    await ensureAptPackages([MBSYNC], { run: f.run, present: f.present, isRoot: true });
    await ensureAptPackages([NEOMUTT], { run: f.run, present: f.present, isRoot: true });
    expect(f.calls.filter((c) => c.includes('update')).length).toBe(1);
    expect(f.calls.filter((c) => c.includes('install')).map((c) => c.at(-1))).toEqual(['isync', 'neomutt']);
  });

  it('refuses without root, naming the missing files and the command to run', async () => {
    const f = fake([]);
    const err = await ensureAptPackages([MBSYNC, PSQL], { run: f.run, present: f.present, isRoot: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AptInstallError);
    expect((err as AptInstallError).code).toBe('NOT_ROOT');
    expect((err as Error).message).toContain('apt-get install -y isync postgresql');
    expect((err as Error).message).toContain(PSQL.provides);
    expect(f.calls).toEqual([]);
  });

  it('a failed update is reported with its output and retried by the next call', async () => {
    const f = fake([], { update: { code: 100, output: 'E: Could not get lock /var/lib/apt/lists/lock' } });
    const err = await ensureAptPackages([MBSYNC], { run: f.run, present: f.present, isRoot: true }).catch((e: unknown) => e);
    expect((err as AptInstallError).code).toBe('APT_UPDATE_FAILED');
    expect((err as Error).message).toContain('Could not get lock');
    expect(f.calls.some((c) => c.includes('install'))).toBe(false);
    await ensureAptPackages([MBSYNC], { run: f.run, present: f.present, isRoot: true }).catch(() => undefined);
    expect(f.calls.filter((c) => c.includes('update')).length).toBe(2);
  });

  it('a failed install is reported with its output', async () => {
    const f = fake([], { install: { code: 100, output: 'E: Unable to locate package isync' } });
    const err = await ensureAptPackages([MBSYNC], { run: f.run, present: f.present, isRoot: true }).catch((e: unknown) => e);
    expect((err as AptInstallError).code).toBe('INSTALL_FAILED');
    expect((err as Error).message).toContain('Unable to locate package isync');
  });

  it('an install that "succeeds" without the file is STILL_MISSING', async () => {
    const f = fake([], { installCreates: false });
    const err = await ensureAptPackages([NEOMUTT], { run: f.run, present: f.present, isRoot: true }).catch((e: unknown) => e);
    expect((err as AptInstallError).code).toBe('STILL_MISSING');
    expect((err as Error).message).toContain('/usr/bin/neomutt');
  });

  it('a failed install is forgiven when a parallel suite installed the program meanwhile', async () => {
    const f = fake([], { install: { code: 100, output: 'E: Could not get lock /var/lib/dpkg/lock-frontend' } });
    const run: CommandRunner = async (cmd, args, env) => {
      const r = await f.run(cmd, args, env);
      if (args.includes('install')) f.files.add(MBSYNC.provides);
      return r;
    };
    expect((await ensureAptPackages([MBSYNC], { run, present: f.present, isRoot: true })).installed).toEqual(['isync']);
  });

  it('afterInstall runs after apt whatever its status, before the files are looked for again', async () => {
    const f = fake([], { install: { code: 100, output: 'post-install script failed' } });
    const seen: Array<number | null> = [];
    const r = await ensureAptPackages([PSQL], {
      run: f.run,
      present: f.present,
      isRoot: true,
      afterInstall: async (install) => {
        seen.push(install.code);
        f.files.add(PSQL.provides);
      },
    });
    expect(seen).toEqual([100]);
    expect(r.installed).toEqual(['postgresql']);
  });
});
