/**
 * The one contract suite for FlagStore (STYLE §4), run against the session
 * store (`session.test.ts`), the LMDB store (`local.test.ts`) and the remote
 * store against a real agent (`remote.test.ts`). It checks the rules stated
 * in `src/stateagent/flagstore.ts` and RFC 7162 §3.1 (modseqs), including
 * what `update` returns: the flags and modseq it set per UID (STORE answers
 * from it without reading the store again).
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FlagStoreError, type ChangeEvent, type FlagChange, type FlagKey, type FlagOp, type FlagStore,
} from '../../src/stateagent/flagstore.js';

export interface FlagStoreHarness {
  store: FlagStore;
  /** Close the store and open the same storage again (persistent stores only). */
  reopen?: () => Promise<FlagStore>;
  /** Resolves once `watch(user)` listeners will hear changes (a remote feed connects asynchronously). */
  watching?: (user: string) => Promise<void>;
  /** Close whatever is open and delete temporary files. */
  cleanup: () => Promise<void>;
}

export interface ContractOptions {
  persistent: boolean;
  /** `watch` hears changes made through the same store by other sessions. */
  watches: boolean;
  /** The store refuses bad flags / UIDs with FlagStoreError('INVALID'). */
  validates: boolean;
  /** One store holds many users (false for the session store: one instance per IMAP session). */
  multiUser: boolean;
  /** fast-check runs for the model property (each update may fsync). */
  propertyRuns: number;
}

const K: FlagKey = { user: 'alice', mailbox: 'comp.lang.misc', uidValidity: 1700000000 };

/** `changes` with each flag list sorted (stores may list flags in any order). */
function sorted(changes: readonly FlagChange[]): Array<{ uid: number; flags: string[]; modseq: number }> {
  return changes.map((c) => ({ uid: c.uid, flags: [...c.flags].sort(), modseq: c.modseq }));
}

function range(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let u = lo; u <= hi; u++) out.push(u);
  return out;
}

