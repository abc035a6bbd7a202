/**
 * The store behind the state agent and how it is chosen: LMDB under the
 * agent's data directory (one agent), or PostgreSQL (`agent.store`), where
 * several agents behind one address serve the same users and each one's change
 * feed (feed.ts) hears the others' changes by LISTEN/NOTIFY.
 *
 * `AgentStore` is what the routes use of a store: the FlagStore calls plus the
 * run-based ones (no per-UID lists). LMDB answers reads synchronously and
 * PostgreSQL asynchronously, so results are `T | Promise<T>` and callers await.
 */
import { join } from 'node:path';
import type { Logger } from '../../util/log.js';
import type { Run } from '../../util/rangeset.js';
import type { FlagKey, FlagOp } from '../flagstore.js';
import { LmdbFlagStore, type RunUpdate } from '../stores/local.js';
import type { MailboxFlags, RunChange } from '../stores/mailbox-state.js';
import { PgFlagStore } from '../stores/postgres.js';
import type { RunChangeEvent } from '../stores/watchers.js';

type Maybe<T> = T | Promise<T>;

export interface AgentStore {
  flagsOf(key: FlagKey): Maybe<MailboxFlags>;
  updateRuns(key: FlagKey, runs: readonly Run[], op: FlagOp, flags: readonly string[], unchangedSince?: number): Promise<RunUpdate>;
  changesRuns(key: FlagKey, since: number): Maybe<{ highestModseq: number; keywords: string[]; changes: RunChange[] }>;
  keysOf(user: string): Maybe<Array<{ mailbox: string; uidValidity: number; highestModseq: number }>>;
  subscriptions(user: string): Promise<string[] | null>;
  setSubscribed(user: string, mailbox: string, subscribed: boolean): Promise<void>;
  setSubscriptions(user: string, mailboxes: readonly string[] | null): Promise<void>;
  watchRuns(user: string, fn: (e: RunChangeEvent) => void): () => void;
  setSeen(items: ReadonlyArray<{ key: FlagKey; runs: readonly Run[] }>, opts?: { defer?: boolean }): Promise<RunChangeEvent[]>;
  notify(events: readonly RunChangeEvent[]): Maybe<void>;
  notifyResync(user: string): Maybe<void>;
  close(): Promise<void>;
}

/** LMDB at `<dataDir>/flags`, or PostgreSQL at `store` when given. Throws FlagStoreError UNAVAILABLE. */
export async function openAgentStore(opts: { dataDir?: string | null; store?: string | null; logger: Logger }): Promise<AgentStore> {
  if (opts.store) return PgFlagStore.open({ url: opts.store, logger: opts.logger });
  if (!opts.dataDir) throw new Error('state agent: a data directory or a store URL is required');
  return LmdbFlagStore.open({ path: join(opts.dataDir, 'flags'), logger: opts.logger });
}
