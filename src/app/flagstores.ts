/**
 * Which FlagStore a session gets (config `state`):
 * - `session`: a fresh session-only store per login (client-held model);
 * - `local`: one LMDB store under `<data>/flags.lmdb`, shared by all sessions;
 * - `http(s)://…`: the remote state agent, shared by all sessions;
 * - `postgres://…`: PostgreSQL, shared by all sessions and by every front-end
 *   on the same database (changes reach the others by LISTEN/NOTIFY).
 * Anonymous sessions always get session-only flags: they have no identity to keep state for.
 */
import type { Logger } from '../util/log.js';
import type { FrozenConfig } from './config/schema.js';
import type { FlagStore } from '../stateagent/flagstore.js';
import { SessionFlagStore } from '../stateagent/stores/session.js';
import { LmdbFlagStore } from '../stateagent/stores/local.js';
import { RemoteFlagStore } from '../stateagent/stores/remote.js';
import { PgFlagStore } from '../stateagent/stores/postgres.js';
import { resolve } from 'node:path';

export interface FlagStores {
  /** True when logged-in users get durable flags (CONDSTORE, QRESYNC and ACL are offered). */
  readonly persistent: boolean;
  forUser(user: string): FlagStore;
  close(): Promise<void>;
}

export const ANONYMOUS = 'anonymous';

export async function openFlagStores(config: FrozenConfig, logger: Logger): Promise<FlagStores> {
  if (config.state === 'session') {
    return { persistent: false, forUser: () => new SessionFlagStore(), close: async () => undefined };
  }
  const shared = await openShared(config, logger);
  return {
    persistent: true,
    forUser: (user) => (user === ANONYMOUS ? new SessionFlagStore() : shared),
    close: () => shared.close(),
  };
}

/** True when `state` names a PostgreSQL database (postgres:// or postgresql://). */
export function isPostgresUrl(state: string): boolean {
  return /^postgres(ql)?:\/\//i.test(state);
}

async function openShared(config: FrozenConfig, logger: Logger): Promise<FlagStore> {
  if (config.state === 'local') return LmdbFlagStore.open({ path: resolve(config.data, 'flags.lmdb'), logger });
  if (isPostgresUrl(config.state)) return PgFlagStore.open({ url: config.state, logger });
  if (!config.stateToken) throw new Error('config: stateToken: required with a state agent URL');
  return new RemoteFlagStore({ url: config.state, token: config.stateToken, logger });
}