/** Wait for `cond` (event delivery is asynchronous for the remote store); fails after ~5 s. */
/** Polls `cond` every 10 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  for (let i = 0; i < timeoutMs / 10; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export function flagStoreContract(name: string, make: () => Promise<FlagStoreHarness>, o: ContractOptions): void {
  describe(`FlagStore contract: ${name}`, () => {
    let h: FlagStoreHarness;
    let s: FlagStore;
    beforeEach(async () => {
      h = await make();
      s = h.store;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it(`reports persistent = ${o.persistent}`, () => {
      expect(s.persistent).toBe(o.persistent);
    });

    it('starts empty: no flags, modseq 1 everywhere', async () => {
      const v = await s.view(K, 1, 100);
      expect(v.highestModseq).toBe(1);
      expect(v.flagsOf(1)).toEqual([]);
      expect(v.has(5, '\\Seen')).toBe(false);
      expect(v.modseqOf(7)).toBe(1);
      expect(v.keywords()).toEqual([]);
      expect(await s.changedSince(K, 0)).toEqual([]);
    });

    it('adds, removes and sets system flags and keywords', async () => {
      await s.update(K, [1, 2, 3, 5], 'add', ['\\Seen']);
      const f = await s.update(K, [2, 3], 'add', ['\\Flagged', '$Important']);
      expect(sorted(f.changes)).toEqual([
        { uid: 2, flags: ['$Important', '\\Flagged', '\\Seen'], modseq: f.modseq },
        { uid: 3, flags: ['$Important', '\\Flagged', '\\Seen'], modseq: f.modseq },
      ]);
      const r = await s.update(K, [3], 'remove', ['\\Seen']);
      expect(sorted(r.changes)).toEqual([{ uid: 3, flags: ['$Important', '\\Flagged'], modseq: r.modseq }]);
      const t = await s.update(K, [5], 'set', ['\\Answered', 'todo']);
      expect(sorted(t.changes)).toEqual([{ uid: 5, flags: ['\\Answered', 'todo'], modseq: t.modseq }]);
      const v = await s.view(K, 1, 10);
      expect([...v.flagsOf(1)].sort()).toEqual(['\\Seen']);
      expect([...v.flagsOf(2)].sort()).toEqual(['$Important', '\\Flagged', '\\Seen']);
      expect([...v.flagsOf(3)].sort()).toEqual(['$Important', '\\Flagged']);
      expect(v.flagsOf(4)).toEqual([]);
      expect([...v.flagsOf(5)].sort()).toEqual(['\\Answered', 'todo']);
      expect(v.has(2, '$Important')).toBe(true);
      expect(v.has(5, '\\Seen')).toBe(false);
      expect([...v.keywords()].sort()).toEqual(['$Important', '\\Answered', '\\Flagged', '\\Seen', 'todo']);
      // `set` to nothing clears; a flag no UID has any more leaves the keyword list
      expect((await s.update(K, [5], 'set', [])).changes).toEqual([{ uid: 5, flags: [], modseq: t.modseq + 1 }]);
      await s.update(K, [2, 3], 'remove', ['$Important']);
      const w = await s.view(K, 1, 10);
      expect(w.flagsOf(5)).toEqual([]);
      expect([...w.keywords()].sort()).toEqual(['\\Flagged', '\\Seen']);
    });

    it('gives each update one new, higher modseq; untouched UIDs keep theirs (never changed = 1)', async () => {
      const a = await s.update(K, [10, 11], 'add', ['\\Seen']);
      const b = await s.update(K, [11, 12], 'add', ['\\Flagged']);
      expect(a.modseq).toBeGreaterThan(1);
      expect(b.modseq).toBeGreaterThan(a.modseq);
      expect(b.highestModseq).toBe(b.modseq);
      expect(a.modified).toEqual([]);
      const v = await s.view(K, 1, 20);
      expect(v.highestModseq).toBe(b.modseq);
      expect(v.modseqOf(10)).toBe(a.modseq);
      expect(v.modseqOf(11)).toBe(b.modseq);
      expect(v.modseqOf(12)).toBe(b.modseq);
      expect(v.modseqOf(9)).toBe(1);
      expect(v.modseqOf(13)).toBe(1);
    });

    it('UNCHANGEDSINCE: UIDs changed later are listed in modified and left untouched (RFC 7162 §3.2)', async () => {
      const a = await s.update(K, [1, 2, 3, 4], 'add', ['\\Seen']);
      const b = await s.update(K, [2, 4], 'add', ['\\Flagged']);
      const c = await s.update(K, [1, 2, 3, 4], 'add', ['\\Answered'], { unchangedSince: a.modseq });
      expect(c.modified).toEqual([2, 4]);
      expect(c.modseq).toBeGreaterThan(b.modseq);
      expect(sorted(c.changes)).toEqual([
        { uid: 1, flags: ['\\Answered', '\\Seen'], modseq: c.modseq },
        { uid: 3, flags: ['\\Answered', '\\Seen'], modseq: c.modseq },
      ]);
      const v = await s.view(K, 1, 5);
      expect(v.has(1, '\\Answered')).toBe(true);
      expect(v.has(3, '\\Answered')).toBe(true);
      expect(v.has(2, '\\Answered')).toBe(false);
      expect(v.has(4, '\\Answered')).toBe(false);
      expect(v.modseqOf(2)).toBe(b.modseq);
      // nothing passes: no new modseq, HIGHESTMODSEQ unchanged
      const d = await s.update(K, [1, 3], 'remove', ['\\Seen'], { unchangedSince: 1 });
      expect(d.modified).toEqual([1, 3]);
      expect(d.changes).toEqual([]);
      expect(d.modseq).toBe(c.modseq);
      expect(d.highestModseq).toBe(c.modseq);
      expect((await s.view(K, 1, 5)).has(1, '\\Seen')).toBe(true);
      // unchangedSince 0 on a never-changed UID: its modseq 1 > 0, so it is refused too
      const e = await s.update(K, [9], 'add', ['\\Seen'], { unchangedSince: 0 });
      expect(e.modified).toEqual([9]);
    });

    it('an update that changes nothing keeps HIGHESTMODSEQ, and UIDs already so keep their modseq', async () => {
      const a = await s.update(K, [1, 2, 3, 4], 'add', ['\\Seen']);
      expect(a.bumped).toBe(true);
      const b = await s.update(K, range(1, 6), 'add', ['\\Seen']); // only 5 and 6 change
      expect(b.bumped).toBe(true);
      expect(b.modseq).toBeGreaterThan(a.modseq);
      const state = [
        ...[1, 2, 3, 4].map((uid) => ({ uid, flags: ['\\Seen'], modseq: a.modseq })),
        ...[5, 6].map((uid) => ({ uid, flags: ['\\Seen'], modseq: b.modseq })),
      ];
      expect(sorted(b.changes)).toEqual(state);
      for (const [uids, op, flags] of [
        [range(1, 6), 'add', ['\\Seen']],
        [[7, 8], 'remove', ['\\Flagged', 'k9']],
        [[5, 6], 'set', ['\\Seen']],
        [[9], 'set', []],
      ] as Array<[number[], FlagOp, string[]]>) {
        const c = await s.update(K, uids, op, flags);
        expect([op, c.bumped, c.modseq, c.highestModseq]).toEqual([op, false, b.modseq, b.modseq]);
        expect(c.modified).toEqual([]);
      }
      const c = await s.update(K, range(1, 6), 'add', ['\\Seen'], { unchangedSince: b.modseq });
      expect(sorted(c.changes)).toEqual(state);
      expect(c.bumped).toBe(false);
      const v = await s.view(K, 1, 10);
      expect(v.highestModseq).toBe(b.modseq);
      expect(v.modseqOf(1)).toBe(a.modseq);
      expect(v.modseqOf(6)).toBe(b.modseq);
      expect(v.modseqOf(7)).toBe(1);
      expect(await s.changedSince(K, b.modseq)).toEqual([]);
      expect((await s.changedSince(K, a.modseq)).map((x) => x.uid)).toEqual([5, 6]);
    });

    it('changedSince lists exactly the UIDs changed after a modseq, with current flags', async () => {
      const a = await s.update(K, [1, 2], 'add', ['\\Seen']);
      const b = await s.update(K, [2, 3], 'add', ['k1']);
      const since = await s.changedSince(K, a.modseq);
      expect(since).toEqual([
        { uid: 2, flags: expect.arrayContaining(['\\Seen', 'k1']), modseq: b.modseq },
        { uid: 3, flags: ['k1'], modseq: b.modseq },
      ]);
      expect(since[0]!.flags).toHaveLength(2);
      const all = await s.changedSince(K, 1);
      expect(all.map((c) => c.uid)).toEqual([1, 2, 3]);
      expect(all[0]).toEqual({ uid: 1, flags: ['\\Seen'], modseq: a.modseq });
      expect(await s.changedSince(K, b.modseq)).toEqual([]);
    });

    it('handles 1:50000 as ranges', async () => {
      const uids = range(1, 50000);
      const r = await s.update(K, uids, 'add', ['\\Seen']);
      expect(r.changes).toHaveLength(50000);
      expect(r.changes[49999]).toEqual({ uid: 50000, flags: ['\\Seen'], modseq: r.modseq });
      expect(r.changes.every((c, i) => c.uid === i + 1 && c.modseq === r.modseq && c.flags.length === 1)).toBe(true);
      await s.update(K, [25000], 'remove', ['\\Seen']);
      const v = await s.view(K, 1, 50000);
      expect(v.has(1, '\\Seen')).toBe(true);
      expect(v.has(24999, '\\Seen')).toBe(true);
      expect(v.has(25000, '\\Seen')).toBe(false);
      expect(v.has(50000, '\\Seen')).toBe(true);
      expect(v.has(50001, '\\Seen')).toBe(false);
      expect(v.modseqOf(49999)).toBe(r.modseq);
      const ch = await s.changedSince(K, 1);
      expect(ch).toHaveLength(50000);
      expect(ch[24999]!.flags).toEqual([]);
    });

    it(`keeps ${o.multiUser ? 'users, ' : ''}mailboxes and UIDVALIDITYs apart`, async () => {
      await s.update(K, [1], 'add', ['\\Seen']);
      for (const other of [
        ...(o.multiUser ? [{ ...K, user: 'bob' }] : []),
        { ...K, mailbox: 'comp.lang.other' },
        { ...K, uidValidity: K.uidValidity + 1 },
      ]) {
        const v = await s.view(other, 1, 10);
        expect(v.has(1, '\\Seen')).toBe(false);
        expect(v.highestModseq).toBe(1);
      }
    });

    it('keeps subscriptions per user (null until set)', async () => {
      expect(await s.subscriptions('alice')).toBeNull();
      await s.setSubscribed('alice', 'comp.lang.misc', true);
      await s.setSubscribed('alice', 'alt.test', true);
      await s.setSubscribed('alice', 'comp.lang.misc', false);
      expect(await s.subscriptions('alice')).toEqual(['alt.test']);
      expect(await s.subscriptions('bob')).toBeNull();
      await s.setSubscribed('alice', 'alt.test', false);
      expect(await s.subscriptions('alice')).toEqual([]);
    });

    if (o.watches) {
      it('watch delivers changes to other sessions of the user, and stops after unsubscribe', async () => {
        const seen: ChangeEvent[] = [];
        const other: ChangeEvent[] = [];
        const stop = s.watch('alice', (e) => seen.push(e));
        const stopBob = s.watch('bob', (e) => other.push(e));
        await h.watching?.('alice');
        await h.watching?.('bob');
        const r = await s.update(K, [4, 5], 'add', ['\\Flagged']);
        await until(() => seen.length >= 1, 'change event');
        expect(seen[0]!.key).toEqual(K);
        expect(seen[0]!.highestModseq).toBe(r.modseq);
        expect(seen[0]!.changes).toEqual([
          { uid: 4, flags: ['\\Flagged'], modseq: r.modseq },
          { uid: 5, flags: ['\\Flagged'], modseq: r.modseq },
        ]);
        stop();
        await s.update(K, [6], 'add', ['\\Flagged']);
        await s.update({ ...K, user: 'bob' }, [1], 'add', ['\\Seen']);
        await until(() => other.length >= 1, 'bob event');
        expect(seen).toHaveLength(1);
        stopBob();
      });
      it('watch hears nothing of an update that changes nothing', async () => {
        await s.update(K, [1, 2], 'add', ['\\Seen']);
        const seen: ChangeEvent[] = [];
        const stop = s.watch('alice', (e) => seen.push(e));
        await h.watching?.('alice');
        await s.update(K, [1, 2], 'add', ['\\Seen']);
        const r = await s.update(K, [3], 'add', ['\\Seen']); // the feed is ordered: this one comes after
        await until(() => seen.length >= 1, 'change event');
        expect(seen.map((e) => e.changes)).toEqual([[{ uid: 3, flags: ['\\Seen'], modseq: r.modseq }]]);
        stop();
      });
    } else {
      it('watch never fires: a session-only store has no other sessions', async () => {
        const seen: ChangeEvent[] = [];
        const stop = s.watch('alice', (e) => seen.push(e));
        await s.update(K, [1], 'add', ['\\Seen']);
        await new Promise((r) => setImmediate(r));
        expect(seen).toEqual([]);
        stop();
      });
    }

    if (o.validates) {
      it('refuses bad input with INVALID and stores nothing', async () => {
        const bad: Array<() => Promise<unknown>> = [
          () => s.update(K, [1], 'add', ['\\Recent']),
          () => s.update(K, [1], 'add', ['a b']),
          () => s.update(K, [1], 'add', ['\\Bogus']),
          () => s.update(K, [0], 'add', ['\\Seen']),
          () => s.update(K, [3, 2], 'add', ['\\Seen']),
          () => s.update(K, [1.5], 'add', ['\\Seen']),
          () => s.update(K, [1], 'frob' as FlagOp, ['\\Seen']),
          () => s.update({ ...K, uidValidity: 0 }, [1], 'add', ['\\Seen']),
          () => s.update({ ...K, mailbox: 'a\nb' }, [1], 'add', ['\\Seen']),
          () => s.update({ ...K, user: '' }, [1], 'add', ['\\Seen']),
        ];
        for (const f of bad) {
          const err = await f().then(() => undefined, (e: unknown) => e);
          expect(err).toBeInstanceOf(FlagStoreError);
          expect((err as FlagStoreError).code).toBe('INVALID');
        }
        expect((await s.view(K, 1, 5)).highestModseq).toBe(1);
      });

      it('accepts system flags in any case and stores them canonically', async () => {
        await s.update(K, [1], 'add', ['\\seen', '\\FLAGGED']);
        const v = await s.view(K, 1, 1);
        expect([...v.flagsOf(1)].sort()).toEqual(['\\Flagged', '\\Seen']);
      });
    }

    if (o.persistent) {
      it('keeps flags, modseqs and subscriptions across reopen', async () => {
        const a = await s.update(K, range(1, 1000), 'add', ['\\Seen']);
        const b = await s.update(K, [7], 'add', ['$Label1']);
        await s.setSubscribed('alice', 'comp.lang.misc', true);
        s = await h.reopen!();
        const v = await s.view(K, 1, 2000);
        expect(v.highestModseq).toBe(b.modseq);
        expect(v.has(1000, '\\Seen')).toBe(true);
        expect(v.has(1001, '\\Seen')).toBe(false);
        expect([...v.flagsOf(7)].sort()).toEqual(['$Label1', '\\Seen']);
        expect(v.modseqOf(6)).toBe(a.modseq);
        expect(await s.subscriptions('alice')).toEqual(['comp.lang.misc']);
        const c = await s.update(K, [1], 'remove', ['\\Seen']);
        expect(c.modseq).toBeGreaterThan(b.modseq);
      });
    }

    it('agrees with a per-UID model under random operations', async () => {
      const op = fc.record({
        lo: fc.integer({ min: 1, max: 40 }),
        len: fc.integer({ min: 0, max: 12 }),
        op: fc.constantFrom<FlagOp>('add', 'remove', 'set'),
        flags: fc.subarray(['\\Seen', '\\Flagged', 'k1', 'k2'], { minLength: 0, maxLength: 3 }),
        since: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
      });
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 10 }), async (ops) => {
          const key = { ...K, mailbox: `model.${run++}` };
          const flags = new Map<number, Set<string>>();
          const modseqs = new Map<number, number>();
          let highest = 1;
          for (const x of ops) {
            const uids = range(x.lo, x.lo + x.len);
            const r = await s.update(key, uids, x.op, x.flags, x.since === undefined ? {} : { unchangedSince: x.since });
            const expectModified = x.since === undefined ? [] : uids.filter((u) => (modseqs.get(u) ?? 1) > x.since!);
            expect(r.modified).toEqual(expectModified);
            const target = uids.filter((u) => !expectModified.includes(u));
            // only UIDs whose flags differ get the new modseq; none: no new modseq (docs/agent-api.md)
            const next = new Map<number, Set<string>>();
            for (const u of target) {
              const cur = new Set(flags.get(u) ?? []);
              if (x.op === 'set') cur.clear();
              for (const f of x.flags) if (x.op === 'remove') cur.delete(f); else cur.add(f);
              const was = flags.get(u) ?? new Set<string>();
              if (cur.size !== was.size || [...cur].some((f) => !was.has(f))) next.set(u, cur);
            }
            if (next.size > 0) highest++;
            for (const [u, cur] of next) {
              flags.set(u, cur);
              modseqs.set(u, highest);
            }
            expect(r.bumped).toBe(next.size > 0);
            expect(r.highestModseq).toBe(highest);
            // what the update says is the model's state of every UID it reached
            expect(sorted(r.changes)).toEqual(target.map((u) => ({ uid: u, flags: [...(flags.get(u) ?? [])].sort(), modseq: modseqs.get(u) ?? 1 })));
          }
          const v = await s.view(key, 1, 60);
          expect(v.highestModseq).toBe(highest);
          for (let u = 1; u <= 55; u++) {
            expect([...v.flagsOf(u)].sort()).toEqual([...(flags.get(u) ?? [])].sort());
            expect(v.modseqOf(u)).toBe(modseqs.get(u) ?? 1);
          }
          const since = Math.max(1, highest - 2);
          const ch = await s.changedSince(key, since);
          expect(ch.map((c) => c.uid)).toEqual([...modseqs.entries()].filter(([, m]) => m > since).map(([u]) => u).sort((a, b) => a - b));
        }),
        { numRuns: o.propertyRuns },
      );
    });
  });
}
