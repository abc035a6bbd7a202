/**
 * Three front-ends as one server (issue 13), with real parts: three newsfront
 * child processes sharing one PostgreSQL (`--uidmap` and `--state`
 * postgres://…) and one INN, behind a real HAProxy (`send-proxy-v2`,
 * roundrobin, IMAP checks) — test/harness/fronts.ts.
 *
 *  - a STORE through the front-end HAProxy picked reaches the same user's
 *    IDLE on both other front-ends (LISTEN/NOTIFY); the delay is printed
 *    (`STORE→IDLE`), only a liveness bound is asserted;
 *  - UIDVALIDITY and UID → Message-ID of every group are equal on all three,
 *    and stay equal after articles are posted to INN and seen first by one
 *    front-end only (the others learn them from the map, not by numbering
 *    on their own);
 *  - users stay apart: bob's sessions on every front-end never see or change
 *    alice's flags (his IDLE hears his own change and nothing of hers);
 *  - one front-end `kill -9`ed while a client streams STOREs through it:
 *    every STORE answered OK before the kill is there afterwards (read
 *    through another front-end), and the client reconnects through HAProxy
 *    to a live front-end and finishes.
 */
import { loadavg } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAPROXY_INSTALL_TIMEOUT_MS } from '../harness/haproxy.js';
import {
  done, flagsByUid, freshArticle, idle, login, select, startFronts, toldFlag, uidsAndIds, type Fronts,
} from '../harness/fronts.js';
import { RawClient, tagged } from '../imap/raw-client.js';

const GROUPS = ['comp.lang.misc', 'alt.test', 'news.software.nntp'];
/** Liveness bound of one cross-front-end notification (not a performance target: a loaded 2-core box). */
const NOTIFY_LIVENESS_MS = 15_000;

let fx: Fronts;
beforeAll(async () => {
  fx = await startFronts({ count: 3, corpus: { seed: 13, groups: GROUPS, perGroup: 40 } });
}, HAPROXY_INSTALL_TIMEOUT_MS);
afterAll(async () => {
  await fx?.close();
}, 180_000);

const ok = (r: string, tag: string): void => {
  expect(tagged(r, tag)).toMatch(new RegExp(`^${tag} OK`));
};
const others = (k: number): number[] => [0, 1, 2].filter((i) => i !== k);

