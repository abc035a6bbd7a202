/**
 * Child process of the two-process LMDB test (run with `node --import tsx`).
 * argv: <lmdb path>. Prints `ready` once it has opened the map the parent
 * created, waits for `go` on stdin, runs the workload, prints one JSON
 * `PeerReport` line, closes the store and exits. With `crash`: assigns one
 * batch, prints `done <n>` and waits to be killed without closing anything.
 */
import { createInterface } from 'node:readline';
import { silentLogger } from '../../src/util/log.js';
import { LmdbUidMapStore } from '../../src/uidmap/lmdb.js';
import { runWorkload, type PeerReport } from './peer-workload.js';

const path = process.argv[2];
if (path === undefined) throw new Error('usage: peer-child.ts <lmdb path> [crash]');
const store = await LmdbUidMapStore.open({ path, logger: silentLogger() });
if (process.argv[3] === 'crash') {
  // Crash mode: assign, say so once the promise resolved, then wait to be SIGKILLed.
  const map = await store.open('crash');
  const batch = Array.from({ length: 1000 }, (_, i) => ({ messageId: `<k${i}@crash>`, upstream: 'u', group: 'crash', number: i + 1 }));
  const uids = await map.assign(batch, true);
  process.stdout.write(`done ${uids.length}\n`);
  setInterval(() => undefined, 1000);
  await new Promise(() => undefined);
}
const created = await store.open('shared.created');
const lines = createInterface({ input: process.stdin });
const go = new Promise<void>((resolve) => lines.on('line', (l) => l === 'go' && resolve()));
process.stdout.write('ready\n');
await go;
lines.close();
const race = await store.open('shared.race');
const startedMs = Date.now();
const assigned = await runWorkload(race, 'child');
const endedMs = Date.now();
const report: PeerReport = { createdValidity: created.uidValidity, raceValidity: race.uidValidity, assigned, startedMs, endedMs };
process.stdout.write(`${JSON.stringify(report)}\n`);
await store.close();
