/**
 * A group's SORT/THREAD keys (sort-keys.ts) and the answers the index stored:
 * - `storedSort` / `storedThread` hand out the stored answers only for
 *   exactly the UIDs they were computed for, with every INTERNALDATE known
 *   and equal to the one a missing Date fell back to; a subset is filtered
 *   out of the stored order, UIDs the snapshot lacks come last; while keys
 *   of the snapshot are held they answer instead;
 * - `KeysBudget` drops keys unused for `idleMs` (least recently used first),
 *   never with 0.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageKeys, SearchIndex, headerText, sortOrder, threadMessages, unpackForest, type HeaderRecord, type ThreadNode } from '../../../src/search/index.js';
import { openDb } from '../../../src/search/db.js';
import { SortStoreRefresher } from '../../../src/search/sort-store-refresh.js';
import { GroupKeys, KeysBudget } from '../../../src/export/backend/sort-keys.js';
import type { RecordSource } from '../../../src/export/backend/sort-records.js';
import type { ViewSnapshot } from '../../../src/export/backend/view.js';

const dirs: string[] = [];
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const N = 12;
const arrival = (uid: number): number => Date.UTC(2024, 0, 1) + uid * 60_000;
/** UID 4 has no Date: its sent date is its INTERNALDATE. */
function header(uid: number): Buffer {
  const date = uid === 4 ? '' : `Date: ${new Date(Date.UTC(2024, 0, 2) - (uid % 5) * 3_600_000).toUTCString()}\r\n`;
  const refs = uid > 2 && uid % 3 === 0 ? `References: <${uid - 2}@x>\r\n` : '';
  return Buffer.from(`Message-ID: <${uid}@x>\r\nSubject: ${uid % 2 === 0 ? 'Re: ' : ''}topic ${uid % 4}\r\nFrom: a@b\r\n${date}${refs}\r\n`);
}

async function setup(): Promise<{ index: SearchIndex; src: RecordSource }> {
  const d = mkdtempSync(join(tmpdir(), 'sort-keys-test-'));
  dirs.push(d);
  const index = await SearchIndex.open(join(d, 'search.db'), { writer: 'inline' });
  closers.push(() => index.close());
  const records: HeaderRecord[] = [];
  for (let uid = 1; uid <= N; uid++) records.push({ mailbox: 'g', uidValidity: 7, uid, header: header(uid), internalDate: arrival(uid), size: 500 });
  await index.addHeaders(records);
  const db = openDb(join(d, 'search.db'));
  closers.push(() => db.close());
  expect(new SortStoreRefresher(db).refresh('g', 7)).toBe(true);
  return { index, src: { group: 'g', index, reader: {} as RecordSource['reader'] } };
}

function snapshot(dates?: (uid: number) => number, uids = Uint32Array.from({ length: N }, (_, i) => i + 1)): ViewSnapshot {
  const table = { uids, numbers: Float64Array.from(uids), sizes: new Float64Array(uids.length).fill(500), dates: Float64Array.from(uids, (u) => (dates ?? arrival)(u)) };
  return { uids, uidValidity: 7, table, carrier: null } as unknown as ViewSnapshot;
}

function expected(): MessageKeys {
  const records = [];
  for (let uid = 1; uid <= N; uid++) {
    const h = headerText(header(uid));
    records.push({ uid, date: h.dateMs, arrival: arrival(uid), size: 500, subject: h.sortSubject, subjectDecoded: true, from: h.fromAddr, to: h.toAddr, cc: h.ccAddr, messageId: h.messageId, references: h.references, inReplyTo: h.inReplyTo });
  }
  return new MessageKeys(records);
}

type Plain = [number | null, Plain[]];
const plain = (f: readonly ThreadNode[]): Plain[] => f.map((n) => [n.uid, plain(n.children)]);

