import { SessionFlagStore } from '../../src/stateagent/stores/session.js';
import { flagStoreContract } from './contract.js';

flagStoreContract('session', async () => {
  const store = new SessionFlagStore();
  return { store, cleanup: () => store.close() };
}, { persistent: false, watches: false, multiUser: false, validates: false, propertyRuns: 60 });
