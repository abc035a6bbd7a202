/**
 * The plans of one map handed to write transactions and not committed yet,
 * so `assign` calls of a store whose writes are queued (LMDB, lmdb.ts) may
 * overlap: each batch is planned on the state the queued ones will leave,
 * and a transaction writes its plan unchanged only when the stored state is
 * exactly that — otherwise (another process wrote meanwhile, or an earlier
 * plan had to be made again) it plans again inside the transaction.
 *
 * While this process fills a map that was empty (`fresh`), it keeps the
 * hash and UID of every Message-ID it inserted (id-hashes.ts) and plans with
 * `planFresh` (plan.ts): an id whose hash is not among them cannot be in the
 * map, so a first ingest and the polls after it read nothing per Message-ID
 * and hash each once. That holds only while the stored state is the one
 * this process's last commit left; any other state ends it.
 *
 * Failure: a plan queued behind one that failed is refused: a later batch
 * must not take UIDs while an earlier one has none (first-sight rule).
 * `failures` counts failed plans, so a caller overlapping calls can stop
 * at once (a call made after a failure is planned afresh and applied).
 */
import { UidMapError } from './errors.js';
import { IdTable } from './id-hashes.js';
import { FRESH_KEEP_MS } from './limits.js';
import { type AssignPlan, planAssign, planFresh } from './plan.js';
import type { SeenArticle, UidEntry } from './types.js';

/** UIDNEXT and the number of entries of a map. */
export interface MapState {
  uidNext: number;
  count: number;
}

export type Lookup = (messageId: string) => UidEntry | undefined;
export type UidLookup = (uid: number) => UidEntry | undefined;

/** One queued plan (handed back by `plan`, given to `decide` and `settle`). */
export interface Ticket {
  /** The plan made before the transaction (undefined when planning threw: decided in the transaction). */
  readonly plan: AssignPlan | undefined;
  /** The stored state the plan stands on. */
  readonly base: MapState | undefined;
  /** The state it leaves. */
  readonly after: MapState | undefined;
  /** Its inserted and moved entries by Message-ID, made at the first lookup that needs them (`entryOf`). */
  byId: Map<string, UidEntry> | undefined;
  readonly epoch: number;
  readonly before: Ticket | undefined;
  failed: boolean;
}

interface Fresh {
  /** (hash, UID) of every entry stored or queued. */
  ids: IdTable;
  /** The stored state this process's last commit left. */
  committed: MapState;
}

/** A queued plan's entry for a Message-ID (inserted or moved by it). */
function entryOf(t: Ticket, messageId: string): UidEntry | undefined {
  if (t.plan === undefined) return undefined;
  if (t.byId === undefined) {
    t.byId = new Map();
    for (const e of t.plan.inserts) t.byId.set(e.messageId, e);
    for (const e of t.plan.moves) t.byId.set(e.messageId, e);
  }
  return t.byId.get(messageId);
}

