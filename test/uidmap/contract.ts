/**
 * The one contract suite for UidMapStore (STYLE §4), run against every
 * implementation by `memory.test.ts` and `lmdb.test.ts`. It checks the rules
 * stated in `src/uidmap/types.ts` and DESIGN invariants 1, 2 and 8.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { UidMapError } from '../../src/uidmap/errors.js';
import { MAX_MESSAGE_ID_BYTES, MAX_UID } from '../../src/uidmap/limits.js';
import type { MailboxUidMap, SeenArticle, UidMapStore } from '../../src/uidmap/types.js';
import { CheckedArticles, storableMessageId, type StorableMessageId } from '../../src/uidmap/validate.js';

export interface UidMapHarness {
  store: UidMapStore;
  /** Close the store and open the same storage again (persistent stores only). */
  reopen?: () => Promise<UidMapStore>;
  /** Close the store, destroy its map files (not the side file) and open a fresh store in their place. */
  lose?: () => Promise<UidMapStore>;
  /** Close whatever store is open and delete temporary files. */
  cleanup: () => Promise<void>;
}

export interface HarnessOptions {
  /** Clock (unix seconds) for new UIDVALIDITYs. */
  now?: () => number;
}

export type MakeHarness = (opts?: HarnessOptions) => Promise<UidMapHarness>;

export interface ContractOptions {
  /** The store keeps maps across close/reopen; the harness provides `reopen` and `lose`. */
  persistent: boolean;
}

const A = 'nntp://a.example:119';
const B = 'nntp://b.example:119';
const G = 'comp.lang.misc';

function art(n: number, id = `<${n}@a>`, upstream = A, group = G): SeenArticle {
  return { messageId: id, upstream, group, number: n };
}

async function expectCode(p: Promise<unknown> | (() => unknown), code: string): Promise<UidMapError> {
  let caught: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(UidMapError);
  expect((caught as UidMapError).code).toBe(code);
  return caught as UidMapError;
}

/** Everything the map holds, via the public interface only. */
function snapshot(map: MailboxUidMap) {
  return {
    uidNext: map.uidNext(),
    count: map.count(),
    entries: [...map.uids()].map((u) => map.lookup(u)),
  };
}

