/**
 * PostgreSQL restarted under load across three front-ends (issue 13), real
 * parts (test/harness/fronts.ts): three newsfront child processes with UID
 * map and flags in one PostgreSQL, one INN, HAProxy in front. On every
 * front-end a reader FETCHes envelopes and bodies and a writer STOREs, one
 * command after another, while PostgreSQL is stopped (`pg_ctl stop -m fast`)
 * and started again:
 *  - reading goes on: every FETCH is answered OK, also while it is down;
 *  - a STORE sent after the stop and answered before the start is
 *    `NO [UNAVAILABLE]`, on every front-end; no STORE answered OK is lost
 *    (each one is read back afterwards);
 *  - every front-end recovers by itself (same processes): STOREs are OK
 *    again, each front-end's LISTEN connection is back (pg_stat_activity),
 *    and a STORE on one front-end reaches the same user's IDLE on the others;
 *    an article posted while it was down gets one UID on all three.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAPROXY_INSTALL_TIMEOUT_MS } from '../harness/haproxy.js';
import { done, flagsByUid, freshArticle, idle, select, startFronts, toldFlag, uidsAndIds, type Fronts } from '../harness/fronts.js';
import { tagged, type RawClient } from '../imap/raw-client.js';

const READ_BOX = 'comp.lang.misc';
const WRITE_BOX = 'alt.test';
/** Keywords the writers cycle through: an OK'd (uid, keyword) pair is only ever added to. */
const KEYWORDS = 12;
const PAUSE_MS = 15;

let fx: Fronts;
beforeAll(async () => {
  // polling every second: the article posted during the outage meets UID map writes that fail
  fx = await startFronts({ count: 3, corpus: { seed: 14, groups: [READ_BOX, WRITE_BOX], perGroup: 45 }, config: { pollIntervalMs: 1000 } });
}, HAPROXY_INSTALL_TIMEOUT_MS);
afterAll(async () => {
  await fx?.close();
}, 180_000);

interface Outcome {
  sent: number;
  answered: number;
  line: string;
  uid: number;
  kw: string;
}

/** Sends `next(n)` on `c` until `stop` is set, one command at a time; every answer goes to `out` as it comes. */
async function load(c: RawClient, stop: { now: boolean }, next: (n: number) => { cmd: string; uid?: number; kw?: string }, out: Outcome[], tag: string): Promise<void> {
  for (let n = 0; !stop.now; n++) {
    const { cmd, uid = 0, kw = '' } = next(n);
    const sent = performance.now();
    const r = await c.cmd(`${tag}${n}`, cmd, 60_000);
    out.push({ sent, answered: performance.now(), line: tagged(r, `${tag}${n}`), uid, kw });
    await new Promise((res) => setTimeout(res, PAUSE_MS));
  }
}

