/**
 * A connection the server ends while a pooled client is checked out between
 * two statements (what `pg_ctl stop -m fast` does to every session at once)
 * must fail that transaction, not the process (src/util/pg-pool.ts). Found by
 * test/integration/pg-restart.test.ts: a front-end died with an uncaught
 * "terminating connection due to administrator command". Here the backend of
 * a transaction is terminated while the transaction's caller awaits between
 * statements, for the flag store's and the UID map's pools; the transaction
 * rejects with the store's UNAVAILABLE / STORAGE error and the store works on.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/util/log.js';
import { FlagStoreError } from '../../src/stateagent/flagstore.js';
import { PgDb } from '../../src/stateagent/stores/postgres-db.js';
import { PgUidMapStore } from '../../src/uidmap/postgres.js';
import { UidMapError } from '../../src/uidmap/errors.js';
import { postgresForFile } from '../harness/postgres-suite.js';

const postgres = postgresForFile();

type Query = (text: string, values?: unknown[]) => Promise<unknown[][]>;

/** Inside a transaction: end this connection's backend, and wait until its FATAL message has surely been read. */
async function endOwnBackend(q: Query): Promise<void> {
  const pid = Number((await q('SELECT pg_backend_pid()'))[0]![0]);
  await postgres.server.admin('SELECT pg_terminate_backend($1)', [pid]);
  for (let i = 0; i < 200; i++) {
    const r = await postgres.server.admin('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
    if (r.rowCount === 0) break;
    await new Promise((res) => setTimeout(res, 10));
  }
  // the backend sent FATAL before it exited: a few turns of the event loop deliver it to the idle client
  await new Promise((res) => setTimeout(res, 100));
}

describe('a connection ended under a checked-out client', () => {
  it('flag store pool: the transaction fails UNAVAILABLE, the process and the pool live on', async () => {
    const db = await PgDb.open({ url: await postgres.server.createDatabase(), logger: silentLogger() });
    try {
      const err = await db.tx('test', async (q) => {
        await endOwnBackend(q);
        await q('SELECT 1');
      }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(FlagStoreError);
      expect((err as FlagStoreError).code).toBe('UNAVAILABLE');
      expect(await db.query('again', 'SELECT 41 + 1')).toEqual([[42]]);
    } finally {
      await db.close(silentLogger());
    }
  });

  it('UID map pool: the transaction fails STORAGE, the store works on', async () => {
    const store = await PgUidMapStore.open({ url: await postgres.server.createDatabase(), logger: silentLogger() });
    try {
      const err = await store.tx('test', async (q) => {
        await endOwnBackend(q);
        await q('SELECT 1');
      }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(UidMapError);
      expect((err as UidMapError).code).toBe('STORAGE');
      const map = await store.open('g.x');
      await map.assign([{ messageId: '<a@x>', upstream: 'nntp://u', group: 'g.x', number: 1 }], true);
      expect(map.uidOf('<a@x>')).toBe(1);
    } finally {
      await store.close();
    }
  });
});
