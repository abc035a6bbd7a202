/**
 * The two planners of plan.ts give one plan: `planFresh` (a map filled from
 * empty by this process, ids found by hash) against `planAssign` (ids looked
 * up by Message-ID), over random sequences of batches with duplicates inside
 * a batch and across batches, renumbered and relocated articles, secondary
 * upstreams, hash pairs naming other entries (collisions) and exhausted UIDs.
 */
import { describe, expect, it } from 'vitest';
import { prng } from '../../src/export/sample/generate.js';
import { IdTable, idHash } from '../../src/uidmap/id-hashes.js';
import { MAX_UID } from '../../src/uidmap/limits.js';
import { type AssignPlan, planAssign, planFresh } from '../../src/uidmap/plan.js';
import type { SeenArticle, UidEntry } from '../../src/uidmap/types.js';

function plain(p: AssignPlan): unknown {
  const e = (x: UidEntry) => [x.uid, x.messageId, x.location.upstream, x.location.group, x.location.number];
  return { uids: p.uids, inserts: p.inserts.map(e), moves: p.moves.map(e), uidNext: p.uidNext };
}

function attempt(f: () => AssignPlan): AssignPlan | string {
  try {
    return f();
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

describe('planFresh', () => {
  it('plans exactly as planAssign over random batches', () => {
    const rand = prng(14_100);
    const pick = (n: number): number => Math.floor(rand() * n);
    for (let run = 0; run < 60; run++) {
      const byId = new Map<string, UidEntry>();
      const byUid = new Map<number, UidEntry>();
      const ids = new IdTable();
      let uidNext = run % 3 === 0 ? 1 : 1 + pick(1000);
      let number = pick(50);
      const pool = 20 + pick(300);
      const high = run % 10 === 9; // numbers near the top: UIDs run out
      if (high) number = MAX_UID - 40;
      for (let b = 0; b < 12; b++) {
        const arts: SeenArticle[] = [];
        const primary = rand() < 0.8;
        const n = pick(60);
        for (let i = 0; i < n; i++) {
          number += rand() < 0.1 ? 0 : 1 + pick(3);
          if (rand() < 0.05) number = Math.max(1, number - pick(100)); // renumbered
          const group = rand() < 0.9 ? 'g.a' : 'g.b';
          const upstream = rand() < 0.9 ? 'nntp://one' : 'nntp://two';
          arts.push({ messageId: `<${pick(pool)}@x>`, upstream, group, number });
        }
        if (rand() < 0.3 && byUid.size > 0) {
          // a pair naming another entry: a hash collision to confirm and drop
          const uids = [...byUid.keys()];
          ids.add(idHash(`<${pick(pool)}@x>`), uids[pick(uids.length)]!);
        }
        const general = attempt(() => planAssign(arts, primary, uidNext, (id) => byId.get(id)));
        const fresh = attempt(() => planFresh(arts, primary, uidNext, ids, (uid) => byUid.get(uid)));
        if (typeof general === 'string' || typeof fresh === 'string') {
          expect(fresh).toEqual(general);
          break; // UID_EXHAUSTED: nothing stored
        }
        expect(plain(fresh)).toEqual(plain(general));
        for (const e of [...general.inserts, ...general.moves]) {
          const copy = { uid: e.uid, messageId: e.messageId, location: { ...e.location } };
          byId.set(e.messageId, copy);
          byUid.set(e.uid, copy);
        }
        uidNext = general.uidNext;
      }
    }
  });

  it('adds each insert to the table under its hash', () => {
    const ids = new IdTable();
    const arts = [1, 2, 2, 5].map((n, i) => ({ messageId: `<${i === 2 ? 1 : n}@y>`, upstream: 'u', group: 'g', number: n }));
    const p = planFresh(arts, true, 1, ids, () => undefined);
    expect(p.uids).toEqual([1, 2, 1, 5]);
    expect(ids.size).toBe(3);
    expect(ids.candidates(idHash('<5@y>'))).toEqual([5]);
  });
});
