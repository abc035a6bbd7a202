/**
 * RemoteFlagStore against a real agent, as the remote contract runs (remote.test.ts
 * on an LMDB agent, postgres-wiring.test.ts on a PostgreSQL one).
 */
import { silentLogger } from '../../src/util/log.js';
import type { RunningAgent } from '../../src/stateagent/agent/server.js';
import { RemoteFlagStore } from '../../src/stateagent/stores/remote.js';
import type { FlagStoreHarness } from './contract.js';

/** The front-end token the agents of these tests accept. */
export const FE = 'frontend-token-0123456789';

/** A RemoteFlagStore on `agent` with the FE token (5 s timeout); the caller closes it. */
export function client(agent: RunningAgent): RemoteFlagStore {
  return new RemoteFlagStore({ url: `http://127.0.0.1:${agent.port}`, token: FE, logger: silentLogger(), timeoutMs: 5000 });
}

/**
 * The contract harness: a client on the agent `start` opens; reopen closes both
 * and starts the agent again (on the same data); cleanup closes both, then
 * calls `dispose` to remove the data.
 */
export async function remoteHarness(start: () => Promise<RunningAgent>, dispose: () => Promise<unknown> | void): Promise<FlagStoreHarness> {
  let agent = await start();
  let store = client(agent);
  return {
    store,
    watching: (user) => store.watching(user),
    reopen: async () => {
      await store.close();
      await agent.close();
      agent = await start();
      return (store = client(agent));
    },
    cleanup: async () => {
      await store.close();
      await agent.close();
      await dispose();
    },
  };
}
