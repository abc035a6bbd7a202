/**
 * The workload both processes of the two-process LMDB test run against one
 * map at the same time: a shared pool of Message-IDs (seen by both, in
 * opposite orders and with different numbering) mixed with ids of their own.
 */
import type { MailboxUidMap, SeenArticle } from '../../src/uidmap/types.js';

export const POOL = 600;
export const BATCH = 20;

export interface PeerReport {
  createdValidity: number;
  raceValidity: number;
  assigned: [string, number][];
  /** Wall-clock ms (Date.now) when the workload started and ended, to show the two runs overlapped. */
  startedMs: number;
  endedMs: number;
}

export async function runWorkload(map: MailboxUidMap, who: 'parent' | 'child'): Promise<[string, number][]> {
  const order = [...Array(POOL).keys()];
  if (who === 'child') order.reverse();
  const out: [string, number][] = [];
  for (let start = 0; start < POOL; start += BATCH) {
    const batch: SeenArticle[] = [];
    for (const i of order.slice(start, start + BATCH)) {
      const number = who === 'parent' ? i + 1 : 10_000 + i;
      batch.push({ messageId: `<s${i}@shared>`, upstream: `up-${who}`, group: 'shared.race', number });
      if (i % 3 === 0) batch.push({ messageId: `<${who}${i}@own>`, upstream: `up-${who}`, group: 'shared.race', number });
    }
    batch.sort((a, b) => a.number - b.number);
    const uids = await map.assign(batch, who === 'parent');
    batch.forEach((a, k) => out.push([a.messageId, uids[k]!]));
    // Let the event loop turn so the other process gets the writer lock in between.
    await new Promise((r) => setImmediate(r));
  }
  return out;
}
