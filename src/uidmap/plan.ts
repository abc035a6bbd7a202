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
 */
import { UidMapError } from './errors.js';
import { MAX_UID } from './limits.js';
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
    const uid = primary && art.number >= next && art.number <= MAX_UID ? art.number : next;
    if (uid > MAX_UID) {
      throw new UidMapError('UID_EXHAUSTED', `no UID left for ${art.messageId}: UIDNEXT is ${next}`);
    }
    const entry: UidEntry = { uid, messageId: art.messageId, location: locationOf(art) };
    inserts.push(entry);
    touched.set(art.messageId, entry);
    uids.push(uid);
    next = uid + 1;
  }
  return { uids, inserts, moves, uidNext: next };
}
