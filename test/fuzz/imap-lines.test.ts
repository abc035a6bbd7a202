/**
 * Bounded run of the IMAP line fuzzer (imap-fuzz.ts) for `npm test`:
 * 20,000 mutated command lines over 8 concurrent connections into a live
 * server. No crash (uncaught exception / unhandled rejection), no hang (a
 * control session answers NOOP throughout), no NO [SERVERBUG], a fresh
 * session works afterwards, and no connection or descriptor is left over. `npm run fuzz` (fuzz/run.ts) runs ≥ 1,000,000.
 */
import { describe, expect, it } from 'vitest';
import { runImapFuzz } from './imap-fuzz.js';

const LINES = 20_000;

describe('IMAP line fuzzer (bounded)', () => {
  it(`${LINES} mutated lines: no crash, no hang, no server bug`, async () => {
    const r = await runImapFuzz({ lines: LINES, connections: 8, seed: 20261123 });
    console.log(
      `[fuzz] ${r.lines} lines in ${r.seconds.toFixed(1)} s (${Math.round(r.linesPerSecond)} lines/s), ` +
        `${r.connectionsOpened} connections (${r.serverClosed} closed by the server), ${r.pings} control pings, max RSS ${Math.round(r.maxRss / 1048576)} MB, connections left ${r.leftConnections}, fd growth ${r.fdGrowth}`,
    );
    expect(r.lines).toBe(LINES);
    expect(r.crashes).toEqual([]);
    expect(r.hangs).toEqual([]);
    expect(r.serverBugs).toEqual([]);
    expect(r.pings).toBeGreaterThan(0);
    // every fuzz connection is closed: none left in the server, no descriptors leaked
    expect(r.leftConnections).toBe(0);
    expect(r.fdGrowth).toBeLessThanOrEqual(4);
  }, 120_000);
});
