/**
 * The UID map store the configuration names (`uidmap`, config/README.md):
 * null ⇒ LMDB at `<data>/uidmap.lmdb`; a `postgres://…` URL ⇒ PostgreSQL
 * (migrated at open). The caller owns the store and closes it. Errors are the
 * stores' own (`UidMapError`, code `STORAGE` when the storage cannot be opened).
 */
import { resolve } from 'node:path';
import type { Logger } from '../util/log.js';
import type { FrozenConfig } from './config/schema.js';
import { LmdbUidMapStore, PgUidMapStore, type UidMapStore } from '../uidmap/index.js';

export async function openUidMapStore(config: FrozenConfig, logger: Logger): Promise<UidMapStore> {
  if (config.uidmap !== null) return PgUidMapStore.open({ url: config.uidmap, logger });
  return LmdbUidMapStore.open({ path: resolve(config.data, 'uidmap.lmdb'), logger });
}