/** A plan's entry for a UID (moved, else inserted: a plan never does both to one UID). */
function uidEntryOf(p: AssignPlan, uid: number): UidEntry | undefined {
  for (const m of p.moves) if (m.uid === uid) return m;
  const ins = p.inserts;
  if (ins.length === 0 || uid < ins[0]!.uid || uid > ins[ins.length - 1]!.uid) return undefined;
  let lo = 0;
  let hi = ins.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const u = ins[mid]!.uid;
    if (u === uid) return ins[mid];
    if (u < uid) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

export class PlanQueue {
  private queued: Ticket[] = [];
  /** Bumped whenever a transaction had to plan again: every plan made before is void. */
  private epoch = 0;
  private fresh: Fresh | null = null;
  /** Calls that failed so far (`settle`, or the map's own checks before planning). */
  failures = 0;
  private timer: NodeJS.Timeout | undefined;

  /**
   * Plans a batch. `stored` is the stored state now; `lookup` and `lookupUid`
   * read stored entries by Message-ID and by UID. Returns `{ uids }` for a
   * batch that needs no write (nothing new, nothing moved, nothing queued):
   * its UIDs are final.
   */
  plan(articles: readonly SeenArticle[], primary: boolean, stored: () => MapState, lookup: Lookup, lookupUid: UidLookup): { uids: number[] } | Ticket {
    const ahead = this.queued.slice();
    const last = ahead[ahead.length - 1];
    let plan: AssignPlan | undefined;
    let base: MapState | undefined;
    try {
      const now = stored();
      if (last === undefined) this.fresh = this.freshFor(now);
      base = last?.after ?? now;
      const fresh = this.fresh;
      plan =
        fresh !== null
          ? planFresh(articles, primary, base.uidNext, fresh.ids, this.entryAhead(ahead, lookupUid))
          : planAssign(articles, primary, base.uidNext, this.lookupAhead(ahead, base, lookup));
    } catch {
      plan = undefined; // any doubt (the record vanished, UID_EXHAUSTED against a guess): decided in the transaction
    }
    if (plan !== undefined && last === undefined && plan.inserts.length === 0 && plan.moves.length === 0) return { uids: plan.uids };
    const after = plan === undefined || base === undefined ? undefined : { uidNext: plan.uidNext, count: base.count + plan.inserts.length };
    const t: Ticket = { plan, base, after, byId: undefined, epoch: this.epoch, before: last, failed: false };
    this.queued.push(t);
    return t;
  }

  /**
   * Inside the write transaction: the plan to write, given the stored state
   * and a planner reading the stored entries. Throws STORAGE when an earlier
   * queued plan failed.
   */
  decide(t: Ticket, stored: MapState, replan: () => AssignPlan): AssignPlan {
    if (t.before?.failed === true) throw new UidMapError('STORAGE', 'an earlier batch of this map failed; this one is not stored');
    const b = t.base;
    if (t.plan !== undefined && b !== undefined && t.epoch === this.epoch && stored.uidNext === b.uidNext && stored.count === b.count) {
      if (this.fresh !== null) this.fresh.committed = { uidNext: t.plan.uidNext, count: b.count + t.plan.inserts.length };
      return t.plan;
    }
    this.epoch++;
    this.fresh = null;
    return replan();
  }

  /** After the transaction: forgets the ticket; `ok` false marks it failed (see the file comment). */
  settle(t: Ticket, ok: boolean): void {
    const i = this.queued.indexOf(t);
    if (i >= 0) this.queued.splice(i, 1);
    if (ok) return;
    t.failed = true; // with the ticket gone from the queue, the count tells new calls (synchronously)
    this.fresh = null;
    this.failures++;
  }

  /** Another change of the map by this process (a removal): the fill from empty is over. */
  forgetFresh(): void {
    this.fresh = null;
  }

  /** The fill-from-empty state to plan with, given the stored state and nothing queued. */
  private freshFor(now: MapState): Fresh | null {
    const f = this.fresh;
    const keep = f !== null && f.committed.uidNext === now.uidNext && f.committed.count === now.count ? f : null;
    const fresh = keep ?? (now.count === 0 ? { ids: new IdTable(), committed: { ...now } } : null);
    if (fresh !== null) this.keepFresh();
    return fresh;
  }

  /** Forgets `fresh` FRESH_KEEP_MS after the last plan (its memory is 8–16 bytes an entry). */
  private keepFresh(): void {
    if (this.timer !== undefined) {
      this.timer.refresh();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.queued.length === 0) this.fresh = null;
      else this.keepFresh();
    }, FRESH_KEEP_MS);
    this.timer.unref();
  }

  /** A UID as the queued plans will leave the map: their entries first (newest first), then the stored ones. */
  private entryAhead(ahead: readonly Ticket[], lookupUid: UidLookup): UidLookup {
    return (uid) => {
      for (let i = ahead.length - 1; i >= 0; i--) {
        const p = ahead[i]!.plan;
        if (p === undefined) continue;
        const e = uidEntryOf(p, uid);
        if (e !== undefined) return e;
      }
      return lookupUid(uid);
    };
  }

  /** A Message-ID as the queued plans will leave the map: their entries first (newest first), then the stored ones. */
  private lookupAhead(ahead: readonly Ticket[], base: MapState, lookup: Lookup): Lookup {
    const none = ahead.length === 0 && base.count === 0; // nothing stored, nothing queued
    return (messageId) => {
      if (none) return undefined;
      for (let i = ahead.length - 1; i >= 0; i--) {
        const e = entryOf(ahead[i]!, messageId);
        if (e !== undefined) return e;
      }
      return lookup(messageId);
    };
  }
}