describe('stored answers through GroupKeys', () => {
  it('answers the whole group and a subset from the stored order; UIDs the snapshot lacks come last', async () => {
    const { src } = await setup();
    const snap = snapshot();
    const g = new GroupKeys(src, () => snap, new KeysBudget(1 << 30));
    const keys = expected();
    for (const criteria of [[{ key: 'DATE' as const }], [{ key: 'DATE' as const, reverse: true }], [{ key: 'SUBJECT' as const }]]) {
      const want = [...sortOrder(keys, criteria)].map((i) => i + 1);
      expect([...g.storedSort(criteria, snap.uids)!]).toEqual(want);
      const subset = Uint32Array.from([2, 3, 5, 8, 11, 40]);
      expect([...g.storedSort(criteria, subset)!]).toEqual([...want.filter((u) => subset.includes(u)), 40]);
    }
    expect(g.storedSort([{ key: 'FROM' }], snap.uids)).toBeUndefined();
    expect(plain(unpackForest(g.storedThread('REFERENCES', snap.uids)!))).toEqual(plain(threadMessages(keys, 'REFERENCES')));
    expect(g.storedThread('REFERENCES', Uint32Array.from([1, 2, 3]))).toBeUndefined();
  });

  it('hands out nothing for other UIDs, an unknown INTERNALDATE, or another fallback date', async () => {
    const { src } = await setup();
    const budget = new KeysBudget(1 << 30);
    const fewer = snapshot(undefined, Uint32Array.from({ length: N - 1 }, (_, i) => i + 1));
    expect(new GroupKeys(src, () => fewer, budget).storedSort([{ key: 'DATE' }], fewer.uids)).toBeUndefined();
    const unknown = snapshot((u) => (u === 9 ? NaN : arrival(u)));
    expect(new GroupKeys(src, () => unknown, budget).storedSort([{ key: 'DATE' }], unknown.uids)).toBeUndefined();
    // UID 4 (no Date) sorts by its INTERNALDATE: another one than the index used changes the answer
    const moved = snapshot((u) => (u === 4 ? arrival(4) + 1 : arrival(u)));
    expect(new GroupKeys(src, () => moved, budget).storedSort([{ key: 'DATE' }], moved.uids)).toBeUndefined();
    // any other INTERNALDATE is not read by the stored answers
    const other = snapshot((u) => (u === 5 ? arrival(5) + 1 : arrival(u)));
    expect(new GroupKeys(src, () => other, budget).storedSort([{ key: 'DATE' }], other.uids)).toBeDefined();
  });

  it('lets held keys of the snapshot answer', async () => {
    const { src } = await setup();
    const snap = snapshot();
    const g = new GroupKeys(src, () => snap, new KeysBudget(1 << 30));
    expect(g.storedSort([{ key: 'DATE' }], snap.uids)).toBeDefined();
    await g.get(new Set(['subject']));
    expect(g.storedSort([{ key: 'DATE' }], snap.uids)).toBeUndefined();
    g.drop();
    expect(g.storedSort([{ key: 'DATE' }], snap.uids)).toBeDefined();
  });
});

describe('KeysBudget idle drops', () => {
  function holder(budget: KeysBudget, log: string[], name: string): GroupKeys {
    const h = { drop: () => { log.push(name); budget.release(h as unknown as GroupKeys); } };
    return h as unknown as GroupKeys;
  }

  it('drops the keys unused for idleMs, least recently used first', () => {
    let now = 1_000;
    const budget = new KeysBudget(1 << 30, 60_000, () => now);
    const dropped: string[] = [];
    const a = holder(budget, dropped, 'a');
    const b = holder(budget, dropped, 'b');
    budget.charge(a, 100);
    now += 10_000;
    budget.charge(b, 200);
    now += 45_000;
    budget.touch(a);
    now += 10_000; // a used 10 s ago, b 55 s ago
    expect(budget.dropIdle()).toBe(0);
    now += 6_000; // b 61 s
    expect(budget.dropIdle()).toBe(1);
    expect(dropped).toEqual(['b']);
    expect(budget.bytes).toBe(100);
    now += 60_000;
    expect(budget.dropIdle()).toBe(1);
    expect(dropped).toEqual(['b', 'a']);
    expect(budget.bytes).toBe(0);
  });

  it('never drops for idleness with idleMs 0', () => {
    let now = 0;
    const budget = new KeysBudget(1 << 30, 0, () => now);
    const dropped: string[] = [];
    budget.charge(holder(budget, dropped, 'a'), 100);
    now += 86_400_000;
    expect(budget.dropIdle()).toBe(0);
    expect(dropped).toEqual([]);
  });
});
