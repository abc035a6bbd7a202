/**
 * SORT/THREAD answers stored by the writer (src/search sort-store.ts):
 * - what is stored equals the algorithms run on records made from each
 *   article's header (the way sort-records.ts reads a header), on random
 *   groups with missing dates, encoded subjects, replies, duplicates;
 * - validity: a new member or a removal moves the version (the old rows
 *   are not handed out), dropping the generation deletes them, another
 *   UIDVALIDITY sees none; a member flagged inexact stores nothing; an
 *   overview-only member whose In-Reply-To is unknown keeps REFERENCES and
 *   REFS out until it is known;
 * - the writer thread computes them once a mailbox's writes are quiet.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MessageKeys, SearchIndex, headerText, sortOrder, threadMessages, unpackForest,
  type HeaderRecord, type MessageRecord, type ThreadAlgorithm, type ThreadNode,
} from '../../src/search/index.js';
import { openDb, type Db } from '../../src/search/db.js';
import { SortStoreRefresher } from '../../src/search/sort-store-refresh.js';
import { STORED_ORDERS, STORED_THREADS } from '../../src/search/sort-store.js';
import { prng } from '../../bench/prng.js';

const dirs: string[] = [];
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function setup(writer: 'inline' | 'worker' = 'inline'): Promise<{ index: SearchIndex; db: Db; refresher: SortStoreRefresher }> {
  const d = mkdtempSync(join(tmpdir(), 'sort-store-test-'));
  dirs.push(d);
  const index = await SearchIndex.open(join(d, 'search.db'), { writer });
  closers.push(() => index.close());
  // a second writing connection stands in for the writer thread's
  const db = openDb(join(d, 'search.db'));
  closers.push(() => db.close());
  return { index, db, refresher: new SortStoreRefresher(db, { quietMs: 0 }) };
}

interface Spec {
  uid: number;
  id?: string;
  subject: string;
  date?: string;
  refs?: string;
  irt?: string;
}

function header(s: Spec): Buffer {
  const lines = [`From: u${s.uid % 5}@example.org`, `Subject: ${s.subject}`, `Newsgroups: g`];
  if (s.id !== undefined) lines.push(`Message-ID: ${s.id}`);
  if (s.date !== undefined) lines.push(`Date: ${s.date}`);
  if (s.refs !== undefined) lines.push(`References: ${s.refs}`);
  if (s.irt !== undefined) lines.push(`In-Reply-To: ${s.irt}`);
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'utf8');
}

const arrivalOf = (uid: number): number => Date.UTC(2024, 0, 1) + uid * 60_000;

function headerRecord(s: Spec, mailbox = 'g', uidValidity = 1): HeaderRecord {
  const h = header(s);
  // one document per article (as the UID map's key makes it), duplicate Message-IDs included
  return { mailbox, uidValidity, uid: s.uid, header: h, internalDate: arrivalOf(s.uid), size: h.length + 100, key: `<k${s.uid}@${mailbox}>` };
}

/** The record sort-records.ts makes from an article's header (`fromHeaders`). */
function recordOf(s: Spec): MessageRecord {
  const h = headerText(header(s));
  return {
    uid: s.uid, date: h.dateMs, arrival: arrivalOf(s.uid), size: 0, subject: h.sortSubject, subjectDecoded: true,
    from: h.fromAddr, to: h.toAddr, cc: h.ccAddr, messageId: h.messageId, references: h.references, inReplyTo: h.inReplyTo,
  };
}

function randomGroup(seed: number, n: number): Spec[] {
  const rnd = prng(seed);
  const pick = (k: number): number => Math.floor(rnd() * k);
  const out: Spec[] = [];
  for (let uid = 1; uid <= n; uid++) {
    const s: Spec = { uid, subject: ['hello', 'Re: hello', 'World', '=?utf-8?q?Gr=C3=BC=C3=9Fe?=', 'Fwd: world', 're: [x] Hello'][pick(6)]! };
    if (pick(10) > 0) s.id = `<${pick(3) === 0 ? pick(n) : uid}@x>`; // duplicates, missing ids
    if (pick(8) > 0) s.date = new Date(Date.UTC(2024, 0, 1) + pick(5) * 3_600_000).toUTCString(); // ties
    if (uid > 1 && pick(2) === 0) s.refs = Array.from({ length: 1 + pick(3) }, () => `<${1 + pick(uid - 1)}@x>`).join(' ');
    else if (uid > 1 && pick(4) === 0) s.irt = `<${1 + pick(uid - 1)}@x>`;
    out.push(s);
  }
  return out;
}

