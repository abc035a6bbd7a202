import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/util/log.js';
import type { FlagStore } from '../../src/stateagent/flagstore.js';
import { LmdbFlagStore } from '../../src/stateagent/stores/local.js';
import { flagStoreContract } from './contract.js';

flagStoreContract('lmdb', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nf-flags-'));
  const open = () => LmdbFlagStore.open({ path: join(dir, 'state', 'flags.lmdb'), logger: silentLogger() }); // a file path, as serve uses
  let store: FlagStore = await open();
  return {
    store,
    reopen: async () => {
      await store.close();
      return (store = await open());
    },
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}, { persistent: true, watches: true, multiUser: true, validates: true, propertyRuns: 15 });