describe('three front-ends on one PostgreSQL behind HAProxy', () => {
  it("a STORE through one front-end reaches the same user's IDLE on the other two", async () => {
    const writer = await fx.via('alice');
    const k = await fx.serving(1);
    await select(writer, 'comp.lang.misc');
    const watchers = await Promise.all(others(k).map((i) => fx.direct(i, 'alice')));
    for (const w of watchers) {
      await select(w, 'comp.lang.misc');
      await idle(w);
    }
    const delays: number[] = [];
    for (let uid = 1; uid <= 8; uid++) {
      const t0 = performance.now();
      ok(await writer.cmd(`s${uid}`, `UID STORE ${uid} +FLAGS.SILENT (\\Flagged)`), `s${uid}`);
      await Promise.all(
        watchers.map(async (w) => {
          await w.until((t) => toldFlag(t, uid, '\\Flagged'), NOTIFY_LIVENESS_MS);
          delays.push(performance.now() - t0);
        }),
      );
    }
    for (const w of watchers) ok(await done(w), 'I');
    delays.sort((a, b) => a - b);
    const at = (q: number): string => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))]!.toFixed(1);
    console.log(`STORE→IDLE across front-ends (fe${k} → fe${others(k).join(', fe')}), ${delays.length} deliveries: ` +
      `min ${at(0)} ms, median ${at(0.5)} ms, max ${at(1)} ms (from sending the STORE; load average ${loadavg()[0]!.toFixed(1)})`);
    expect(delays).toHaveLength(16);
    writer.close();
    for (const w of watchers) w.close();
  });

  it('every group has the same UIDVALIDITY and UIDs on all three, also after new articles seen first by one', async () => {
    const views = async (): Promise<Array<Map<string, { uidValidity: number; ids: Map<number, string> }>>> =>
      Promise.all(
        [0, 1, 2].map(async (i) => {
          const c = await fx.direct(i, 'bob');
          const out = new Map<string, { uidValidity: number; ids: Map<number, string> }>();
          for (const g of GROUPS) out.set(g, { uidValidity: (await select(c, g)).uidValidity, ids: await uidsAndIds(c) });
          c.close();
          return out;
        }),
      );
    const before = await views();
    for (const g of GROUPS) {
      expect(before[0]!.get(g)!.ids.size).toBe(fx.stack.byGroup.get(g)!.length);
      for (const i of [1, 2]) expect(before[i]!.get(g)).toEqual(before[0]!.get(g));
    }

    // two new articles in one group, one in another; only front-end 2 looks (SELECT refreshes)
    const fresh = [freshArticle('alt.test', 'fronts-a1'), freshArticle('alt.test', 'fronts-a2'), freshArticle('news.software.nntp', 'fronts-n1')];
    await fx.stack.inn.inject(fresh);
    const first = await fx.direct(2, 'bob');
    const seen = new Map<string, Map<number, string>>();
    for (const g of ['alt.test', 'news.software.nntp']) {
      await select(first, g);
      seen.set(g, await uidsAndIds(first));
    }
    first.close();
    expect([...seen.get('alt.test')!.values()]).toEqual(expect.arrayContaining(['<fronts-a1@fronts.test>', '<fronts-a2@fronts.test>']));
    expect([...seen.get('news.software.nntp')!.values()]).toContain('<fronts-n1@fronts.test>');
    // the map in PostgreSQL holds them now: front-ends 0 and 1 must give the same UIDs
    const after = await views();
    for (const g of GROUPS) {
      for (const i of [0, 1]) expect(after[i]!.get(g)).toEqual(after[2]!.get(g));
      expect(after[0]!.get(g)!.uidValidity).toBe(before[0]!.get(g)!.uidValidity);
    }
    expect(after[0]!.get('alt.test')!.ids).toEqual(seen.get('alt.test'));
    expect(after[0]!.get('news.software.nntp')!.ids).toEqual(seen.get('news.software.nntp'));
    // strictly ascending: the new ones come after every old UID
    const oldMax = Math.max(...before[0]!.get('alt.test')!.ids.keys());
    const newUids = [...after[0]!.get('alt.test')!.ids].filter(([, id]) => id.startsWith('<fronts-')).map(([u]) => u);
    expect(newUids.every((u) => u > oldMax)).toBe(true);
  });

  it("bob never sees or changes alice's flags through any front-end", async () => {
    const box = 'news.software.nntp';
    const alice = await fx.direct(0, 'alice');
    await select(alice, box);
    const bobIdle = await fx.direct(1, 'bob');
    await select(bobIdle, box);
    await idle(bobIdle);
    ok(await alice.cmd('a1', 'UID STORE 1:10 +FLAGS.SILENT ($AliceOnly \\Seen)'), 'a1');
    // bob's own change through a third front-end is a sentinel: NOTIFY keeps commit order,
    // so anything of alice's that leaked to bob's IDLE would have come before it
    const bob = await fx.direct(2, 'bob');
    await select(bob, box);
    ok(await bob.cmd('b1', 'UID STORE 20 +FLAGS.SILENT (\\Flagged)'), 'b1');
    await bobIdle.until((t) => toldFlag(t, 20, '\\Flagged'), NOTIFY_LIVENESS_MS);
    const heard = await done(bobIdle);
    expect(heard).not.toMatch(/\$AliceOnly|\\Seen/);
    // bob removing "her" flags changes only his (empty) state
    ok(await bob.cmd('b2', 'UID STORE 1:10 -FLAGS.SILENT ($AliceOnly \\Seen)'), 'b2');
    for (const i of [0, 1, 2]) {
      const a = await fx.direct(i, 'alice');
      await select(a, box);
      const af = await flagsByUid(a);
      expect([...af.keys()].sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      for (const f of af.values()) expect(f.sort()).toEqual(['$AliceOnly', '\\Seen']);
      const b = await fx.direct(i, 'bob');
      await select(b, box);
      expect(await flagsByUid(b)).toEqual(new Map([[20, ['\\Flagged']]]));
      a.close();
      b.close();
    }
    alice.close();
    bob.close();
    bobIdle.close();
  });

  it('kill -9 of a front-end mid-STORE stream: every STORE answered OK survives, the client goes on through HAProxy', async () => {
    const box = 'alt.test';
    const c = await fx.via('alice');
    const k = await fx.serving(1);
    const total = (await select(c, box)).exists;
    expect(total).toBeGreaterThanOrEqual(40);
    const uids = Array.from({ length: total }, (_, i) => i + 1);
    const acked = new Set<number>();
    // stream STOREs, a window of 4 in flight; kill the front-end once 12 are answered
    const window = 4;
    let sent = 0;
    let killed: Promise<unknown> | undefined;
    const pid = fx.fes[k]!.pid;
    await new Promise<void>((resolve) => {
      const pump = (): void => {
        while (sent < uids.length && sent - acked.size < window) {
          c.write(`k${uids[sent]} UID STORE ${uids[sent]} +FLAGS.SILENT ($Streamed)\r\n`);
          sent++;
        }
      };
      let partial = '';
      c.socket.on('data', () => {
        const lines = (partial + c.take()).split('\r\n');
        partial = lines.pop()!;
        for (const l of lines) {
          const m = /^k(\d+) OK/.exec(l);
          if (m) acked.add(Number(m[1]));
        }
        if (acked.size >= 12 && killed === undefined) killed = fx.fes[k]!.kill();
        if (acked.size === uids.length) resolve();
        else pump();
      });
      c.socket.on('close', () => resolve());
      pump();
    });
    expect(await killed).not.toBe(0);
    expect(fx.fes[k]!.exitCode).not.toBeNull();
    console.log(`kill -9 of fe${k} (pid ${pid}) after ${acked.size} STOREs answered OK of ${sent} sent`);
    expect(acked.size).toBeGreaterThanOrEqual(12);

    // everything answered OK is there, read through another front-end
    const reader = await fx.direct(others(k)[0]!, 'alice');
    await select(reader, box);
    const flags = await flagsByUid(reader);
    for (const uid of acked) expect(flags.get(uid) ?? [], `UID ${uid}`).toContain('$Streamed');

    // the client reconnects through HAProxy (to a live front-end) and finishes the stream
    let again: RawClient | undefined;
    const deadline = Date.now() + 30_000;
    while (again === undefined) {
      try {
        again = await login(await RawClient.connect(fx.port), 'alice');
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    expect(others(k)).toContain(await fx.serving(1));
    // HAProxy's checks (PROXY v2 LOCAL on the IMAP port) take the dead one out of rotation
    await fx.lb.waitUp(others(k).map((i) => `imap/fe${i}`));
    await expect.poll(async () => (await fx.lb.servers()).get(`imap/fe${k}`)?.status, { timeout: 15_000 }).toBe('DOWN');
    await select(again, box);
    for (const uid of uids.filter((u) => !acked.has(u))) ok(await again.cmd(`r${uid}`, `UID STORE ${uid} +FLAGS.SILENT ($Streamed)`), `r${uid}`);
    again.close();
    const final = await flagsByUid(reader);
    expect(uids.filter((u) => !(final.get(u) ?? []).includes('$Streamed'))).toEqual([]);
    reader.close();
  });
});