type Plain = [number | null, Plain[]];
const plain = (f: readonly ThreadNode[]): Plain[] => f.map((n) => [n.uid, plain(n.children)]);

describe('stored SORT/THREAD answers (sort-store.ts)', () => {
  it('equal the algorithms on records from the headers', async () => {
    for (const seed of [1, 2, 3, 4]) {
      const { index, refresher } = await setup();
      const specs = randomGroup(seed, 60 + seed * 7);
      await index.addHeaders(specs.map((s) => headerRecord(s)));
      expect(refresher.refresh('g', 1)).toBe(true);
      const stored = index.storedAnswers('g', 1)!;
      expect([...stored.members.uids]).toEqual(specs.map((s) => s.uid));
      const keys = new MessageKeys(specs.map(recordOf));
      for (const criteria of STORED_ORDERS) expect([...stored.order(criteria)!], JSON.stringify(criteria)).toEqual([...sortOrder(keys, criteria)]);
      for (const algorithm of STORED_THREADS) expect(plain(unpackForest(stored.forest(algorithm)!)), algorithm).toEqual(plain(threadMessages(keys, algorithm)));
      // the sent dates that fell back to INTERNALDATE, with the value used
      const missing = specs.flatMap((s, i) => (s.date === undefined ? [i] : []));
      expect([...stored.members.fallbackAt]).toEqual(missing);
      expect([...stored.members.fallbackDate]).toEqual(missing.map((i) => arrivalOf(specs[i]!.uid)));
      expect(stored.order([{ key: 'FROM' }])).toBeUndefined();
    }
  });

  it('are not handed out once membership moved; dropping the generation deletes them', async () => {
    const { index, db, refresher } = await setup();
    const specs = randomGroup(9, 20);
    await index.addHeaders(specs.slice(0, 15).map((s) => headerRecord(s)));
    expect(refresher.refresh('g', 1)).toBe(true);
    expect(index.storedAnswers('g', 1)?.members.uids.length).toBe(15);
    expect(index.storedAnswers('g', 2)).toBeUndefined();
    await index.addHeaders(specs.slice(15).map((s) => headerRecord(s)));
    expect(index.storedAnswers('g', 1)).toBeUndefined();
    expect(refresher.refresh('g', 1)).toBe(true);
    const now = index.storedAnswers('g', 1)!;
    expect(now.members.uids.length).toBe(20);
    await index.removeMembers('g', 1, [3]);
    expect(index.storedAnswers('g', 1)).toBeUndefined();
    // an answer object found before the removal does not hand out rows of the old version either
    expect(refresher.refresh('g', 1)).toBe(true);
    expect(now.order([{ key: 'DATE' }])).toBeUndefined();
    expect(index.storedAnswers('g', 1)?.members.uids.length).toBe(19);
    await index.dropMailbox('g', 1);
    const left = db.prepare('SELECT count(*) FROM sort_store').raw().get() as [number];
    expect(left[0]).toBe(0);
  });

  it('stores nothing while a member is flagged inexact', async () => {
    const { index, refresher } = await setup();
    await index.addHeaders([headerRecord({ uid: 1, id: '<1@x>', subject: 'fine' }), headerRecord({ uid: 2, id: '<2@x>', subject: 'bad\u0001value' })]);
    expect(refresher.refresh('g', 1)).toBe(false);
    expect(index.storedAnswers('g', 1)).toBeUndefined();
  });

  it('keeps REFERENCES and REFS out while an overview-only member may have a parent in In-Reply-To', async () => {
    const { index, refresher } = await setup();
    const overview = (uid: number, refs: string) => ({
      mailbox: 'g', uidValidity: 1, uid, internalDate: arrivalOf(uid), size: 300,
      overview: { subject: `s${uid}`, from: 'a@b', date: new Date(arrivalOf(uid)).toUTCString(), messageId: `<${uid}@x>`, references: refs },
    });
    await index.addOverview([overview(1, ''), overview(2, '<1@x>'), overview(3, '')]);
    expect(refresher.refresh('g', 1)).toBe(true);
    const before = index.storedAnswers('g', 1)!;
    const has = (a: ThreadAlgorithm): boolean => before.forest(a) !== undefined;
    expect([has('ORDEREDSUBJECT'), has('REFERENCES'), has('REFS')]).toEqual([true, false, false]);
    expect(before.order([{ key: 'SUBJECT' }])).toBeDefined();
    await index.setInReplyTo('g', 1, [{ uid: 1, value: '' }, { uid: 3, value: '<2@x>' }]);
    expect(refresher.refresh('g', 1)).toBe(true);
    const after = index.storedAnswers('g', 1)!;
    expect(plain(unpackForest(after.forest('REFERENCES')!))).toEqual([[1, [[2, [[3, []]]]]]]);
  });

  it('are computed at start for the mailboxes not looked at for their current version', async () => {
    const { index, db } = await setup();
    await index.addHeaders(randomGroup(6, 10).map((s) => headerRecord(s)));
    await index.addHeaders([headerRecord({ uid: 1, id: '<1@x>', subject: 'bad\u0001value' }, 'h')]);
    const seen: string[] = [];
    const first = new SortStoreRefresher(db, { quietMs: 0, onRefresh: (m, _v, stored) => seen.push(`${m}:${stored}`) });
    first.catchUp();
    for (let waited = 0; seen.length < 2 && waited < 10_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    expect(seen.sort()).toEqual(['g:true', 'h:false']);
    expect(index.storedAnswers('g', 1)?.members.uids.length).toBe(10);
    // looked at already, stored or not: a restart computes nothing
    const again: string[] = [];
    new SortStoreRefresher(db, { quietMs: 0, onRefresh: (m) => again.push(m) }).catchUp();
    await new Promise((r) => setTimeout(r, 50));
    expect(again).toEqual([]);
  });

  it('are computed again at most every minIntervalMs once stored complete', async () => {
    for (const minIntervalMs of [0, 3_600_000]) {
      const { index, db } = await setup();
      const specs = randomGroup(8, 20);
      const runs: boolean[] = [];
      const r = new SortStoreRefresher(db, { quietMs: 0, minIntervalMs, onRefresh: (_m, _v, stored) => runs.push(stored) });
      closers.push(() => r.close());
      await index.addHeaders(specs.slice(0, 10).map((s) => headerRecord(s)));
      r.touched('g', 1);
      for (let waited = 0; runs.length < 1 && waited < 10_000; waited += 10) await new Promise((res) => setTimeout(res, 10));
      await index.addHeaders(specs.slice(10).map((s) => headerRecord(s)));
      r.touched('g', 1);
      for (let waited = 0; runs.length < 2 && waited < 500; waited += 10) await new Promise((res) => setTimeout(res, 10));
      expect(runs, `minIntervalMs ${minIntervalMs}`).toEqual(minIntervalMs === 0 ? [true, true] : [true]);
      expect(index.storedAnswers('g', 1)?.members.uids.length).toBe(minIntervalMs === 0 ? 20 : undefined);
    }
  });

  it('count quiet from the last version change: in-place writes do not hold them back, arrivals do', async () => {
    const { index, db } = await setup();
    const specs = randomGroup(9, 20);
    await index.addHeaders(specs.slice(0, 10).map((s) => headerRecord(s)));
    const version = (): number => (db.prepare("SELECT version FROM mailboxes WHERE name = 'g'").raw().get() as [number])[0];
    const v1 = version();
    await index.addHeaders(specs.slice(0, 10).map((s) => headerRecord(s))); // the same documents again: in place
    expect(version()).toBe(v1);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const runs: number[] = [];
      const r = new SortStoreRefresher(db, { quietMs: 1_000, minIntervalMs: 0, onRefresh: () => runs.push(Date.now()) });
      closers.push(() => r.close());
      const start = Date.now();
      // in-place writes every 200 ms for 3 s: computed 1 s after the first touch all the same
      for (let t = 0; t < 3_000; t += 200) {
        r.touched('g', 1);
        vi.advanceTimersByTime(200);
      }
      expect(runs[0]! - start).toBe(1_000);
      expect(index.storedAnswers('g', 1)?.members.uids.length).toBe(10);
      const before = runs.length;
      // arrivals every 200 ms (each moves the version): nothing is computed until 1 s after the last
      for (const s of specs.slice(10, 15)) {
        await index.addHeaders([headerRecord(s)]);
        r.touched('g', 1);
        vi.advanceTimersByTime(200);
      }
      expect(runs).toHaveLength(before);
      vi.advanceTimersByTime(1_000);
      expect(runs).toHaveLength(before + 1);
      expect(index.storedAnswers('g', 1)?.members.uids.length).toBe(15);
    } finally {
      vi.useRealTimers();
    }
  });

  it('are computed by the writer thread once the writes are quiet', async () => {
    const { index } = await setup('worker');
    await index.addHeaders(randomGroup(5, 30).map((s) => headerRecord(s)));
    let stored = index.storedAnswers('g', 1);
    for (let waited = 0; stored === undefined && waited < 30_000; waited += 250) {
      await new Promise((r) => setTimeout(r, 250));
      stored = index.storedAnswers('g', 1);
    }
    expect(stored?.members.uids.length).toBe(30);
  }, 40_000);
});

