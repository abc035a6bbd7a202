/**
 * A second process writing to the same LMDB flag store (local.test.ts,
 * multi-process test). argv: path, lane, count, lanes. Adds \Seen to UIDs
 * lane, lane+lanes, ... one update each, and prints the modseqs it was given
 * as one JSON line.
 */
import { silentLogger } from '../../src/util/log.js';
import { LmdbFlagStore } from '../../src/stateagent/stores/local.js';

const [path, laneS, countS, lanesS] = process.argv.slice(2);
const lane = Number(laneS);
const count = Number(countS);
const lanes = Number(lanesS);
const store = await LmdbFlagStore.open({ path: path!, logger: silentLogger() });
const key = { user: 'alice', mailbox: 'shared.group', uidValidity: 1 };
const got: Array<[number, number]> = [];
await Promise.all(Array.from({ length: 4 }, async (_, w) => {
  for (let i = w; i < count; i += 4) {
    const uid = 1 + lane + i * lanes;
    const r = await store.update(key, [uid], 'add', ['\\Seen']);
    got.push([uid, r.modseq]);
  }
}));
await store.close();
process.stdout.write(`${JSON.stringify(got)}\n`);
