/**
 * LmdbFlagStore behaviour beyond the contract: several processes on one
 * LMDB path lose no change, views are snapshots, the keyword limit refuses without harming other writes, and the measured
 * figures of the brief (STORE on 1:50000, view of a 100k mailbox).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/util/log.js';
import { FlagStoreError } from '../../src/stateagent/flagstore.js';
import { MAX_KEYWORDS_PER_MAILBOX } from '../../src/stateagent/limits.js';
import { LmdbFlagStore } from '../../src/stateagent/stores/local.js';

const ROOT = join(import.meta.dirname, '..', '..');
const K = { user: 'alice', mailbox: 'comp.lang.misc', uidValidity: 9 };

let dir: string;
let stores: LmdbFlagStore[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nf-flags-x-'));
});
afterEach(async () => {
  for (const s of stores) await s.close();
  stores = [];
  rmSync(dir, { recursive: true, force: true });
});

async function open(): Promise<LmdbFlagStore> {
  const s = await LmdbFlagStore.open({ path: join(dir, 'db'), logger: silentLogger() });
  stores.push(s);
  return s;
}

function child(lane: number, count: number, lanes: number): Promise<Array<[number, number]>> {
  const p = spawn(process.execPath, ['--import', 'tsx', 'test/stateagent/peer-child.ts', join(dir, 'db'), String(lane), String(count), String(lanes)],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`peer exited ${code}: ${err}`)))));
}

describe('LmdbFlagStore', () => {
  it('loses no change when several processes update one mailbox at once', async () => {
    const s = await open();
    await s.update({ ...K, mailbox: 'shared.group', uidValidity: 1 }, [100000], 'add', ['\\Flagged']); // warm this process's cache
    const COUNT = 60;
    const mine = (async () => {
      const got: Array<[number, number]> = [];
      for (let i = 0; i < COUNT; i++) {
        const uid = 1 + 2 + i * 3;
        got.push([uid, (await s.update({ ...K, mailbox: 'shared.group', uidValidity: 1 }, [uid], 'add', ['\\Seen'])).modseq]);
      }
      return got;
    })();
    const all = (await Promise.all([child(0, COUNT, 3), child(1, COUNT, 3), mine])).flat();
    expect(all).toHaveLength(3 * COUNT);
    const modseqs = all.map(([, m]) => m);
    expect(new Set(modseqs).size).toBe(modseqs.length); // no two updates got one modseq
    await new Promise((r) => setImmediate(r)); // next event turn: fresh read snapshot
    const v = await s.view({ ...K, mailbox: 'shared.group', uidValidity: 1 }, 1, 200000);
    expect(v.highestModseq).toBe(2 + 3 * COUNT);
    for (const [uid, ms] of all) {
      expect(v.has(uid, '\\Seen')).toBe(true);
      expect(v.modseqOf(uid)).toBe(ms);
    }
    expect(v.has(100000, '\\Flagged')).toBe(true);
  }, 120_000);

  it('hands out views that later updates do not change', async () => {
    const s = await open();
    await s.update(K, [1], 'add', ['\\Seen']);
    const before = await s.view(K, 1, 10);
    await s.update(K, [1, 2], 'add', ['\\Flagged']);
    expect(before.flagsOf(1)).toEqual(['\\Seen']);
    expect(before.highestModseq).toBe(2);
    const after = await s.view(K, 1, 10);
    expect([...after.flagsOf(1)].sort()).toEqual(['\\Flagged', '\\Seen']);
  });

  it(`refuses more than ${MAX_KEYWORDS_PER_MAILBOX} keywords per mailbox, storing nothing, while other writes go on`, async () => {
    const s = await open();
    for (let i = 0; i < MAX_KEYWORDS_PER_MAILBOX; i += 50) {
      await s.update(K, [1], 'add', Array.from({ length: 50 }, (_, j) => `kw${i + j}`));
    }
    const before = (await s.view(K, 1, 1)).highestModseq;
    const [bad, good] = await Promise.allSettled([
      s.update(K, [2], 'add', ['one-too-many']),
      s.update({ ...K, mailbox: 'other' }, [2], 'add', ['\\Seen']),
    ]);
    expect(bad.status).toBe('rejected');
    expect(((bad as PromiseRejectedResult).reason as FlagStoreError).code).toBe('INVALID');
    expect(good.status).toBe('fulfilled');
    expect((await s.view(K, 1, 2)).highestModseq).toBe(before);
    expect((await s.view({ ...K, mailbox: 'other' }, 1, 2)).has(2, '\\Seen')).toBe(true);
  });

  it('stores 1:4294967295 as one range and refuses to list it per UID rather than run out of memory', async () => {
    const s = await open();
    const r = await s.updateRuns(K, [[1, 0xffff_ffff]], 'add', ['\\Seen']);
    expect(r.changes).toEqual([{ lo: 1, hi: 0xffff_ffff, flags: ['\\Seen'], modseq: r.modseq }]); // as a run, not per UID
    const v = await s.view(K, 1, 10);
    expect(v.has(0xffff_ffff, '\\Seen')).toBe(true);
    expect(v.modseqOf(123456789)).toBe(r.modseq);
    const err = await s.changedSince(K, 1).then(() => undefined, (e: unknown) => e);
    expect((err as FlagStoreError).code).toBe('INVALID');
    expect(s.changesRuns(K, 1).changes).toEqual([{ lo: 1, hi: 0xffff_ffff, flags: ['\\Seen'], modseq: r.modseq }]);
    await s.update(K, [5], 'remove', ['\\Seen']);
    expect((await s.changedSince(K, r.modseq)).map((c) => c.uid)).toEqual([5]);
  });

  it('answers UNAVAILABLE once closed', async () => {
    const s = await open();
    await s.close();
    const err = await s.update(K, [1], 'add', ['\\Seen']).then(() => undefined, (e: unknown) => e);
    expect((err as FlagStoreError).code).toBe('UNAVAILABLE');
  });

  it('measures: STORE \\Seen on 1:50000 and a warm view of a 100k mailbox', async () => {
    const s = await open();
    const uids = Array.from({ length: 50000 }, (_, i) => i + 1);
    let t = performance.now();
    const r = await s.update(K, uids, 'add', ['\\Seen']);
    const storeMs = performance.now() - t;
    // a 100k mailbox with a realistic flag pattern: every third UID flagged, \Seen on 1-50000, some keywords
    const big = { ...K, mailbox: 'big' };
    const every3 = Array.from({ length: 33333 }, (_, i) => 3 * i + 1);
    await s.update(big, uids, 'add', ['\\Seen']);
    await s.update(big, every3, 'add', ['\\Flagged']);
    await s.update(big, every3.filter((u) => u % 7 === 0), 'add', ['$Label1']);
    await new Promise((res) => setImmediate(res));
    t = performance.now();
    await s.view(big, 1, 100000); // cold for this turn's snapshot check
    const first = performance.now() - t;
    const N = 200;
    t = performance.now();
    for (let i = 0; i < N; i++) await s.view(big, 1, 100000);
    const warm = (performance.now() - t) / N;
    // decode cost of the whole record (cache miss), on a second store instance
    const cold = await LmdbFlagStore.open({ path: join(dir, 'db'), logger: silentLogger() });
    stores.push(cold);
    t = performance.now();
    const cv = await cold.view(big, 1, 100000);
    const coldMs = performance.now() - t;
    expect(cv.has(99997, '\\Flagged')).toBe(true);
    expect(r.modseq).toBe(2);
    console.log(`lmdb flags: STORE +FLAGS \\Seen 1:50000 ${storeMs.toFixed(2)} ms (incl. fsync); view 100k warm ${(warm * 1000).toFixed(1)} µs, first ${first.toFixed(2)} ms, cold decode ${coldMs.toFixed(2)} ms`);
  });
});