export function uidMapContract(name: string, make: MakeHarness, contract: ContractOptions): void {
  describe(`UidMapStore contract: ${name}`, () => {
    let h: UidMapHarness | undefined;
    afterEach(async () => {
      await h?.cleanup();
      h = undefined;
    });
    async function fresh(opts?: HarnessOptions): Promise<UidMapHarness> {
      h = await make(opts);
      return h;
    }
    async function freshMap(mailbox = G): Promise<MailboxUidMap> {
      return (await fresh()).store.open(mailbox);
    }

    describe('first sight', () => {
      it('gives primary articles their article number, keeping gaps', async () => {
        const map = await freshMap();
        expect(map.uidNext()).toBe(1);
        expect(map.count()).toBe(0);
        expect(await map.assign([art(3), art(5), art(9)], true)).toEqual([3, 5, 9]);
        expect([...map.uids()]).toEqual([3, 5, 9]);
        expect(map.uidNext()).toBe(10);
        expect(map.count()).toBe(3);
        expect(map.uidOf('<5@a>')).toBe(5);
        expect(map.lookup(5)).toEqual({ uid: 5, messageId: '<5@a>', location: { upstream: A, group: G, number: 5 } });
        expect(map.lookup(4)).toBeUndefined();
      });

      it('gives new primary articles numbered below UIDNEXT the UIDNEXT', async () => {
        const map = await freshMap();
        await map.assign([art(3), art(9)], true);
        expect(await map.assign([art(7, '<late7@a>'), art(8, '<late8@a>'), art(12)], true)).toEqual([10, 11, 12]);
        expect(map.uidNext()).toBe(13);
        expect(map.lookup(10)?.location.number).toBe(7);
      });

      it('gives articles first seen on a non-primary upstream the UIDNEXT', async () => {
        const map = await freshMap();
        expect(await map.assign([art(100, '<x@b>', B), art(200, '<y@b>', B)], false)).toEqual([1, 2]);
        expect(await map.assign([art(50)], true)).toEqual([50]);
        expect(await map.assign([art(500, '<z@b>', B)], false)).toEqual([51]);
        expect(map.uidNext()).toBe(52);
      });

      it('treats a Message-ID repeated inside one batch as one article', async () => {
        const map = await freshMap();
        expect(await map.assign([art(4, '<d@a>'), art(6, '<d@a>'), art(8)], true)).toEqual([4, 4, 8]);
        expect(map.count()).toBe(2);
        expect(map.lookup(4)?.location.number).toBe(6);
      });

      it('assigns UIDs strictly ascending across batches, whatever the numbers', async () => {
        const map = await freshMap();
        const batches = [[art(10), art(20)], [art(15, '<f@a>'), art(21)], [art(1, '<g@a>')], [art(100)]];
        let high = 0;
        for (const b of batches) {
          for (const uid of await map.assign(b, true)) {
            expect(uid).toBeGreaterThan(high);
            high = uid;
          }
        }
        expect([...map.uids()]).toEqual([10, 20, 21, 22, 23, 100]);
      });

      it('accepts article numbers above 2^32-1 as locations but gives them UIDNEXT', async () => {
        const map = await freshMap();
        expect(await map.assign([art(MAX_UID + 10, '<big@a>')], true)).toEqual([1]);
        expect(map.lookup(1)?.location.number).toBe(MAX_UID + 10);
      });
    });

    describe('the map is authoritative', () => {
      it('re-assigning the same batch is idempotent', async () => {
        const map = await freshMap();
        const batch = [art(2), art(3), art(7)];
        const first = await map.assign(batch, true);
        const before = snapshot(map);
        expect(await map.assign(batch, true)).toEqual(first);
        expect(await map.assign(batch, false)).toEqual(first);
        expect(snapshot(map)).toEqual(before);
      });

      it('keeps UIDs when an upstream renumbers, updates locations, puts new articles at or above UIDNEXT', async () => {
        const map = await freshMap();
        await map.assign([1, 2, 3, 4, 5].map((n) => art(n)), true);
        // Renumbered: same Message-IDs now at 101..105, plus two new articles.
        const renumbered = [1, 2, 3, 4, 5].map((n) => art(n + 100, `<${n}@a>`));
        const got = await map.assign([...renumbered, art(2, '<new1@a>'), art(106, '<new2@a>')], true);
        expect(got).toEqual([1, 2, 3, 4, 5, 6, 106]);
        expect(map.lookup(3)?.location).toEqual({ upstream: A, group: G, number: 103 });
        expect(map.lookup(6)?.location.number).toBe(2);
        expect(map.uidNext()).toBe(107);
        expect(map.count()).toBe(7);
      });

      it('keeps UIDs when the primary upstream is replaced by one with other numbering', async () => {
        const map = await freshMap();
        await map.assign([10, 11, 12].map((n) => art(n)), true);
        // B is the new primary: knows <10@a> and <12@a> under its own numbers and group name.
        const fromB = [
          art(7001, '<10@a>', B, 'comp.lang.misc'),
          art(7002, '<12@a>', B, 'comp.lang.misc'),
          art(7003, '<only-b@b>', B, 'comp.lang.misc'),
        ];
        expect(await map.assign(fromB, true)).toEqual([10, 12, 7003]);
        expect(map.lookup(10)?.location).toEqual({ upstream: B, group: G, number: 7001 });
        expect(map.lookup(11)?.location.upstream).toBe(A);
        // Seen as a non-primary upstream, a new article gets UIDNEXT instead.
        expect(await map.assign([art(9000, '<c@c>', 'nntp://c', G)], false)).toEqual([7004]);
      });
    });

    describe('concurrent calls', () => {
      it('gives overlapping assigns started together one UID per Message-ID', async () => {
        const map = await freshMap();
        const a = [1, 2, 3, 4, 5, 6].map((n) => art(n));
        const b = [4, 5, 6, 7, 8].map((n) => art(n + 50, `<${n}@a>`, B));
        const [ua, ub] = await Promise.all([map.assign(a, true), map.assign(b, false)]);
        const uidOf = new Map<string, number>();
        [...a.map((x, i) => [x.messageId, ua[i]!] as const), ...b.map((x, i) => [x.messageId, ub[i]!] as const)].forEach(
          ([id, uid]) => {
            expect(uidOf.get(id) ?? uid).toBe(uid);
            uidOf.set(id, uid);
          },
        );
        expect(new Set(uidOf.values()).size).toBe(8);
        expect(map.count()).toBe(8);
        for (const [id, uid] of uidOf) expect(map.uidOf(id)).toBe(uid);
      });
    });

    describe('removal', () => {
      it('forgets removed UIDs and never reuses them', async () => {
        const map = await freshMap();
        await map.assign([1, 2, 3, 4].map((n) => art(n)), true);
        await map.remove([2, 3, 99]);
        expect([...map.uids()]).toEqual([1, 4]);
        expect(map.count()).toBe(2);
        expect(map.uidNext()).toBe(5);
        expect(map.lookup(2)).toBeUndefined();
        expect(map.uidOf('<2@a>')).toBeUndefined();
        // The expired article reappears, and a new one claims number 3: neither gets an old UID.
        expect(await map.assign([art(2), art(3, '<other3@a>')], true)).toEqual([5, 6]);
        await map.remove([]);
        await map.remove([1, 4, 5, 6]);
        expect(map.count()).toBe(0);
        expect(map.uidNext()).toBe(7);
        expect(await map.assign([art(1, '<again@a>')], true)).toEqual([7]);
      });
    });

    describe('ranges', () => {
      it('lists UIDs in [lo, hi] ascending', async () => {
        const map = await freshMap();
        await map.assign([2, 4, 6, 8, 10].map((n) => art(n)), true);
        expect([...map.uids(4, 8)]).toEqual([4, 6, 8]);
        expect([...map.uids(5)]).toEqual([6, 8, 10]);
        expect([...map.uids(undefined, 3)]).toEqual([2]);
        expect([...map.uids(9, 3)]).toEqual([]);
        expect([...map.uids(11, MAX_UID)]).toEqual([]);
        expect([...map.uids(0, MAX_UID + 5)]).toEqual([2, 4, 6, 8, 10]);
      });
    });

    describe('mailboxes and UIDVALIDITY', () => {
      it('keeps mailboxes apart and gives each map its own UIDVALIDITY', async () => {
        const { store } = await fresh();
        const a = await store.open('a.b');
        const b = await store.open('a.b.c');
        await a.assign([art(5)], true);
        await b.assign([art(7)], true);
        expect(a.uidOf('<7@a>')).toBeUndefined();
        expect(b.uidOf('<7@a>')).toBe(7);
        expect(new Set(store.mailboxes())).toEqual(new Set(['a.b', 'a.b.c']));
        expect(a.uidValidity).not.toBe(b.uidValidity);
        for (const v of [a.uidValidity, b.uidValidity]) {
          expect(Number.isInteger(v) && v >= 1 && v <= 0xffffffff).toBe(true);
        }
        const again = await store.open('a.b');
        expect(again.uidValidity).toBe(a.uidValidity);
        expect(again.uidNext()).toBe(6);
      });

      it('uses max(clock, last + 1) for a new map', async () => {
        let now = 1_000_000;
        const { store } = await fresh({ now: () => now });
        expect((await store.open('m1')).uidValidity).toBe(1_000_000);
        expect((await store.open('m2')).uidValidity).toBe(1_000_001); // same second
        now = 5; // clock went backwards
        expect((await store.open('m3')).uidValidity).toBe(1_000_002);
        now = 2_000_000;
        expect((await store.open('m4')).uidValidity).toBe(2_000_000);
      });

      it('gives concurrent opens of a new mailbox one map', async () => {
        const { store } = await fresh();
        const maps = await Promise.all([store.open('x'), store.open('x'), store.open('x')]);
        expect(new Set(maps.map((m) => m.uidValidity)).size).toBe(1);
        expect(store.mailboxes()).toEqual(['x']);
      });
    });

    describe('atomic batches', () => {
      it('stores nothing of a batch with one invalid article', async () => {
        const map = await freshMap();
        await map.assign([art(1)], true);
        const before = snapshot(map);
        await expectCode(map.assign([art(2), art(3), { ...art(4), number: 4.5 }], true), 'INVALID_INPUT');
        expect(snapshot(map)).toEqual(before);
        expect(map.uidOf('<2@a>')).toBeUndefined();
      });

      it('stores nothing of a batch that runs out of UIDs', async () => {
        const map = await freshMap();
        expect(await map.assign([art(MAX_UID - 1, '<penultimate@a>')], true)).toEqual([MAX_UID - 1]);
        const before = snapshot(map);
        await expectCode(map.assign([art(1, '<p@a>'), art(2, '<q@a>')], false), 'UID_EXHAUSTED');
        expect(snapshot(map)).toEqual(before);
        expect(await map.assign([art(1, '<p@a>')], false)).toEqual([MAX_UID]);
        await expectCode(map.assign([art(MAX_UID, '<r@a>')], true), 'UID_EXHAUSTED');
        // Known articles still resolve once the UID space is full.
        expect(await map.assign([art(77, '<p@a>')], true)).toEqual([MAX_UID]);
      });
    });

    describe('checked batches (CheckedArticles)', () => {
      it('assigns as an array of the same articles does', async () => {
        const { store } = await fresh();
        const [m1, m2] = [await store.open(G), await store.open('g.other')];
        const ids = ['<c1@a>', '<c2@a>', '<c1@a>', '<c3@a>'];
        const batch = new CheckedArticles(A, 'g.other');
        ids.forEach((id, i) => batch.add(storableMessageId(id)!, 10 + i));
        expect(batch.length).toBe(4);
        const plain = await m1.assign(ids.map((id, i) => art(10 + i, id)), true);
        expect(await m2.assign(batch, true)).toEqual(plain);
        expect(m2.lookup(13)).toEqual({ uid: 13, messageId: '<c3@a>', location: { upstream: A, group: 'g.other', number: 13 } });
      });

      it('are checked as they are made: names, numbers, size; Message-IDs by their type', async () => {
        await expectCode(() => new CheckedArticles('', G), 'INVALID_INPUT');
        await expectCode(() => new CheckedArticles(A, 'bad\u0000group'), 'INVALID_INPUT');
        const batch = new CheckedArticles(A, G);
        for (const n of [0, -1, 1.5, Number.NaN, 2 ** 60]) await expectCode(() => batch.add('<x@a>' as StorableMessageId, n), 'INVALID_INPUT');
        expect(batch.length).toBe(0);
        for (const id of ['', '<a\u0000b@a>', '<\ud800@a>', `<${'x'.repeat(MAX_MESSAGE_ID_BYTES)}@a>`, 42]) expect(storableMessageId(id)).toBeUndefined();
        expect(storableMessageId('<ok@a>')).toBe('<ok@a>');
      });
    });

    describe('hostile input', () => {
      it('refuses bad Message-IDs, numbers and names with INVALID_INPUT', async () => {
        const { store } = await fresh();
        const map = await store.open(G);
        const bad: unknown[] = [
          { ...art(1), messageId: '' },
          { ...art(1), messageId: `<${'x'.repeat(MAX_MESSAGE_ID_BYTES)}@a>` },
          { ...art(1), messageId: `<${'é'.repeat(MAX_MESSAGE_ID_BYTES / 2)}>` }, // > 511 bytes, < 511 chars
          { ...art(1), messageId: '<a\u0000b@a>' },
          { ...art(1), messageId: '<a\r\nb@a>' },
          { ...art(1), messageId: '<\ud800@a>' },
          { ...art(1), messageId: 42 },
          { ...art(1), number: 1.5 },
          { ...art(1), number: 0 },
          { ...art(1), number: -3 },
          { ...art(1), number: Number.NaN },
          { ...art(1), number: Infinity },
          { ...art(1), number: '7' },
          { ...art(1), number: 2 ** 60 },
          { ...art(1), upstream: '' },
          { ...art(1), group: '' },
          null,
          'article',
        ];
        for (const a of bad) {
          const err = await expectCode(map.assign([a as SeenArticle], true), 'INVALID_INPUT');
          expect(err.message.length).toBeGreaterThan(10);
        }
        await expectCode(map.assign('nope' as unknown as SeenArticle[], true), 'INVALID_INPUT');
        // an object shaped like a checked batch is not one: its articles are checked
        const fake = { upstream: A, group: G, length: 1, articles: [{ ...art(1), messageId: '<a\u0000b@a>' }] };
        await expectCode(map.assign(fake as unknown as CheckedArticles, true), 'INVALID_INPUT');
        const long = await expectCode(map.assign([{ ...art(1), messageId: `<${'y'.repeat(600)}>` }], true), 'INVALID_INPUT');
        expect(long.message).toMatch(/511/);
        expect(map.count()).toBe(0);
        expect(map.uidNext()).toBe(1);

        // Lookups of impossible keys answer "unknown" rather than throw.
        expect(map.uidOf('')).toBeUndefined();
        expect(map.uidOf('x'.repeat(5000))).toBeUndefined();
        expect(map.lookup(1.5)).toBeUndefined();
        expect(map.lookup(-1)).toBeUndefined();
        expect(map.lookup(NaN)).toBeUndefined();
        await expectCode(map.remove([0]), 'INVALID_INPUT');
        await expectCode(map.remove([1.5]), 'INVALID_INPUT');
        await expectCode(() => [...map.uids('a' as unknown as number)], 'INVALID_INPUT');
        await expectCode(store.open(''), 'INVALID_INPUT');
        await expectCode(store.open('bad\u0000name'), 'INVALID_INPUT');
        await expectCode(store.open('x'.repeat(2000)), 'INVALID_INPUT');
      });

      it('accepts a Message-ID of exactly the limit', async () => {
        const map = await freshMap();
        const id = `<${'z'.repeat(MAX_MESSAGE_ID_BYTES - 4)}@a>`;
        expect(Buffer.byteLength(id)).toBe(MAX_MESSAGE_ID_BYTES);
        expect(await map.assign([art(1, id)], true)).toEqual([1]);
        expect(map.uidOf(id)).toBe(1);
      });
    });

    describe('closing', () => {
      it('refuses use after close with CLOSED', async () => {
        const harness = await fresh();
        const map = await harness.store.open(G);
        await map.assign([art(1)], true);
        await harness.store.close();
        await expectCode(() => map.uidNext(), 'CLOSED');
        await expectCode(map.assign([art(2)], true), 'CLOSED');
        await expectCode(harness.store.open(G), 'CLOSED');
      });
    });

    describe.runIf(contract.persistent)('persistence', () => {
      it('keeps maps across close and reopen', async () => {
        const harness = await fresh();
        if (harness.reopen === undefined) throw new Error('persistent harness without reopen');
        const map = await harness.store.open(G);
        await map.assign([art(3), art(8)], true);
        await map.remove([3]);
        const before = { v: map.uidValidity, ...snapshot(map) };
        const store2 = await harness.reopen();
        const map2 = await store2.open(G);
        expect({ v: map2.uidValidity, ...snapshot(map2) }).toEqual(before);
        expect(map2.uidOf('<8@a>')).toBe(8);
        expect(await map2.assign([art(5, '<n@a>'), art(8)], true)).toEqual([9, 8]);
        expect(store2.mailboxes()).toEqual([G]);
      });

      it('gives a lost and recreated map a new UIDVALIDITY even if the clock stands still', async () => {
        const harness = await fresh({ now: () => 1_700_000_000 });
        if (harness.lose === undefined) throw new Error('persistent harness without lose');
        const old = await harness.store.open(G);
        await old.assign([art(1)], true);
        const oldValidity = old.uidValidity;
        const store2 = await harness.lose();
        expect(store2.mailboxes()).toEqual([]);
        const map = await store2.open(G);
        expect(map.uidValidity).toBeGreaterThan(oldValidity);
        expect(map.uidOf('<1@a>')).toBeUndefined();
      });
    });

    describe('property: any sequence of batches keeps the bijection and the order', () => {
      const ids = fc.integer({ min: 0, max: 40 }).map((i) => `<p${i}@prop>`);
      const seen = fc.record({
        messageId: ids,
        upstream: fc.constantFrom(A, B),
        group: fc.constant(G),
        number: fc.integer({ min: 1, max: 120 }),
      });
      const step = fc.oneof(
        { weight: 4, arbitrary: fc.record({ kind: fc.constant('assign' as const), batch: fc.array(seen, { maxLength: 12 }), primary: fc.boolean() }) },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), uids: fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 5 }) }) },
      );

      it('holds', async () => {
        const { store } = await fresh();
        let run = 0;
        await fc.assert(
          fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 15 }), async (steps) => {
            const map = await store.open(`prop.${run++}`);
            /** Every UID ever handed out, with its Message-ID: a UID names one article forever. */
            const ever = new Map<number, string>();
            for (const s of steps) {
              if (s.kind === 'remove') {
                const next = map.uidNext();
                await map.remove(s.uids);
                for (const u of s.uids) expect(map.lookup(u)).toBeUndefined();
                expect(map.uidNext()).toBe(next);
                continue;
              }
              const before = new Map(s.batch.map((a) => [a.messageId, map.uidOf(a.messageId)]));
              let next = map.uidNext();
              const got = await map.assign(s.batch, s.primary);
              expect(got.length).toBe(s.batch.length);
              const fresh = new Map<string, number>();
              s.batch.forEach((a, i) => {
                const uid = got[i]!;
                const old = before.get(a.messageId) ?? fresh.get(a.messageId);
                if (old !== undefined) {
                  expect(uid).toBe(old);
                } else {
                  // First sight: the rule, and strictly ascending.
                  expect(uid).toBe(s.primary && a.number >= next ? a.number : next);
                  next = uid + 1;
                  fresh.set(a.messageId, uid);
                }
                const prior = ever.get(uid);
                expect(prior === undefined || prior === a.messageId).toBe(true);
                ever.set(uid, a.messageId);
              });
              expect(map.uidNext()).toBe(next);
              // Location = the last sighting in the batch.
              const last = new Map(s.batch.map((a) => [a.messageId, a]));
              for (const [id, a] of last) {
                expect(map.lookup(map.uidOf(id)!)?.location).toEqual({ upstream: a.upstream, group: a.group, number: a.number });
              }
            }
            // Bijection over the whole map, and ascending listing.
            const all = [...map.uids()];
            expect(all).toEqual([...all].sort((x, y) => x - y));
            expect(new Set(all).size).toBe(all.length);
            expect(map.count()).toBe(all.length);
            const msgids = new Set<string>();
            for (const u of all) {
              const e = map.lookup(u)!;
              expect(e.uid).toBe(u);
              expect(map.uidOf(e.messageId)).toBe(u);
              msgids.add(e.messageId);
              expect(u).toBeLessThan(map.uidNext());
            }
            expect(msgids.size).toBe(all.length);
          }),
          { numRuns: 60 },
        );
      });
    });
  });
}
