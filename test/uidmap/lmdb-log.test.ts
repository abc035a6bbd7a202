/**
 * The LMDB UID map's assignment log (format 2; src/uidmap/lmdb-log.ts,
 * lmdb-map-log.ts): every read answers the same before and after the fold,
 * across a restart with the log not folded, for removals and location
 * changes of logged entries; format 1 stores are upgraded in place.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { open as openLmdb } from 'lmdb';
import { silentLogger } from '../../src/util/log.js';
import { idHash } from '../../src/uidmap/id-hashes.js';
import { LmdbUidMapStore } from '../../src/uidmap/lmdb.js';
import { encodeLog, LogIndex, LogRecord, readLogEntry } from '../../src/uidmap/lmdb-log.js';
import type { MailboxUidMap, SeenArticle, UidEntry } from '../../src/uidmap/types.js';

const dirs: string[] = [];
function tempPath(): string {
  const d = mkdtempSync(join(tmpdir(), 'newsfront-uidlog-'));
  dirs.push(d);
  return join(d, 'uidmap.mdb');
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const open = (path: string): Promise<LmdbUidMapStore> => LmdbUidMapStore.open({ path, logger: silentLogger() });

type Folding = MailboxUidMap & { log: { fold(): Promise<void>; keys(): number[] } };
const logOf = (m: MailboxUidMap): Folding['log'] => (m as Folding).log;

function arts(from: number, to: number, upstream = 'inn', tag = 'a'): SeenArticle[] {
  const out: SeenArticle[] = [];
  for (let n = from; n <= to; n++) out.push({ messageId: `<${tag}${n}@x.example>`, upstream, group: 'g', number: n });
  return out;
}

/** Everything a reader can ask of the map, for UIDs and ids in play. */
function snapshot(m: MailboxUidMap, ids: string[], top: number): unknown {
  const lookups: (UidEntry | undefined)[] = [];
  for (let u = 1; u <= top; u++) lookups.push(m.lookup(u));
  return { uids: [...m.uids()], some: [...m.uids(3, 7)], count: m.count(), next: m.uidNext(), byId: ids.map((id) => m.uidOf(id)), lookups };
}

describe('UID map log records', () => {
  it('encode and decode entries with several locations, non-ASCII ids and extreme numbers', () => {
    const entries: UidEntry[] = [
      { uid: 1, messageId: '<a@x>', location: { upstream: 'u1', group: 'g', number: 1 } },
      { uid: 7, messageId: '<ü€@x>', location: { upstream: 'u2', group: 'gé', number: Number.MAX_SAFE_INTEGER } },
      { uid: 8, messageId: '<b@x>', location: { upstream: 'u2', group: 'gé', number: 2 } },
      { uid: 9, messageId: '<c@x>', location: { upstream: 'u2', group: 'g', number: 2 } },
      { uid: 0xffff_ffff, messageId: '<z@x>', location: { upstream: 'u1', group: 'g', number: 3 } },
    ];
    const r = new LogRecord(encodeLog(entries));
    expect(r.length).toBe(5);
    expect([0, 1, 2, 3, 4].map((i) => r.entry(i))).toEqual(entries);
    expect(r.indexOf(7)).toBe(1);
    expect(r.indexOf(8)).toBe(2);
    expect(r.indexOf(10)).toBe(-1);
    const bytes = encodeLog(entries);
    for (const e of entries) expect(readLogEntry(bytes, e.uid)).toEqual(e); // one entry read alone
    for (const u of [2, 10, 0xffff_fffe]) expect(readLogEntry(bytes, u)).toBeUndefined();
    const ix = new LogIndex();
    ix.add(1, r);
    expect(ix.candidates('<ü€@x>')).toContain(7);
    expect(ix.covered.has(1)).toBe(true);
  });
});

describe('log lookup table', () => {
  it('keeps every (id, UID) pair through growth, from decoded records and from written entries', () => {
    const ix = new LogIndex();
    const mk = (from: number, to: number): UidEntry[] => {
      const out: UidEntry[] = [];
      for (let u = from; u <= to; u++) out.push({ uid: u, messageId: `<${u}@t>`, location: { upstream: 'u', group: 'g', number: u } });
      return out;
    };
    ix.addEntries(1, mk(1, 20_000));
    ix.add(20_001, new LogRecord(encodeLog(mk(20_001, 30_000))));
    for (const u of [1, 777, 20_000, 20_001, 29_999, 30_000]) expect(ix.candidates(`<${u}@t>`)).toContain(u);
    expect(ix.candidates('<none@t>').length).toBeLessThanOrEqual(1);
    expect([...ix.covered]).toEqual([1, 20_001]);
  });
});

