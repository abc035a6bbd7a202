/**
 * The INN installer's logic with a scripted apt/dpkg (no packages are touched):
 * idempotence, the post-install recovery recipe, and its error codes.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureInnInstalled, type CommandRunner, type InnPaths } from './install-inn.js';

let dir: string;
let paths: InnPaths;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nf-install-'));
  paths = { innd: join(dir, 'innd'), innConf: join(dir, 'inn.conf'), innConfDist: join(dir, 'inn.conf.dpkg-dist') };
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Script {
  updateExit?: number;
  /** What `apt-get install` leaves behind. */
  installs?: { innd: boolean; dist?: string; conf?: string };
}

/** A fake apt-get/dpkg: dpkg --configure succeeds only if inn.conf has a domain line (as inn2's postinst). */
function fakeApt(script: Script, calls: string[]): CommandRunner {
  return async (cmd, args, env) => {
    calls.push([cmd, ...args].join(' '));
    expect(env['DEBIAN_FRONTEND']).toBe('noninteractive');
    if (cmd === 'apt-get' && args.includes('update')) return { code: script.updateExit ?? 0, output: 'update output' };
    if (cmd === 'apt-get' && args.includes('install')) {
      if (script.installs?.innd) {
        await writeFile(paths.innd, '#!/bin/sh\n');
        await chmod(paths.innd, 0o755);
      }
      if (script.installs?.dist !== undefined) await writeFile(paths.innConfDist, script.installs.dist);
      if (script.installs?.conf !== undefined) await writeFile(paths.innConf, script.installs.conf);
      return { code: 100, output: 'Setting up inn2 ... postinst failed: domain not set' };
    }
    if (cmd === 'dpkg') {
      const conf = await readFile(paths.innConf, 'utf8').catch(() => '');
      return /^domain:/m.test(conf) ? { code: 0, output: '' } : { code: 1, output: 'inn2 postinst: domain missing' };
    }
    return { code: 127, output: `unexpected ${cmd}` };
  };
}

describe('ensureInnInstalled', () => {
  it('does nothing when innd is present', async () => {
    await writeFile(paths.innd, '#!/bin/sh\n');
    await chmod(paths.innd, 0o755);
    const calls: string[] = [];
    expect(await ensureInnInstalled({ paths, run: fakeApt({}, calls), isRoot: true })).toEqual({ installed: false, innd: paths.innd });
    expect(calls).toEqual([]);
  });

  it('recovers from the post-install failure: dist conf copied, domain added, dpkg --configure -a', async () => {
    const calls: string[] = [];
    const res = await ensureInnInstalled({ paths, run: fakeApt({ installs: { innd: true, dist: 'pathhost: x\norganization: y' } }, calls), isRoot: true });
    expect(res).toEqual({ installed: true, innd: paths.innd });
    expect(calls[0]).toMatch(/^apt-get .*update$/);
    expect(calls[1]).toMatch(/^apt-get .*install -y .*--force-confdef.*--force-confold.* inn2$/);
    expect(calls[2]).toMatch(/^dpkg --configure -a/);
    expect(await readFile(paths.innConf, 'utf8')).toBe('pathhost: x\norganization: y\ndomain: localdomain\n');
  });

  it('keeps an existing domain line and does not duplicate it', async () => {
    const calls: string[] = [];
    await ensureInnInstalled({ paths, run: fakeApt({ installs: { innd: true, conf: 'domain: example.org\n' } }, calls), isRoot: true });
    expect(await readFile(paths.innConf, 'utf8')).toBe('domain: example.org\n');
  });

  it('reports each failure with a stable code and the tool output', async () => {
    await expect(ensureInnInstalled({ paths, run: fakeApt({}, []), isRoot: false })).rejects.toMatchObject({ code: 'NOT_ROOT' });
    await expect(ensureInnInstalled({ paths, run: fakeApt({ updateExit: 100 }, []), isRoot: true })).rejects.toMatchObject({ code: 'APT_UPDATE_FAILED', message: expect.stringContaining('update output') });
    // apt "installed" without innd (and said so: exit 100): the install failed, with apt's output
    await expect(ensureInnInstalled({ paths, run: fakeApt({ installs: { innd: false } }, []), isRoot: true })).rejects.toMatchObject({ code: 'INSTALL_FAILED', message: expect.stringContaining('postinst failed') });
    const failingDpkg: CommandRunner = async (cmd, args, env) => (cmd === 'dpkg' ? { code: 2, output: 'dpkg: error processing package inn2' } : fakeApt({ installs: { innd: true } }, [])(cmd, args, env));
    await expect(ensureInnInstalled({ paths, run: failingDpkg, isRoot: true })).rejects.toMatchObject({ code: 'CONFIGURE_FAILED', message: expect.stringContaining('error processing package inn2') });
  });
});
