/**
 * The FlagStore contract against PgFlagStore on a private PostgreSQL
 * (test/harness/postgres.ts), one fresh database per test; "reopen" closes
 * the store and opens a new one on the same database. PostgreSQL-only
 * behaviour (several stores on one database, round trips, outage) is in
 * postgres-shared.test.ts.
 */
import { silentLogger } from '../../src/util/log.js';
import { PgFlagStore } from '../../src/stateagent/stores/postgres.js';
import { postgresForFile } from '../harness/postgres-suite.js';
import { flagStoreContract } from './contract.js';

const postgres = postgresForFile();

flagStoreContract('postgres', async () => {
  const url = await postgres.server.createDatabase();
  const open = () => PgFlagStore.open({ url, logger: silentLogger() });
  let store = await open();
  return {
    store,
    reopen: async () => {
      await store.close();
      return (store = await open());
    },
    cleanup: async () => {
      await store.close();
      await postgres.server.dropDatabase(new URL(url).pathname.slice(1));
    },
  };
}, { persistent: true, watches: true, multiUser: true, validates: true, propertyRuns: 15 });
