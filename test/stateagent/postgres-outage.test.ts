/**
 * PgFlagStore while PostgreSQL is stopped and after it is back (a private
 * server of its own, stopped and started with pg_ctl): a STORE is answered
 * NO [UNAVAILABLE] (FlagStoreError UNAVAILABLE, nothing claimed stored) and a
 * SELECT in a new session NO [UNAVAILABLE] worded as a read,
 * articles are still read, and once the server is back the same store
 * objects work again without a process restart; another store's watcher is
 * told to resync (it may have missed changes) and then hears changes again.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/util/log.js';
import { FlagStoreError, type ChangeEvent } from '../../src/stateagent/flagstore.js';
import { PgFlagStore } from '../../src/stateagent/stores/postgres.js';
import { findPostgresBin, postgresIds, startPostgres, type PostgresServer } from '../harness/postgres.js';
import { FixtureBackend } from '../imap/fixture-backend.js';
import { startImap, type TestServer } from '../imap/harness.js';
import { RawClient, tagged } from '../imap/raw-client.js';

const article = (n: number): Buffer => Buffer.from(`Subject: article ${n}\r\nFrom: A <a@example.org>\r\n\r\nBody ${n}.\r\n`, 'latin1');

/** pg_ctl on the harness's cluster, as the user the harness runs it as. */
async function pgCtl(server: PostgresServer, args: string[]): Promise<void> {
  const bin = await findPostgresBin();
  if (!bin) throw new Error('no pg_ctl');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG')) env[k] = v;
  const ids = process.getuid?.() === 0 ? postgresIds() : {};
  const child = spawn(join(bin.binDir, 'pg_ctl'), ['-D', join(server.dir, 'data'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], ...ids });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`pg_ctl ${args[0]} failed (${code}): ${out}`);
}

async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('PgFlagStore when PostgreSQL stops and comes back', () => {
  let server: PostgresServer;
  let a: PgFlagStore;
  let b: PgFlagStore;
  let imap: TestServer;
  let c: RawClient;
  beforeAll(async () => {
    server = await startPostgres({ durable: false });
    a = await PgFlagStore.open({ url: server.url, logger: silentLogger() });
    b = await PgFlagStore.open({ url: server.url, logger: silentLogger() });
    const backend = new FixtureBackend();
    for (const n of [1, 2, 3]) backend.add('g.x', n, article(n));
    imap = await startImap(backend, { flagStoreFor: () => a, persistentFlags: true });
    c = await RawClient.connect(imap.port);
    expect(tagged(await c.cmd('L', 'LOGIN alice secret'), 'L')).toMatch(/^L OK/);
  }, 600_000);
  afterAll(async () => {
    c?.close();
    await imap?.close();
    await a?.close();
    await b?.close();
    await server?.stop();
  }, 120_000);

  it('refuses changes while stopped, serves articles, and recovers after the restart', async () => {
    const heard: ChangeEvent[] = [];
    const stop = b.watch('alice', (e) => heard.push(e));
    expect(tagged(await c.cmd('S', 'SELECT g.x'), 'S')).toMatch(/^S OK/);
    expect(tagged(await c.cmd('s1', 'STORE 1 +FLAGS (\\Seen)'), 's1')).toBe('s1 OK STORE completed');
    await until(() => heard.length === 1, 'first change');
    expect(b.listening).toBe(true);

    await pgCtl(server, ['stop', '-m', 'fast', '-w', '-t', '60']);
    const err = await a.update({ user: 'alice', mailbox: 'g.x', uidValidity: 1000 }, [2], 'add', ['\\Flagged']).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(FlagStoreError);
    expect((err as FlagStoreError).code).toBe('UNAVAILABLE');
    expect(tagged(await c.cmd('s2', 'STORE 2 +FLAGS (\\Flagged)'), 's2')).toBe('s2 NO [UNAVAILABLE] Flag store unavailable; nothing was changed');
    // a new session cannot read its flags: the answer is about a read, not a change
    const fresh = await RawClient.connect(imap.port);
    try {
      expect(tagged(await fresh.cmd('L', 'LOGIN alice secret'), 'L')).toMatch(/^L OK/);
      expect(tagged(await fresh.cmd('S', 'SELECT g.x'), 'S')).toBe('S NO [UNAVAILABLE] Flag store unavailable; try again later');
    } finally {
      fresh.close();
    }
    const body = await c.cmd('f', 'UID FETCH 1:3 (BODY.PEEK[])');
    expect(tagged(body, 'f')).toBe('f OK UID FETCH completed');
    expect(body).toContain('Body 3.');
    await until(() => !b.listening, 'the listener to notice');

    await pgCtl(server, ['restart', '-w', '-t', '60', '-l', join(server.dir, 'server.log')]);
    // the same store objects, no reopen: the pool reconnects on the next call
    expect(tagged(await c.cmd('s3', 'STORE 2 +FLAGS (\\Flagged)'), 's3')).toBe('s3 OK STORE completed');
    const v = await b.view({ user: 'alice', mailbox: 'g.x', uidValidity: 1000 }, 1, 3);
    expect(v.has(1, '\\Seen') && v.has(2, '\\Flagged')).toBe(true);
    // b's listener comes back (back-off ≤ 5 s), tells its watchers to resync, then hears changes again
    await until(() => b.listening, 'the listener to reconnect');
    await until(() => heard.some((e) => e.resync), 'resync');
    const n = heard.length;
    expect(tagged(await c.cmd('s4', 'STORE 3 +FLAGS (\\Answered)'), 's4')).toBe('s4 OK STORE completed');
    await until(() => heard.length > n, 'a change after the restart');
    expect(heard[heard.length - 1]!.changes.map((x) => [x.uid, x.flags])).toEqual([[3, ['\\Answered']]]);
    stop();
  }, 120_000);
});
