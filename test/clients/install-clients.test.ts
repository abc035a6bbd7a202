/**
 * ensureClients() without apt: an injected runner records the commands and a
 * fake file system says which programs exist.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { CLIENT_PROGRAMS, ClientInstallError, ensureClients, resetAptUpdateMemo, type CommandRunner, type RunResult } from '../harness/install-clients.js';

interface Fake {
  run: CommandRunner;
  calls: string[][];
  present: (p: string) => Promise<boolean>;
  files: Set<string>;
}

/** `answers` by subcommand ("update" / "install"); `install` puts the named packages' programs on disk when it succeeds. */
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
        for (const a of args) if (a in CLIENT_PROGRAMS) f.files.add(CLIENT_PROGRAMS[a as keyof typeof CLIENT_PROGRAMS]);
      }
      return res;
    },
  };
  return f;
}

describe('ensureClients', () => {
  beforeEach(() => resetAptUpdateMemo());

  it('runs nothing when every program is there', async () => {
    const f = fake(['/usr/bin/mbsync', '/usr/bin/offlineimap']);
    const r = await ensureClients(['isync', 'offlineimap3'], { run: f.run, present: f.present, isRoot: true });
    expect(r.installed).toEqual([]);
    expect(r.programs).toEqual({ isync: '/usr/bin/mbsync', offlineimap3: '/usr/bin/offlineimap' });
    expect(f.calls).toEqual([]);
  });

  it('installs only the missing packages, after one apt-get update', async () => {
    const f = fake(['/usr/bin/mbsync']);
    const r = await ensureClients(['isync', 'neomutt', 'offlineimap3'], { run: f.run, present: f.present, isRoot: true });
    expect(r.installed).toEqual(['neomutt', 'offlineimap3']);
    expect(f.calls.length).toBe(2);
    expect(f.calls[0]).toContain('update');
    expect(f.calls[1]!.slice(-2)).toEqual(['neomutt', 'offlineimap3']);
    expect(f.calls[1]).toContain('-y');
    expect(f.calls[1]).not.toContain('isync');
  });

  it('runs apt-get update once per process', async () => {
    const f = fake([]);
    await ensureClients(['isync'], { run: f.run, present: f.present, isRoot: true });
    f.files.clear();
    await ensureClients(['neomutt'], { run: f.run, present: f.present, isRoot: true });
    expect(f.calls.filter((c) => c.includes('update')).length).toBe(1);
    expect(f.calls.filter((c) => c.includes('install')).length).toBe(2);
  });

  it('refuses without root, naming the command to run', async () => {
    const f = fake([]);
    const err = await ensureClients(['isync'], { run: f.run, present: f.present, isRoot: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientInstallError);
    expect((err as ClientInstallError).code).toBe('NOT_ROOT');
    expect((err as Error).message).toContain('apt-get install -y isync');
    expect(f.calls).toEqual([]);
  });

  it('a failed update is reported with its output and retried by the next call', async () => {
    const f = fake([], { update: { code: 100, output: 'E: Could not get lock /var/lib/apt/lists/lock' } });
    const err = await ensureClients(['isync'], { run: f.run, present: f.present, isRoot: true }).catch((e: unknown) => e);
    expect((err as ClientInstallError).code).toBe('APT_UPDATE_FAILED');
    expect((err as Error).message).toContain('Could not get lock');
    await ensureClients(['isync'], { run: f.run, present: f.present, isRoot: true }).catch(() => undefined);
    expect(f.calls.filter((c) => c.includes('update')).length).toBe(2);
  });

  it('a failed install is reported with its output', async () => {
    const f = fake([], { install: { code: 100, output: 'E: Unable to locate package isync' } });
    const err = await ensureClients(['isync'], { run: f.run, present: f.present, isRoot: true }).catch((e: unknown) => e);
    expect((err as ClientInstallError).code).toBe('INSTALL_FAILED');
    expect((err as Error).message).toContain('Unable to locate package isync');
  });

  it('an install that "succeeds" without the program is STILL_MISSING', async () => {
    const f = fake([], { installCreates: false });
    const err = await ensureClients(['neomutt'], { run: f.run, present: f.present, isRoot: true }).catch((e: unknown) => e);
    expect((err as ClientInstallError).code).toBe('STILL_MISSING');
    expect((err as Error).message).toContain('/usr/bin/neomutt');
  });

  it('a failed install is forgiven when a parallel suite installed the program meanwhile', async () => {
    const f = fake([], { install: { code: 100, output: 'E: Could not get lock /var/lib/dpkg/lock-frontend' } });
    const run: CommandRunner = async (cmd, args, env) => {
      const r = await f.run(cmd, args, env);
      if (args.includes('install')) f.files.add('/usr/bin/mbsync');
      return r;
    };
    const r = await ensureClients(['isync'], { run, present: f.present, isRoot: true });
    expect(r.installed).toEqual(['isync']);
  });
});
