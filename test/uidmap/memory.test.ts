import { MemoryUidMapStore } from '../../src/uidmap/memory.js';
import { uidMapContract } from './contract.js';

uidMapContract('MemoryUidMapStore', async (opts) => {
  const store = new MemoryUidMapStore(opts?.now ? { now: opts.now } : {});
  return { store, cleanup: () => store.close() };
}, { persistent: false });
