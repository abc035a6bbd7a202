/**
 * The workload both processes of the two-process LMDB test run against one
 * map at the same time: a shared pool of Message-IDs (seen by both, in
 * opposite orders and with different numbering) mixed with ids of their own.
 */
import type { MailboxUidMap, SeenArticle } from '../../src/uidmap/types.js';

export const POOL = 600;
export const BATCH = 20;
/** Calls the parent has under way at once. */
const PARENT_IN_FLIGHT = 3;

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
  // The parent overlaps its calls (MailboxUidMap.pipelined: each planned in
  // memory on what the queued ones leave, checked against the other
  // process's writes in the transaction); the child awaits each.
  const inFlight: Promise<void>[] = [];
  for (let start = 0; start < POOL; start += BATCH) {
    const batch: SeenArticle[] = [];
    for (const i of order.slice(start, start + BATCH)) {
      const number = who === 'parent' ? i + 1 : 10_000 + i;
      batch.push({ messageId: `<s${i}@shared>`, upstream: `up-${who}`, group: 'shared.race', number });
      if (i % 3 === 0) batch.push({ messageId: `<${who}${i}@own>`, upstream: `up-${who}`, group: 'shared.race', number });
    }
    batch.sort((a, b) => a.number - b.number);
    const done = map.assign(batch, who === 'parent').then((uids) => batch.forEach((a, k) => out.push([a.messageId, uids[k]!])));
    inFlight.push(done);
    if (who === 'child' || inFlight.length >= PARENT_IN_FLIGHT) await inFlight.shift();
    // Let the event loop turn so the other process gets the writer lock in between.
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(inFlight);
  return out;
}
