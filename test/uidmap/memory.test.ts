import { MemoryUidMapStore } from '../../src/uidmap/memory.js';
import { uidMapContract } from './contract.js';
import { pipelinedContract } from './pipelined-contract.js';

uidMapContract('MemoryUidMapStore', async (opts) => {
  const store = new MemoryUidMapStore(opts?.now ? { now: opts.now } : {});
  return { store, cleanup: () => store.close() };
}, { persistent: false });

pipelinedContract('MemoryUidMapStore', async () => {
  const store = new MemoryUidMapStore({});
  return { store, cleanup: () => store.close() };
});
