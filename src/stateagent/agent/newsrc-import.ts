/**
 * `.newsrc` import and export for the agent's routes (docs/agent-api.md):
 * the work of a big file without holding the event loop (issue 12 #11).
 *
 * Import: at most IMPORTS_AT_ONCE run at once (ImportGate; the body is read
 * only when a turn comes). The file is parsed and checked whole first,
 * yielding every IMPORT_BATCH_GROUPS groups (limits.ts bounds its size,
 * groups and ranges), so a bad line stores nothing. Then \Seen is set
 * in batches of IMPORT_BATCH_GROUPS groups / IMPORT_BATCH_RANGES ranges, one
 * transaction each, with a turn of the event loop between them: other
 * requests are answered meanwhile, and memory holds the parsed file and one
 * batch. Watchers hear of the changes once all batches are stored: one event
 * per changed mailbox, or one `resync` beyond IMPORT_EVENTS_MAX mailboxes.
 * Subscriptions are written last. If storage fails midway (503), the batches
 * before stay; importing the same file again gives the same result.
 *
 * Export reads the user's mailboxes in the same batches, yielding between.
 */
import type { FlagKey } from '../flagstore.js';
import { FlagStoreError } from '../flagstore.js';
import type { RunChangeEvent } from '../stores/watchers.js';
import type { AgentStore } from './store.js';
import type { Run } from '../../util/rangeset.js';
import { formatNewsrc, newsrcGroups, type NewsrcGroup } from '../newsrc.js';
import { HttpError } from './http.js';
import {
  IMPORT_BATCH_GROUPS, IMPORT_BATCH_RANGES, IMPORT_EVENTS_MAX, IMPORTS_AT_ONCE, IMPORTS_WAITING, MAX_SUBSCRIPTIONS,
} from '../limits.js';

export interface ImportResult {
  imported: string[];
  skipped: string[];
  subscribed: string[];
}

/** Let the event loop answer other requests (and run timers) before going on. */
function yieldTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Imports running at once (IMPORTS_AT_ONCE) and waiting (IMPORTS_WAITING),
 * one gate per agent. `run` waits for a turn, or throws HttpError 429 when
 * too many wait already.
 */
export class ImportGate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= IMPORTS_AT_ONCE) {
      if (this.waiting.length >= IMPORTS_WAITING) {
        throw new HttpError(429, 'BUSY', `${IMPORTS_AT_ONCE + IMPORTS_WAITING} .newsrc imports are running or waiting; retry later`, { 'retry-after': '2' });
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else this.running++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next(); // the turn passes on: `running` stays
      else this.running--;
    }
  }
}

/** `newsrcGroups` with a turn of the event loop every IMPORT_BATCH_GROUPS groups (errors as it). */
export async function parseNewsrcYielding(text: string): Promise<NewsrcGroup[]> {
  const out: NewsrcGroup[] = [];
  for (const g of newsrcGroups(text)) {
    if (out.push(g) % IMPORT_BATCH_GROUPS === 0) await yieldTurn();
  }
  return out;
}

/** The latest UIDVALIDITY per mailbox the user has flags for (a Map: names are data). */
export async function latestKeys(store: AgentStore, user: string): Promise<Map<string, number>> {
  const latest = new Map<string, number>();
  for (const k of await store.keysOf(user)) latest.set(k.mailbox, Math.max(latest.get(k.mailbox) ?? 0, k.uidValidity));
  return latest;
}

/**
 * Import parsed `groups` for `user`. UIDVALIDITY per group: `map`, else
 * `all`, else the latest the agent has (groups with none are skipped).
 * Throws FlagStoreError INVALID (nothing stored) if the subscriptions would
 * exceed MAX_SUBSCRIPTIONS; UNAVAILABLE if storage fails.
 */
export async function importNewsrc(
  store: AgentStore, user: string, groups: readonly NewsrcGroup[], map: ReadonlyMap<string, number>, all: number | undefined,
): Promise<ImportResult> {
  let latest: Map<string, number> | undefined;
  const imported: string[] = [];
  const skipped: string[] = [];
  const items: Array<{ key: FlagKey; runs: readonly Run[] }> = [];
  for (const g of groups) {
    let v = map.get(g.group) ?? all;
    if (v === undefined) v = (latest ??= await latestKeys(store, user)).get(g.group);
    if (v === undefined) {
      skipped.push(g.group);
      continue;
    }
    items.push({ key: { user, mailbox: g.group, uidValidity: v }, runs: g.read });
    imported.push(g.group);
  }
  const subs = new Set((await store.subscriptions(user)) ?? []);
  for (const g of groups) {
    if (g.subscribed) subs.add(g.group);
    else subs.delete(g.group);
  }
  if (subs.size > MAX_SUBSCRIPTIONS) throw new FlagStoreError('INVALID', `the import would leave more than ${MAX_SUBSCRIPTIONS} subscriptions`);

  const events: RunChangeEvent[] = [];
  let overflow = false;
  for (let i = 0; i < items.length;) {
    let ranges = 0;
    let j = i;
    while (j < items.length && j - i < IMPORT_BATCH_GROUPS && (j === i || ranges + items[j]!.runs.length <= IMPORT_BATCH_RANGES)) {
      ranges += items[j]!.runs.length;
      j++;
    }
    const got = await store.setSeen(items.slice(i, j), { defer: true });
    if (!overflow) {
      events.push(...got);
      if (events.length > IMPORT_EVENTS_MAX) {
        overflow = true;
        events.length = 0;
      }
    }
    i = j;
    if (i < items.length) await yieldTurn();
  }
  if (overflow) await store.notifyResync(user);
  else await store.notify(events);
  await store.setSubscriptions(user, [...subs]);
  return { imported, skipped, subscribed: [...subs].sort() };
}

/** The user's `.newsrc` text: every mailbox with flags (latest UIDVALIDITY) and every subscription. */
export async function exportNewsrc(store: AgentStore, user: string): Promise<string> {
  const subs = await store.subscriptions(user);
  const subSet = subs ? new Set(subs) : undefined;
  const latest = await latestKeys(store, user);
  const names = [...new Set([...latest.keys(), ...(subs ?? [])])].sort();
  const groups: NewsrcGroup[] = [];
  for (let i = 0; i < names.length; i++) {
    if (i > 0 && i % IMPORT_BATCH_GROUPS === 0) await yieldTurn();
    const group = names[i]!;
    const v = latest.get(group);
    const seen = v === undefined ? undefined : (await store.flagsOf({ user, mailbox: group, uidValidity: v })).byFlag.get('\\Seen');
    groups.push({ group, subscribed: subSet ? subSet.has(group) : true, read: seen ? [...seen.ranges()] : [] });
  }
  return formatNewsrc(groups);
}
