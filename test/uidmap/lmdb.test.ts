import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/util/log.js';
import { benchAssign } from '../../bench/uidmap.js';
import { LmdbUidMapStore } from '../../src/uidmap/lmdb.js';
import type { UidMapStore } from '../../src/uidmap/types.js';
import { uidMapContract, type HarnessOptions } from './contract.js';
import { runCrashingPeer, runPeers } from './peers.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'newsfront-uidmap-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function openAt(path: string, opts?: HarnessOptions): Promise<LmdbUidMapStore> {
  return LmdbUidMapStore.open({ path, logger: silentLogger(), ...(opts?.now ? { now: opts.now } : {}) });
}

uidMapContract(
  'LmdbUidMapStore',
  async (opts) => {
    const dir = tempDir();
    const path = join(dir, 'uidmap.mdb');
    let store: UidMapStore = await openAt(path, opts);
    const harness = {
      store,
      reopen: async () => {
        await store.close();
        store = await openAt(path, opts);
        return store;
      },
      lose: async () => {
        await store.close();
        // The map is lost: data and lock file gone; the UIDVALIDITY side file stays.
        rmSync(path);
        rmSync(`${path}-lock`, { force: true });
        store = await openAt(path, opts);
        return store;
      },
      cleanup: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return harness;
  },
  { persistent: true },
);

describe('LmdbUidMapStore specifics', () => {
  it('with the whole directory lost, still gives a new UIDVALIDITY once the clock has moved on', async () => {
    const dir = tempDir();
    const path = join(dir, 'sub', 'uidmap.mdb');
    let now = 1_700_000_000;
    const s1 = await openAt(path, { now: () => now });
    const v1 = (await s1.open('g')).uidValidity;
    await s1.close();
    rmSync(join(dir, 'sub'), { recursive: true });
    now += 1;
    const s2 = await openAt(path, { now: () => now });
    expect((await s2.open('g')).uidValidity).not.toBe(v1);
    await s2.close();
  });

  it('assigns 100,000 articles in batches well under 2 s', async () => {
    const store = await openAt(join(tempDir(), 'bench.mdb'));
    try {
      const { seconds, mailbox } = await benchAssign(store, 100_000, 5_000);
      const map = await store.open(mailbox);
      expect(map.count()).toBe(100_000);
      expect(map.uidNext()).toBe(100_001);
      expect([...map.uids(99_999)]).toEqual([99_999, 100_000]);
      // Recorded for the report, not asserted (no timing assertions in tests).
      console.log(`benchAssign LMDB 100k/5k: ${seconds.toFixed(3)} s`);
    } finally {
      await store.close();
    }
  });

  it('an assign that resolved survives the process being killed right after', async () => {
    const path = join(tempDir(), 'crash.mdb');
    await runCrashingPeer(path);
    const store = await openAt(path);
    try {
      const map = await store.open('crash');
      expect(map.count()).toBe(1000);
      expect(map.uidOf('<k999@crash>')).toBe(1000);
      expect(map.uidNext()).toBe(1001);
    } finally {
      await store.close();
    }
  });

  it('two processes share one map: creation is visible and concurrent assigns agree', async () => {
    const path = join(tempDir(), 'shared.mdb');
    const result = await runPeers(path);
    // The two workloads really ran at the same time (else this test would prove nothing about races).
    const overlapMs = Math.min(result.parent.endedMs, result.child.endedMs) - Math.max(result.parent.startedMs, result.child.startedMs);
    console.log(`two-process workloads overlapped for ${overlapMs} ms`);
    expect(overlapMs).toBeGreaterThan(0);
    // Both saw the map the parent created, and raced to create another: one map each.
    expect(result.child.createdValidity).toBe(result.parent.createdValidity);
    expect(result.child.raceValidity).toBe(result.parent.raceValidity);
    // Every Message-ID got one UID, whichever process asked.
    const uidOf = new Map<string, number>();
    for (const side of [result.parent, result.child]) {
      for (const [id, uid] of side.assigned) {
        const prior = uidOf.get(id);
        expect(prior === undefined || prior === uid).toBe(true);
        uidOf.set(id, uid);
      }
    }
    // And one UID names one Message-ID.
    const byUid = new Map<number, string>();
    for (const [id, uid] of uidOf) {
      expect(byUid.has(uid)).toBe(false);
      byUid.set(uid, id);
    }
    // The stored map says the same.
    const store = await openAt(path);
    try {
      for (const name of ['shared.race', 'shared.created']) {
        const map = await store.open(name);
        const all = [...map.uids()];
        expect(map.count()).toBe(all.length);
        for (const u of all) expect(map.uidOf(map.lookup(u)!.messageId)).toBe(u);
      }
      const race = await store.open('shared.race');
      for (const [id, uid] of uidOf) expect(race.uidOf(id)).toBe(uid);
      expect(race.count()).toBe(uidOf.size);
    } finally {
      await store.close();
    }
  });
});