describe('LMDB UID map with an assignment log', () => {
  it('answers the same with the log unfolded, after a restart, and folded', async () => {
    const path = tempPath();
    let s = await open(path);
    let m = await s.open('g');
    await m.assign(arts(1, 5), true);
    await m.assign(arts(8, 9), true);
    const ids = [...arts(1, 9).map((a) => a.messageId), '<none@x>'];
    expect(logOf(m).keys()).toEqual([1, 8]);
    const before = snapshot(m, ids, 10);
    expect(m.uidOf('<a8@x.example>')).toBe(8);
    expect(m.lookup(4)).toEqual({ uid: 4, messageId: '<a4@x.example>', location: { upstream: 'inn', group: 'g', number: 4 } });
    await s.close();
    s = await open(path); // the log was not folded: a restart reads it
    m = await s.open('g');
    expect(logOf(m).keys()).toEqual([1, 8]);
    expect(snapshot(m, ids, 10)).toEqual(before);
    // known ids keep their UIDs (read from the log), new ones go on from UIDNEXT
    expect(await m.assign([...arts(4, 5), ...arts(2, 2, 'other', 'b')], false)).toEqual([4, 5, 10]);
    const ids2 = [...ids, '<b2@x.example>'];
    const unfolded = snapshot(m, ids2, 11);
    expect(m.count()).toBe(8);
    await logOf(m).fold();
    expect(logOf(m).keys()).toEqual([]);
    expect(snapshot(m, ids2, 11)).toEqual(unfolded);
    await s.close();
  });

  it('folds on its own once the map is quiet, and at the next open a log left behind', async () => {
    const path = tempPath();
    let s = await open(path);
    let m = await s.open('g');
    await m.assign(arts(1, 3), true);
    await expect.poll(() => logOf(m).keys(), { timeout: 5000 }).toEqual([]);
    expect(m.uidOf('<a2@x.example>')).toBe(2);
    await m.assign(arts(4, 5), true);
    await s.close(); // before the quiet time: the record stays in the log
    s = await open(path);
    m = await s.open('g');
    expect(logOf(m).keys()).toEqual([4]);
    await expect.poll(() => logOf(m).keys(), { timeout: 5000 }).toEqual([]);
    expect(m.uidOf('<a5@x.example>')).toBe(5);
    await s.close();
  });

  it('uids() asked for before a fold and read after it lists each UID once', async () => {
    const s = await open(tempPath());
    const m = await s.open('g');
    await m.assign(arts(1, 3), true);
    await m.assign(arts(4, 5), true);
    const lazy = m.uids();
    await logOf(m).fold();
    expect([...lazy]).toEqual([1, 2, 3, 4, 5]);
    await s.close();
  });

  it('a removal of logged UIDs folds first: they are gone and never given again', async () => {
    const path = tempPath();
    const s = await open(path);
    const m = await s.open('g');
    await m.assign(arts(1, 4), true);
    await m.remove([2, 3]);
    expect(logOf(m).keys()).toEqual([]);
    expect(m.lookup(2)).toBeUndefined();
    expect(m.uidOf('<a3@x.example>')).toBeUndefined();
    expect([...m.uids()]).toEqual([1, 4]);
    expect(m.count()).toBe(2);
    expect(await m.assign(arts(3, 3), true)).toEqual([5]);
    await s.close();
  });

  it('a location change of a logged entry folds first and keeps its UID', async () => {
    const path = tempPath();
    const s = await open(path);
    const m = await s.open('g');
    await m.assign(arts(1, 3), true);
    expect(await m.assign([{ messageId: '<a2@x.example>', upstream: 'backup', group: 'g', number: 40 }], false)).toEqual([2]);
    expect(m.lookup(2)?.location).toEqual({ upstream: 'backup', group: 'g', number: 40 });
    expect(m.lookup(1)?.location.upstream).toBe('inn');
    expect(m.count()).toBe(3);
    await s.close();
  });

  it('two Message-IDs of one hash get two UIDs while a map fills from empty, in one batch, across batches, logged and folded', async () => {
    const [a, b] = ['<76457@coll>', '<163297@coll>']; // one idHash (3518548318), found by search
    expect(idHash(a)).toBe(idHash(b)); // else a changed idHash needs another pair
    const seen = (messageId: string, number: number): SeenArticle => ({ messageId, upstream: 'inn', group: 'g', number });
    const s = await open(tempPath());
    const m = await s.open('g');
    expect(await m.assign([seen(a, 1), seen(b, 2), seen(a, 3)], true)).toEqual([1, 2, 1]);
    const m2 = await s.open('h');
    expect(await m2.assign([seen(a, 1)], true)).toEqual([1]);
    expect(await m2.assign([seen(b, 2)], true)).toEqual([2]); // the candidate (UID 1) is read from the log and refused
    expect(await m2.assign([seen(a, 1), seen(b, 2), seen(b, 5)], true)).toEqual([1, 2, 2]);
    expect(m2.lookup(2)?.location.number).toBe(5);
    await logOf(m2).fold();
    expect(await m2.assign([seen(b, 5), seen(a, 1), seen('<c@coll>', 6)], true)).toEqual([2, 1, 6]);
    expect(m2.count()).toBe(3);
    await s.close();
  });

  it('after a restart (no fill-from-empty hashes), known ids are found in the log', async () => {
    const path = tempPath();
    const s = await open(path);
    const m = await s.open('g');
    await m.assign(arts(1, 200), true);
    await s.close();
    const s2 = await open(path);
    const m2 = await s2.open('g');
    expect(logOf(m2).keys().length).toBe(1);
    expect(await m2.assign([...arts(150, 151), ...arts(1, 1, 'inn', 'new')], true)).toEqual([150, 151, 201]);
    await s2.close();
  });

  it('upgrades a format 1 store in place and refuses an unknown format', async () => {
    const path = tempPath();
    let s = await open(path);
    const m = await s.open('g');
    await m.assign(arts(1, 2), true);
    await logOf(m).fold();
    await s.close();
    const env = openLmdb({ path, maxDbs: 8, compression: false });
    const store = env.openDB<number, string>('store', {});
    await store.put('format', 1); // a format 1 store holds exactly this: entries in byMsgid/byUid, no log
    await env.close();
    s = await open(path);
    const again = await s.open('g');
    expect(again.uidOf('<a2@x.example>')).toBe(2);
    expect(await again.assign(arts(3, 3), true)).toEqual([3]);
    await s.close();
    const env2 = openLmdb({ path, maxDbs: 8, compression: false });
    expect(env2.openDB<number, string>('store', {}).get('format')).toBe(2);
    await env2.openDB<number, string>('store', {}).put('format', 3);
    await env2.close();
    await expect(open(path)).rejects.toMatchObject({ code: 'STORAGE' });
  });
});