const listeners = async (): Promise<number> =>
  Number((await fx.pg.admin<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'newsfront flags listen'")).rows[0]!.n);

async function until(what: string, cond: () => Promise<boolean> | boolean, ms = 30_000, tell: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} ${tell()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('PostgreSQL restarted under load across three front-ends', () => {
  it('reads go on, STORE is NO [UNAVAILABLE] while it is down and nothing OK is lost, every front-end recovers', async () => {
    const pids = fx.fes.map((f) => f.pid);
    expect(await listeners()).toBe(3);
    const readers = await Promise.all([0, 1, 2].map((i) => fx.direct(i, 'alice')));
    const writers = await Promise.all([0, 1, 2].map((i) => fx.direct(i, 'alice')));
    const total = (await select(readers[0]!, READ_BOX)).exists;
    for (const r of readers.slice(1)) await select(r, READ_BOX);
    const share = (await select(writers[0]!, WRITE_BOX)).exists;
    for (const w of writers.slice(1)) await select(w, WRITE_BOX);
    // bob idles on every front-end, to show notifications flow again after the restart
    const idlers = await Promise.all([0, 1, 2].map((i) => fx.direct(i, 'bob')));
    for (const c of idlers) {
      await select(c, WRITE_BOX);
      await idle(c);
    }

    const stop = { now: false };
    const reads: Outcome[][] = [[], [], []];
    const writes: Outcome[][] = [[], [], []];
    const running = [
      ...readers.map((c, i) => load(c, stop, (n) => ({ cmd: `UID FETCH ${((n * 7 + i) % total) + 1} (ENVELOPE BODY.PEEK[])` }), reads[i]!, 'f')),
      ...writers.map((c, i) =>
        load(c, stop, (n) => {
          // each front-end its own UIDs (i, i+3, …); a new keyword each time round
          const uid = ((n * 3 + i) % share) + 1;
          const kw = `$K${Math.floor((n * 3) / share) % KEYWORDS}`;
          return { cmd: `UID STORE ${uid} +FLAGS.SILENT (${kw})`, uid, kw };
        }, writes[i]!, 's'),
      ),
    ];
    const okWrites = (i: number, after: number): number => writes[i]!.filter((w) => w.sent > after && /^s\d+ OK/.test(w.line)).length;

    let downAt = 0;
    let upAt = 0;
    try {
      await new Promise((r) => setTimeout(r, 1500));
      await fx.pg.down('fast');
      downAt = performance.now();
      const progress = (): string => JSON.stringify([0, 1, 2].map((i) => ({
        reads: reads[i]!.length, readsSinceDown: reads[i]!.filter((o) => o.sent > downAt).length, lastRead: reads[i]!.at(-1),
        writes: writes[i]!.length, lastWrite: writes[i]!.at(-1), crashed: fx.fes[i]!.crashed, exit: fx.fes[i]!.exitCode,
      })));
      await until('reads while PostgreSQL is down', () => reads.every((r) => r.filter((o) => o.sent > downAt).length >= 3), 30_000, progress);
      // an article arrives upstream while the UID map cannot be written; a new session meanwhile
      await fx.stack.inn.inject([freshArticle(READ_BOX, 'during-outage')]);
      const probe = await fx.direct(1, 'bob');
      const sel = await probe.cmd('P', `SELECT ${READ_BOX}`);
      console.log(`SELECT in a new session while PostgreSQL is down: ${tagged(sel, 'P')}`);
      probe.close();
      await new Promise((r) => setTimeout(r, 1000));
      upAt = performance.now();
      await fx.pg.up();
      const backAt = performance.now();
      // each front-end's STOREs succeed again (same processes), and its LISTEN connection is back
      await until('STORE OK again on every front-end', () => [0, 1, 2].every((i) => okWrites(i, backAt) >= 3), 30_000, progress);
      await until('every front-end listening again', async () => (await listeners()) === 3);
    } finally {
      stop.now = true;
      await Promise.allSettled(running);
    }

    console.log(`PostgreSQL down ${(upAt - downAt).toFixed(0)} ms; per front-end reads/stores: ` +
      [0, 1, 2].map((i) => `fe${i} ${reads[i]!.length}/${writes[i]!.length}`).join(', '));
    for (const i of [0, 1, 2]) {
      // reading never failed, before, during or after
      expect(reads[i]!.filter((o) => !/^f\d+ OK/.test(o.line)), `fe${i} reads`).toEqual([]);
      expect(reads[i]!.filter((o) => o.sent > downAt && o.answered < upAt).length).toBeGreaterThanOrEqual(3);
      // while it was down: NO [UNAVAILABLE], never OK
      const whileDown = writes[i]!.filter((w) => w.sent > downAt && w.answered < upAt);
      expect(whileDown.length, `fe${i} STOREs while down`).toBeGreaterThan(0);
      for (const w of whileDown) expect(w.line).toMatch(/^s\d+ NO \[UNAVAILABLE\]/);
      for (const w of writes[i]!) expect(w.line).toMatch(/^s\d+ (OK|NO \[UNAVAILABLE\])/);
    }

    // nothing answered OK is lost
    const check = await fx.direct(0, 'alice');
    await select(check, WRITE_BOX);
    const flags = await flagsByUid(check);
    const lost = writes.flat().filter((w) => /^s\d+ OK/.test(w.line) && !(flags.get(w.uid) ?? []).includes(w.kw));
    expect(lost).toEqual([]);

    // IDLE notifications flow again across front-ends (LISTEN re-established, not a resync)
    const bob = await fx.direct(0, 'bob');
    await select(bob, WRITE_BOX);
    expect(tagged(await bob.cmd('b', 'UID STORE 5 +FLAGS.SILENT ($AfterRestart)'), 'b')).toBe('b OK UID STORE completed');
    for (const c of idlers.slice(1)) await c.until((t) => toldFlag(t, 5, '$AfterRestart'), 15_000);
    for (const c of idlers) expect(tagged(await done(c), 'I')).toMatch(/^I OK/);
    // the UID map recovered too: the article that came during the outage has one UID everywhere
    const after = await Promise.all([0, 1, 2].map(async (i) => {
      const c = await fx.direct(i, 'alice');
      await select(c, READ_BOX);
      const ids = await uidsAndIds(c);
      c.close();
      return [...ids].filter(([, id]) => id === '<during-outage@fronts.test>');
    }));
    expect(after[0]).toHaveLength(1);
    expect(after[1]).toEqual(after[0]);
    expect(after[2]).toEqual(after[0]);
    // the same processes throughout
    expect(fx.fes.map((f) => [f.pid, f.exitCode])).toEqual(pids.map((p) => [p, null]));
  });
});
