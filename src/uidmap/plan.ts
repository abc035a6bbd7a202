/**
 * The first-sight rule (types.ts, DESIGN invariant 2) as a pure function, so
 * every store assigns UIDs identically. A store calls `planAssign` inside its
 * write transaction with the *current* UIDNEXT and a lookup of stored entries,
 * then writes the plan; the planner writes nothing, so a throw leaves the map
 * unchanged.
 *
 * - a Message-ID already in the map (or earlier in the batch) keeps its UID;
 *   when its location differs it is listed in `moves` with the new location;
 * - a new Message-ID on the primary upstream gets UID = its article number if
 *   that number ≥ UIDNEXT (and ≤ MAX_UID), else UIDNEXT;
 * - a new Message-ID on any other upstream gets UIDNEXT;
 * - UIDNEXT becomes 1 + the UID just assigned, so UIDs are strictly ascending.
 *
 * Throws `UidMapError('UID_EXHAUSTED')` when a new article would need a UID
 * above MAX_UID.
 *
 * `planFresh` makes the same plan for a map known by (hash, UID) pairs (the
 * LMDB map filling from empty, plan-queue.ts); test/uidmap/plan.test.ts
 * holds the two to one answer.
 */
import { UidMapError } from './errors.js';
import { MAX_UID } from './limits.js';
import { type IdTable, idHash } from './id-hashes.js';
import type { ArticleLocation, SeenArticle, UidEntry } from './types.js';

export interface AssignPlan {
  /** UID of each input article, in input order. */
  uids: number[];
  /** New entries to store, ascending by UID. */
  inserts: UidEntry[];
  /** Known entries whose location changed (final location of the batch). */
  moves: UidEntry[];
  /** UIDNEXT after the batch. */
  uidNext: number;
}

export function sameLocation(a: ArticleLocation, b: ArticleLocation): boolean {
  return a.upstream === b.upstream && a.group === b.group && a.number === b.number;
}

/** The UID of a new Message-ID (the rule of the file comment); throws UID_EXHAUSTED. */
function firstSightUid(art: SeenArticle, primary: boolean, next: number): number {
  const uid = primary && art.number >= next && art.number <= MAX_UID ? art.number : next;
  if (uid > MAX_UID) throw new UidMapError('UID_EXHAUSTED', `no UID left for ${art.messageId}: UIDNEXT is ${next}`);
  return uid;
}

function locationOf(a: SeenArticle): ArticleLocation {
  return { upstream: a.upstream, group: a.group, number: a.number };
}

/**
 * @param known looks a Message-ID up in the stored map (inside the caller's transaction).
 */
export function planAssign(
  articles: readonly SeenArticle[],
  primary: boolean,
  uidNext: number,
  known: (messageId: string) => UidEntry | undefined,
): AssignPlan {
  const uids: number[] = [];
  const inserts: UidEntry[] = [];
  const moves: UidEntry[] = [];
  /** Entries touched by this batch (inserted or moved), by Message-ID; mutated in place. */
  const touched = new Map<string, UidEntry>();
  let next = uidNext;

  for (const art of articles) {
    const pending = touched.get(art.messageId);
    if (pending !== undefined) {
      if (!sameLocation(pending.location, art)) pending.location = locationOf(art);
      uids.push(pending.uid);
      continue;
    }
    const stored = known(art.messageId);
    if (stored !== undefined) {
      if (!sameLocation(stored.location, art)) {
        const moved: UidEntry = { uid: stored.uid, messageId: art.messageId, location: locationOf(art) };
        moves.push(moved);
        touched.set(art.messageId, moved);
      }
      uids.push(stored.uid);
      continue;
    }
    const uid = firstSightUid(art, primary, next);
    const entry: UidEntry = { uid, messageId: art.messageId, location: locationOf(art) };
    inserts.push(entry);
    touched.set(art.messageId, entry);
    uids.push(uid);
    next = uid + 1;
  }
  return { uids, inserts, moves, uidNext: next };
}

/** Position of the entry of `uid` in `entries` (ascending UIDs), or -1. */
function indexOfUid(entries: readonly UidEntry[], uid: number): number {
  let lo = 0;
  let hi = entries.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const u = entries[mid]!.uid;
    if (u === uid) return mid;
    if (u < uid) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * `planAssign` for a map whose every entry (stored, or planned and not yet
 * stored) is in `ids` as (idHash of its Message-ID, UID): the same plan,
 * made without a lookup per Message-ID nor a map of the batch. Each id is
 * hashed once; an id whose hash is in `ids` is confirmed against the entries
 * its candidate UIDs name: a UID ≥ `uidNext` is this batch's own, one below
 * is read with `entryAt` (the map as the plans before this one leave it).
 * Every insert is added to `ids` as it is planned (also when a later article
 * throws: a pair naming no entry only costs a confirmation).
 *
 * The entries planned hold the articles themselves as their locations: the
 * caller must not change them afterwards.
 */
export function planFresh(
  articles: readonly SeenArticle[],
  primary: boolean,
  uidNext: number,
  ids: IdTable,
  entryAt: (uid: number) => UidEntry | undefined,
): AssignPlan {
  const uids: number[] = new Array<number>(articles.length);
  const inserts: UidEntry[] = [];
  const moves: UidEntry[] = [];
  /** Stored entries this batch moved, by Message-ID (rare: a renumbering). */
  let moved: Map<string, UidEntry> | undefined;
  let next = uidNext;

  const known = (h: number, id: string): UidEntry | undefined => {
    const m = moved?.get(id);
    if (m !== undefined) return m;
    for (const uid of ids.candidates(h)) {
      let e: UidEntry | undefined;
      if (uid >= uidNext) {
        const i = indexOfUid(inserts, uid);
        e = i < 0 ? undefined : inserts[i];
      } else e = entryAt(uid);
      if (e?.messageId === id) return e;
    }
    return undefined;
  };

  for (let k = 0; k < articles.length; k++) {
    const art = articles[k]!;
    const h = idHash(art.messageId);
    const e = ids.has(h) ? known(h, art.messageId) : undefined;
    if (e !== undefined) {
      if (!sameLocation(e.location, art)) {
        if (e.uid >= uidNext || moved?.get(art.messageId) === e) e.location = art; // planned by this batch
        else {
          const m: UidEntry = { uid: e.uid, messageId: art.messageId, location: art };
          moves.push(m);
          (moved ??= new Map()).set(art.messageId, m);
        }
      }
      uids[k] = e.uid;
      continue;
    }
    const uid = firstSightUid(art, primary, next);
    inserts.push({ uid, messageId: art.messageId, location: art });
    ids.add(h, uid);
    uids[k] = uid;
    next = uid + 1;
  }
  return { uids, inserts, moves, uidNext: next };
}
