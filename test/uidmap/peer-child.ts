/**
 * Child process of the two-process LMDB test (run with `node --import tsx`).
 * argv: <lmdb path>. Prints `ready` once it has opened the map the parent
 * created, waits for `go` on stdin, runs the workload, prints one JSON
 * `PeerReport` line, closes the store and exits.
 */
import { createInterface } from 'node:readline';
import { silentLogger } from '../../src/log.js';
import { LmdbUidMapStore } from '../../src/uidmap/lmdb.js';
import { runWorkload, type PeerReport } from './peer-workload.js';

const path = process.argv[2];
if (path === undefined) throw new Error('usage: peer-child.ts <lmdb path>');
const store = await LmdbUidMapStore.open({ path, logger: silentLogger() });
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
