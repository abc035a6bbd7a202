/**
 * `newsfront db migrate`: the PostgreSQL schemas a configuration uses — the
 * UID map's (`uidmap`) and the flags' (`state`, or `agent.store` for the
 * state agent; one database may hold both) — and applying their missing
 * migrations, as every front-end and agent also does at start.
 */
import type { Logger } from '../util/log.js';
import type { MigrateResult } from '../util/pg-migrate.js';
import type { FrozenConfig } from './config/schema.js';
import { PgUidMapStore } from '../uidmap/index.js';
import { PgFlagStore } from '../stateagent/stores/postgres.js';
import { isPostgresUrl } from './flagstores.js';

export interface SchemaTarget {
  schema: 'uidmap' | 'flags';
  url: string;
}

/** Each PostgreSQL schema `config` names, UID map first; [] when it names none. */
export function postgresSchemas(config: FrozenConfig): SchemaTarget[] {
  const out: SchemaTarget[] = config.uidmap !== null ? [{ schema: 'uidmap', url: config.uidmap }] : [];
  const flags = new Set([isPostgresUrl(config.state) ? config.state : null, config.agent.store]);
  for (const url of flags) if (url !== null) out.push({ schema: 'flags', url });
  return out;
}

/** Applies the missing migrations of one schema. Throws the store's error (UidMapError STORAGE, FlagStoreError UNAVAILABLE). */
export function migrateSchema(t: SchemaTarget, logger: Logger): Promise<MigrateResult> {
  return t.schema === 'uidmap' ? PgUidMapStore.migrate({ url: t.url, logger }) : PgFlagStore.migrate({ url: t.url, logger });
}
