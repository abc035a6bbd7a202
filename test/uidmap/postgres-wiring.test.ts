/**
 * The `uidmap` configuration key: a postgres:// URL puts the UID map of
 * `newsfront ingest` (openExport) and `newsfront serve` (startNewsfront) in
 * PostgreSQL; two servers with their own data directories on one database
 * show an IMAP client the same UIDVALIDITY and UIDs.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, testConfig } from '../../src/app/config/load.js';
import { openExport } from '../../src/app/ingest.js';
import { startNewsfront } from '../../src/app/start.js';
import { openUidMapStore } from '../../src/app/uidmaps.js';
import { silentLogger } from '../../src/util/log.js';
import { LmdbUidMapStore } from '../../src/uidmap/lmdb.js';
import { PgUidMapStore } from '../../src/uidmap/postgres.js';
import { postgresForFile } from '../harness/postgres-suite.js';

const postgres = postgresForFile();
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nf-pg-wiring-'));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
});

async function rows(url: string, text: string): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text)).rows as Record<string, unknown>[];
  } finally {
    await c.end();
  }
}

describe('uidmap configuration', () => {
  it('defaults to LMDB under data, takes a postgres:// URL, refuses other schemes without echoing them', async () => {
    expect(testConfig().uidmap).toBeNull();
    const url = await postgres.server.createDatabase('wiring_cfg');
    const lmdb = await openUidMapStore(testConfig({ data: join(dir, 'cfg') }), silentLogger());
    expect(lmdb).toBeInstanceOf(LmdbUidMapStore);
    await lmdb.close();
    expect(existsSync(join(dir, 'cfg', 'uidmap.lmdb'))).toBe(true);
    const pgStore = await openUidMapStore(testConfig({ uidmap: url }), silentLogger());
    expect(pgStore).toBeInstanceOf(PgUidMapStore);
    await pgStore.close();
    for (const bad of ['mysql://u:secret@h/db', 'not a url secret', 'postgres://']) {
      let err: unknown;
      try {
        testConfig({ uidmap: bad });
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/^config: uidmap: /);
      expect((err as Error).message).not.toContain('secret');
    }
  });

  it('newsfront ingest fills the PostgreSQL map and creates no LMDB map', async () => {
    const url = await postgres.server.createDatabase('wiring_ingest');
    const data = join(dir, 'ingest');
    const ctx = await openExport(testConfig({ archive: 'sample', data, uidmap: url }), silentLogger());
    let articles = 0;
    try {
      expect(ctx.uidmaps).toBeInstanceOf(PgUidMapStore);
      for (const g of ctx.groups.values()) articles += g.uidMap.count();
      expect(articles).toBeGreaterThan(0);
    } finally {
      await ctx.close();
    }
    const names = (await rows(url, 'SELECT name FROM uidmap_mailboxes ORDER BY name')).map((r) => r['name']);
    expect(names).toEqual([...ctx.groups.keys()].sort());
    const [n] = await rows(url, 'SELECT count(*)::int AS n FROM uidmap_entries WHERE message_id IS NOT NULL');
    expect(n!['n']).toBe(articles);
    expect(existsSync(join(data, 'uidmap.lmdb'))).toBe(false);
  });

  it('two servers with their own data directories on one database show the same UIDVALIDITY and UIDs', async () => {
    const url = await postgres.server.createDatabase('wiring_serve');
    const start = (name: string) =>
      startNewsfront(testConfig({ archive: 'sample', data: join(dir, name), uidmap: url, listen: { host: '127.0.0.1', port: 0 } }), silentLogger());
    const a = await start('serve-a');
    const b = await start('serve-b');
    try {
      const view = async (port: number) => {
        const c = new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user: 'anonymous', pass: 'x' }, logger: false });
        await c.connect();
        try {
          const mb = await c.mailboxOpen('sample.discuss', { readOnly: true });
          const uids = (await c.search({ all: true }, { uid: true })) || [];
          return { uidValidity: mb.uidValidity, uids };
        } finally {
          await c.logout();
        }
      };
      const va = await view(a.port);
      const vb = await view(b.port);
      expect(va.uids.length).toBeGreaterThan(0);
      expect(vb).toEqual(va);
      const [mbox] = await rows(url, "SELECT uid_validity::text AS v FROM uidmap_mailboxes WHERE name = 'sample.discuss'");
      expect(String(va.uidValidity)).toBe(mbox!['v']);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
