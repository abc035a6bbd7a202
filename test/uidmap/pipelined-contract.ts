/**
 * Contract of `MailboxUidMap.pipelined` (src/uidmap/types.ts), run by
 * memory.test.ts and lmdb.test.ts: overlapping `assign` calls give what the
 * same calls awaited one by one give, and `failures()` counts failed calls.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MailboxUidMap, SeenArticle, UidMapStore } from '../../src/uidmap/types.js';

const A = 'nntp://a.example:119';
const B = 'nntp://b.example:119';

interface Batch {
  articles: SeenArticle[];
  primary: boolean;
}

function dump(map: MailboxUidMap) {
  return { uidNext: map.uidNext(), count: map.count(), entries: [...map.uids()].map((u) => map.lookup(u)) };
}

async function serial(map: MailboxUidMap, batches: readonly Batch[]): Promise<number[][]> {
  const out: number[][] = [];
  for (const b of batches) out.push(await map.assign(b.articles, b.primary));
  return out;
}

function overlapping(map: MailboxUidMap, batches: readonly Batch[]): Promise<number[][]> {
  return Promise.all(batches.map((b) => map.assign(b.articles, b.primary)));
}

export function pipelinedContract(name: string, open: () => Promise<{ store: UidMapStore; cleanup: () => Promise<void> }>): void {
  describe(`MailboxUidMap.pipelined: ${name}`, () => {
    it('overlapping calls give the UIDs and the map that awaited calls give (duplicates across batches, moves, other upstreams)', async () => {
      const { store, cleanup } = await open();
      try {
        const batches: Batch[] = [
          { articles: [1, 2, 3, 4, 5].map((n) => ({ messageId: `<${n}@x>`, upstream: A, group: 'g', number: n })), primary: true },
          { articles: [6, 7, 8].map((n) => ({ messageId: n === 8 ? '<3@x>' : `<${n}@x>`, upstream: A, group: 'g', number: n })), primary: true },
          { articles: [{ messageId: '<2@x>', upstream: B, group: 'g', number: 40 }, { messageId: '<b1@x>', upstream: B, group: 'g', number: 41 }], primary: false },
          { articles: [{ messageId: '<late@x>', upstream: A, group: 'g', number: 4 }, { messageId: '<6@x>', upstream: A, group: 'g', number: 6 }], primary: true },
          { articles: [1, 2].map((n) => ({ messageId: `<${n}@x>`, upstream: A, group: 'g', number: n })), primary: true },
        ];
        const one = await store.open('one');
        const two = await store.open('two');
        expect(one.pipelined).toBeDefined();
        const want = await serial(one, batches);
        const got = await overlapping(two, batches);
        expect(got).toEqual(want);
        expect(want[1]).toEqual([6, 7, 3]);
        expect(want[2]).toEqual([2, 8]);
        expect(want[3]).toEqual([9, 6]);
        expect(dump(two)).toEqual(dump(one));
      } finally {
        await cleanup();
      }
    });

    it('property: any overlapping sequence equals the same sequence awaited', async () => {
      const { store, cleanup } = await open();
      let run = 0;
      try {
        const article = fc.record({ id: fc.integer({ min: 1, max: 30 }), number: fc.integer({ min: 1, max: 60 }), up: fc.boolean() });
        const batch = fc.record({ arts: fc.array(article, { minLength: 1, maxLength: 8 }), primary: fc.boolean() });
        await fc.assert(
          fc.asyncProperty(fc.array(batch, { minLength: 1, maxLength: 6 }), async (bs) => {
            const batches: Batch[] = bs.map((b) => ({
              primary: b.primary,
              articles: [...b.arts]
                .sort((x, y) => x.number - y.number)
                .map((a) => ({ messageId: `<${a.id}@p>`, upstream: a.up ? A : B, group: 'g', number: a.number })),
            }));
            run++;
            const one = await store.open(`s${run}`);
            const two = await store.open(`o${run}`);
            const want = await serial(one, batches);
            expect(await overlapping(two, batches)).toEqual(want);
            expect(dump(two)).toEqual(dump(one));
          }),
          { numRuns: 25 },
        );
      } finally {
        await cleanup();
      }
    });

    it('failures() counts a failed call by the time it rejects, and only failed ones', async () => {
      const { store, cleanup } = await open();
      try {
        const map = await store.open('f');
        const before = map.pipelined!.failures();
        await map.assign([{ messageId: '<ok@x>', upstream: A, group: 'g', number: 1 }], true);
        expect(map.pipelined!.failures()).toBe(before);
        await expect(map.assign([{ messageId: '', upstream: A, group: 'g', number: 2 }], true)).rejects.toThrow();
        expect(map.pipelined!.failures()).toBe(before + 1);
      } finally {
        await cleanup();
      }
    });
  });
}
