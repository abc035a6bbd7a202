/**
 * Short load runs (the long form is bench/load-sessions.ts):
 *  - ~100 concurrent sessions for ~5 s on one in-process server (embedded
 *    sample archive): SELECT then random FETCH ENVELOPE / BODY[] / SEARCH /
 *    STORE / FETCH FLAGS / NOOP. No error; the server's connections all
 *    closed afterwards; RSS growth bounded; commands/s printed.
 *  - two front-end processes side by side on ONE data directory (one LMDB
 *    UID map) and one state agent, over a real INN: the same UIDVALIDITY and
 *    UID → Message-ID lists on both, also for articles posted while both
 *    run; a flag stored through one is seen through the other; load spread
 *    over both gives no error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSessions, uidListing } from '../../bench/load-sessions.js';
import { generateCorpus } from '../corpus/generate.js';
import type { ChildServer } from '../harness/child-server.js';
import { startStack, type Stack } from '../harness/stack.js';
import { RawClient, tagged } from '../imap/raw-client.js';

const SESSIONS = 100;
const SECONDS = 5;
/** 100 sessions of a small group: a few MB of session state, plus GC slack. */
const RSS_GROWTH_BOUND = 256 * 1024 * 1024;

describe('load, one process', () => {
  let stack: Stack;
  let nf: Stack['nf'];

  beforeAll(async () => {
    // no users file: the sessions log in anonymously
    stack = await startStack({ users: null });
    nf = stack.nf;
  });
  afterAll(async () => {
    await stack?.close();
  });

  it(`${SESSIONS} sessions for ${SECONDS} s: no error, connections closed, memory bounded`, async () => {
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 250);
    const r = await runSessions({ ports: [nf.port], mailbox: 'sample.discuss', sessions: SESSIONS, seconds: SECONDS, seed: 42 });
    clearInterval(sampler);
    console.log(
      `[load] ${SESSIONS} sessions, ${r.seconds.toFixed(1)} s: ${r.commands} commands = ${Math.round(r.commandsPerSecond)}/s ${JSON.stringify(r.byKind)}; latency ${JSON.stringify(r.latency)}; ` +
        `RSS ${Math.round(rss0 / 1048576)} → peak ${Math.round(peak / 1048576)} MB (test process incl. clients)`,
    );
    expect(r.errors).toEqual([]);
    expect(r.commands).toBeGreaterThan(SESSIONS * 2);
    for (const k of ['fetch-envelope', 'fetch-body', 'search', 'store']) expect(r.byKind[k] ?? 0, k).toBeGreaterThan(0);
    expect(peak - rss0).toBeLessThan(RSS_GROWTH_BOUND);
    for (let i = 0; i < 100 && nf.imap.connectionCount > 0; i++) await new Promise((res) => setTimeout(res, 50));
    expect(nf.imap.connectionCount).toBe(0);
  }, 150_000);
});

describe('two front-end processes on one UID map and one agent', () => {
  const GROUPS = ['load.one', 'load.two'];
  let stack: Stack<'none'>;
  let a: ChildServer;
  let b: ChildServer;

  beforeAll(async () => {
    stack = await startStack({ corpus: { seed: 313, groups: GROUPS, perGroup: 60 }, state: 'agent', frontend: 'none', config: { pollIntervalMs: 1000 } });
    [a, b] = await Promise.all([stack.spawn(), stack.spawn()]);
  }, 180_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('the same UIDs everywhere, also for new articles; flags shared; load over both without error', async () => {
    for (const g of GROUPS) {
      const [la, lb] = await Promise.all([uidListing(a.port, g, 'alice', 'secret'), uidListing(b.port, g, 'alice', 'secret')]);
      expect(la.uids.length).toBeGreaterThanOrEqual(60);
      expect(lb).toEqual(la);
    }
    // new articles while both run: each process ingests them on its own
    await stack.inn.inject(generateCorpus({ seed: 314, groups: GROUPS, perGroup: 5 }).map((x) => x.bytes));
    for (const g of GROUPS) {
      let la = await uidListing(a.port, g, 'alice', 'secret');
      let lb = await uidListing(b.port, g, 'alice', 'secret');
      for (let i = 0; i < 100 && (la.uids.length < 65 || lb.uids.length < 65); i++) {
        await new Promise((res) => setTimeout(res, 200));
        [la, lb] = await Promise.all([uidListing(a.port, g, 'alice', 'secret'), uidListing(b.port, g, 'alice', 'secret')]);
      }
      expect(la.uids.length).toBeGreaterThanOrEqual(65);
      expect(lb).toEqual(la);
    }
    // a flag stored through A is seen through B
    const ca = await RawClient.connect(a.port);
    const cb = await RawClient.connect(b.port);
    try {
      await ca.cmd('l', 'LOGIN alice secret');
      await cb.cmd('l', 'LOGIN alice secret');
      await ca.cmd('s', `SELECT ${GROUPS[0]}`);
      expect(tagged(await ca.cmd('f', 'UID STORE 7 +FLAGS (\\Flagged)'), 'f')).toMatch(/^f OK/);
      await cb.cmd('s', `EXAMINE ${GROUPS[0]}`);
      expect(await cb.cmd('g', 'UID FETCH 7 (FLAGS)')).toMatch(/UID 7 FLAGS \(\\Flagged\)/);
    } finally {
      ca.close();
      cb.close();
    }
    const r = await runSessions({ ports: [a.port, b.port], mailbox: GROUPS[1]!, sessions: 20, seconds: 3, seed: 7, user: 'alice', pass: 'secret' });
    console.log(`[load] 2 processes, 20 sessions, ${r.seconds.toFixed(1)} s: ${Math.round(r.commandsPerSecond)} commands/s ${JSON.stringify(r.byKind)}`);
    expect(r.errors).toEqual([]);
    expect(a.crashed).toBeNull();
    expect(b.crashed).toBeNull();
  }, 120_000);
});
