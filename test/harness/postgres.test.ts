/**
 * The private PostgreSQL harness: the installer's logic with a scripted apt
 * (no packages touched), and one real server started and stopped.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensurePostgresInstalled, findPostgresBin, startPostgres, type CommandRunner } from './postgres.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nf-pg-install-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fakeVersion(version: string, programs: string[] = ['initdb', 'pg_ctl']): Promise<void> {
  const bin = join(dir, version, 'bin');
  await mkdir(bin, { recursive: true });
  for (const p of programs) {
    await writeFile(join(bin, p), '#!/bin/sh\n');
    await chmod(join(bin, p), 0o755);
  }
}

function fakeApt(calls: string[], opts: { updateExit?: number; installs?: string; installExit?: number } = {}): CommandRunner {
  return async (cmd, args, env) => {
    calls.push([cmd, ...args.filter((a) => !a.startsWith('DPkg::') && a !== '-o')].join(' '));
    expect(env['DEBIAN_FRONTEND']).toBe('noninteractive');
    if (args.includes('update')) return { code: opts.updateExit ?? 0, output: 'update output' };
    if (opts.installs !== undefined) await fakeVersion(opts.installs);
    return { code: opts.installExit ?? 0, output: 'install output' };
  };
}

describe('ensurePostgresInstalled', () => {
  it('does nothing when a server version is present, and picks the highest complete one', async () => {
    await fakeVersion('13');
    await fakeVersion('15');
    await fakeVersion('16', ['pg_ctl']); // incomplete
    await mkdir(join(dir, 'not-a-version'));
    const calls: string[] = [];
    const r = await ensurePostgresInstalled({ libDir: dir, run: fakeApt(calls), isRoot: true });
    expect(r).toEqual({ installed: false, binDir: join(dir, '15', 'bin'), version: '15' });
    expect(calls).toEqual([]);
  });

  it('installs the postgresql package when missing', async () => {
    const calls: string[] = [];
    const r = await ensurePostgresInstalled({ libDir: dir, run: fakeApt(calls, { installs: '17' }), isRoot: true });
    expect(r).toEqual({ installed: true, binDir: join(dir, '17', 'bin'), version: '17' });
    expect(calls).toEqual(['apt-get update', 'apt-get install -y --no-install-recommends postgresql']);
  });

  it('fails with a stable code: not root, apt failing, or still missing after apt', async () => {
    const calls: string[] = [];
    const codeOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e: { code: string }) => e.code);
    expect(await codeOf(ensurePostgresInstalled({ libDir: dir, run: fakeApt(calls), isRoot: false }))).toBe('NOT_ROOT');
    expect(calls).toEqual([]);
    expect(await codeOf(ensurePostgresInstalled({ libDir: dir, run: fakeApt(calls, { updateExit: 100 }), isRoot: true }))).toBe('APT_UPDATE_FAILED');
    expect(await codeOf(ensurePostgresInstalled({ libDir: dir, run: fakeApt(calls, { installExit: 100 }), isRoot: true }))).toBe('INSTALL_FAILED');
    expect(await codeOf(ensurePostgresInstalled({ libDir: dir, run: fakeApt(calls), isRoot: true }))).toBe('STILL_MISSING');
    expect(await findPostgresBin(join(dir, 'nowhere'))).toBeUndefined();
  });
});

describe('startPostgres', () => {
  it('serves a password-protected database on loopback until stop(), then leaves nothing behind', async () => {
    const server = await startPostgres({ durable: false, user: 'tester', database: 'things' });
    let stopped = false;
    try {
      expect(server.url).toMatch(new RegExp(`^postgres://tester:[0-9a-f]{24}@127\\.0\\.0\\.1:${server.port}/things$`));
      const c = new pg.Client({ connectionString: server.url });
      await c.connect();
      const r = await c.query('SELECT current_user AS u, current_database() AS d, current_setting($1) AS fsync', ['fsync']);
      expect(r.rows[0]).toEqual({ u: 'tester', d: 'things', fsync: 'off' });
      await c.end();
      const refused = new pg.Client({ connectionString: server.url.replace(`:${server.password}@`, ':nope@') });
      await expect(refused.connect()).rejects.toThrow(/password authentication failed/);
      const other = await server.createDatabase('other');
      const c2 = new pg.Client({ connectionString: other });
      await c2.connect();
      await c2.query('CREATE TABLE t (x int)'); // the role owns the new database
      await c2.end();
      await server.dropDatabase('other');
      expect((await server.admin('SELECT 1 FROM pg_database WHERE datname = $1', ['other'])).rowCount).toBe(0);
      await server.stop();
      stopped = true;
      expect(existsSync(server.dir)).toBe(false);
      const after = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 5000 });
      await expect(after.connect()).rejects.toThrow();
    } finally {
      if (!stopped) await server.stop();
    }
  });
});
