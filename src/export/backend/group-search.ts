/**
 * SEARCH, SORT and THREAD of one group from the search index (the backend
 * interface's `MailboxSearch`), shared by every session on the group's view.
 *
 *   C: a1 UID SEARCH BODY "nntp"      → match([{ field: 'body', needle: 'nntp' }])
 *   C: a2 UID SORT (DATE) UTF-8 ALL   → sort([{ key: 'DATE' }], all UIDs)
 *   C: a3 UID THREAD REFERENCES UTF-8 ALL → thread('REFERENCES', all UIDs)
 *
 * - `match`: the index's answer (src/search `match`) within the asked-for
 *   UIDs, and for articles whose overview record is still queued for the
 *   writer, the answer the index will give once it is written (src/search
 *   `overviewMatcher`): a SUBJECT or FROM SEARCH right after a first SELECT
 *   does not wait for the writer (one the queued records leave undecided —
 *   BODY, TO, … — waits for it, as the written index may know more, e.g. a
 *   crosspost's body indexed in another group); `unknown` is what neither can decide (bodies not indexed
 *   yet, headers known from the overview only, text the index cannot hold)
 *   plus the UIDs neither holds (ingest not indexed, index write failed).
 * - `sort`, `thread`: the whole-group answers the index stored, when they
 *   are for exactly the latest snapshot (sort-keys.ts `storedSort`), else
 *   the RFC 5256 algorithms on the group's kept keys
 *   (sort-keys.ts; built from the index and, for what the writer has not
 *   written yet, the records queued for it: they do not wait), complete and exact for every UID of the latest snapshot;
 *   a UID the snapshot no longer holds (a session on an older snapshot,
 *   the article expired) comes last, in UID order (SORT) or as a thread of
 *   its own (THREAD), so no UID is lost.
 * - `progress`: members and bodies indexed of the snapshot's articles.
 * - all three first wait for the group's backfill (index-backfill.ts) when
 *   more than READ_NOT_MEMBERS of their UIDs are not members of the index
 *   (the overview records the feed dropped, a 1M group's first SELECT):
 *   reading those headers one by one would cost more than the backfill.
 * `match`, `sort` and `thread` each start with a turn (`turns`: a few run
 * back to back, then the loop polls), so many sessions searching at once do
 * not hold the event loop.
 *
 * Errors: an index failure (SearchIndexError) is thrown as BackendError
 * UNAVAILABLE, so the caller scans; upstream failures while reading headers
 * for SORT/THREAD are BackendErrors already.
 */
import {
  BackendError, type IndexMatch, type IndexTerm, type MailboxSearch, type SortCriterion, type ThreadAlgorithm, type ThreadForest,
} from '../interface.js';
import {
  SearchIndexError, overviewDoc, overviewMatcher, prepareThread, sortOrder, threadMessages, threadPacked,
  type MessageKeys, type OverviewDoc, type OverviewFields, type SearchIndex, type SearchTerm,
} from '../../search/index.js';
import type { GroupReader } from './reader.js';
import { GroupKeys, type KeysBudget, type Need, type ReadyKeys } from './sort-keys.js';
import type { RecordSource } from './sort-records.js';
import { intersectUids, isPrefix, minusUids, unionUids } from '../../util/sorted.js';
import type { Turns } from './turns.js';
import type { ViewSnapshot } from './view.js';

/**
 * More non-members of the index than this in a SEARCH, SORT or THREAD wait
 * for the group's backfill (index-backfill.ts) rather than read each one's
 * header (a HEAD apiece: minutes for the 900k a first SELECT of a 1M group
 * leaves to it); fewer are read.
 */
const READ_NOT_MEMBERS = 10_000;

/** `progress()` recounts the index (a count over the group's members) when it was written to, at most this often. */
const PROGRESS_TTL_MS = 1_000;

const EMPTY = new Uint32Array(0);

const NEEDS: Record<SortCriterion['key'], Need | null> = {
  ARRIVAL: null, DATE: null, SIZE: 'size', SUBJECT: 'subject', FROM: 'from', DISPLAYFROM: 'from', TO: 'to', DISPLAYTO: 'to', CC: 'cc',
};

function toTerm(t: IndexTerm): SearchTerm {
  return { field: t.field === 'bcc' ? { header: 'bcc' } : t.field, needle: t.needle };
}

function unavailable(err: unknown, what: string): never {
  if (err instanceof SearchIndexError) throw new BackendError('UNAVAILABLE', `search index: ${what}: ${err.message}`, { cause: err });
  throw err;
}

export interface GroupSearchDeps {
  group: string;
  index: SearchIndex;
  reader: GroupReader;
  /** The view's latest snapshot. */
  snapshot: () => ViewSnapshot;
  budget: KeysBudget;
  /** The group's In-Reply-To fetch under way, if any (THREAD waits for it rather than reading headers). */
  inReplyTo?: () => Promise<void> | undefined;
  /** Resolves once the group's overview records queued so far are in the index (SEARCH waits for it when there is no `pending`). */
  settled?: () => Promise<void>;
  /** What is queued for the index and not written yet (SEARCH, SORT and THREAD read it instead of waiting for `settled`). */
  pending?: RecordSource['pending'];
  /** Changes whenever a write touching the group is committed (`progress` counts again then). */
  writes?: () => number;
  /** While the group's backfill feeds the index what the feed dropped: resolves when it has nothing more to feed. */
  backfill?: () => Promise<void> | undefined;
  /** Someone waits for the backfill now: it no longer waits for quiet clients. */
  hurryBackfill?: () => void;
  /** Shared by the backend's groups: each SEARCH, SORT and THREAD starts with a turn (turns.ts). */
  turns?: Turns;
}

export class GroupSearch implements MailboxSearch {
  private readonly keys: GroupKeys;
  /** Members of the index, kept per mailbox version (`changesSince`). */
  private members: { version: number; uidValidity: number; uids: Uint32Array } | null = null;
  private counted: { at: number; writes: number; uidValidity: number; headers: number; bodies: number } | null = null;
  /** The last `notMembers` answer (lists compared by identity: snapshots and member lists are never modified). */
  private outside: { scope: Uint32Array; members: Uint32Array; uids: Uint32Array } | null = null;
  /** `inside` answers, per index answer list (held as long as the index keeps that answer). */
  private readonly within = new WeakMap<Uint32Array, { members: Uint32Array; scope: Uint32Array; uids: Uint32Array }>();
  /** The overview text of queued records SEARCH has read (dropped with the records once written). */
  private readonly docs = new WeakMap<OverviewFields, OverviewDoc>();

  constructor(private readonly d: GroupSearchDeps) {
    this.keys = new GroupKeys({ group: d.group, index: d.index, reader: d.reader, inReplyTo: d.inReplyTo, pending: d.pending }, d.snapshot, d.budget);
  }

  async match(terms: readonly IndexTerm[], within?: Uint32Array): Promise<IndexMatch> {
    const searchTerms = terms.map(toTerm);
    await this.caughtUp(within);
    if (this.d.pending !== undefined) {
      await this.d.turns?.take();
      const now = this.matchNow(searchTerms, within, true);
      // what the queued records leave open (a body, To/Cc, …) the written index may decide: wait for the writer then
      if (!now.undecidedQueued) return now.result;
    }
    await this.d.settled?.();
    await this.d.turns?.take();
    return this.matchNow(searchTerms, within, false).result;
  }

  /** Waits for the group's backfill while more than READ_NOT_MEMBERS of `scope` are not members of the index. */
  private async caughtUp(scope: Uint32Array | undefined): Promise<void> {
    const backfill = this.d.backfill?.();
    if (backfill === undefined) return;
    const snap = this.d.snapshot();
    let members: Uint32Array;
    try {
      members = this.memberUids(snap.uidValidity);
    } catch (err) {
      return unavailable(err, 'members');
    }
    if (this.notMembers(scope ?? snap.uids, members).length > READ_NOT_MEMBERS) {
      this.d.hurryBackfill?.();
      await backfill;
    }
  }

  /**
   * The index's answer now; UIDs not members of it answered from their
   * queued overview records (`fromQueued`), else unknown. `undecidedQueued`:
   * some queued record left a UID undecided.
   */
  private matchNow(terms: readonly SearchTerm[], within: Uint32Array | undefined, fromQueued: boolean): { result: IndexMatch; undecidedQueued: boolean } {
    const snap = this.d.snapshot();
    const scope = within ?? snap.uids;
    try {
      // members first: a document written between the two reads is answered from its queued record (held until its write is reported, never within this step)
      const members = this.memberUids(snap.uidValidity);
      const r = this.d.index.match(this.d.group, snap.uidValidity, terms);
      const uids = this.inside(r.uids, members, scope);
      const unknown = this.inside(r.unindexed, members, scope);
      const rest = this.notMembers(scope, members);
      if (rest.length === 0) return { result: { uids, unknown }, undecidedQueued: false };
      if (!fromQueued) return { result: { uids, unknown: union(unknown, rest) }, undecidedQueued: false };
      const queued = this.queuedMatch(snap.uidValidity, terms, rest);
      return { result: { uids: union(uids, queued.uids), unknown: union(unknown, queued.unknown) }, undecidedQueued: queued.undecided };
    } catch (err) {
      return unavailable(err, 'match');
    }
  }

  /**
   * `uids` (ascending, none a member of the index) answered from their
   * overview records queued for the writer (`pending`, overview-match.ts);
   * a UID without one (not queued, or its write failed) is unknown;
   * `undecided`: a queued record left its UID unknown.
   */
  private queuedMatch(uidValidity: number, terms: readonly SearchTerm[], uids: Uint32Array): { uids: Uint32Array; unknown: Uint32Array; undecided: boolean } {
    const pending = this.d.pending?.(uidValidity);
    if (pending === undefined) return { uids: EMPTY, unknown: uids, undecided: false };
    let undecided = false;
    const matcher = overviewMatcher(terms);
    const yes: number[] = [];
    const unknown: number[] = [];
    for (const uid of uids) {
      const q = pending.overview(uid);
      if (q === undefined) {
        unknown.push(uid);
        continue;
      }
      let doc = this.docs.get(q.overview);
      if (doc === undefined) {
        doc = overviewDoc(q.overview);
        this.docs.set(q.overview, doc);
      }
      const a = matcher(doc);
      if (a === 'yes') yes.push(uid);
      else if (a === 'unknown') {
        unknown.push(uid);
        undecided = true;
      }
    }
    return { uids: Uint32Array.from(yes), unknown: Uint32Array.from(unknown), undecided };
  }

  async sort(criteria: readonly SortCriterion[], uids: Uint32Array): Promise<Uint32Array> {
    await this.caughtUp(uids);
    await this.d.turns?.take();
    const needs = new Set<Need>();
    for (const c of criteria) {
      const n = NEEDS[c.key];
      if (n !== null) needs.add(n);
    }
    const stored = this.fromStore(() => this.keys.storedSort(criteria, uids));
    if (stored !== undefined) return stored;
    const ready = await this.ready(needs);
    const { subset, missing } = locate(ready.uids, uids);
    if (subset === null) return uidOrder(ready, criteria).slice();
    const order = sortOrder(ready.keys, criteria, subset);
    const out = new Uint32Array(order.length + missing.length);
    for (let i = 0; i < order.length; i++) out[i] = ready.uids[order[i]!]!;
    out.set(missing, order.length);
    return out;
  }

  /** A whole group's threads come packed (kept or stored arrays: do not modify); a subset's as nodes. */
  async thread(algorithm: ThreadAlgorithm, uids: Uint32Array): Promise<ThreadForest> {
    await this.caughtUp(uids);
    await this.d.turns?.take();
    // ORDEREDSUBJECT reads no msg-ids: it does not wait for In-Reply-To either
    const needs = new Set<Need>(algorithm === 'ORDEREDSUBJECT' ? ['subject'] : ['thread']);
    if (algorithm === 'REFERENCES') needs.add('subject');
    const all = this.d.snapshot().uids;
    const whole = uids === all || (uids.length === all.length && isPrefix(uids, all));
    const stored = whole ? this.fromStore(() => this.keys.storedThread(algorithm, uids)) : undefined;
    if (stored !== undefined) return stored;
    const ready = await this.ready(needs, (keys) => prepareThread(keys, algorithm, whole));
    const { subset, missing } = locate(ready.uids, uids);
    if (subset === null) return threadPacked(ready.keys, algorithm);
    const threads = threadMessages(ready.keys, algorithm, subset);
    if (missing.length === 0) return threads;
    return [...threads, ...Array.from(missing, (uid) => ({ uid, children: [] }))];
  }

  /** Forgets the kept SORT/THREAD keys (the view is gone). */
  dispose(): void {
    this.keys.drop();
  }

  progress(): { total: number; headers: number; bodies: number } {
    const snap = this.d.snapshot();
    const now = Date.now();
    const writes = this.d.writes?.() ?? -1;
    let c = this.counted;
    if (c === null || c.uidValidity !== snap.uidValidity || (c.writes !== writes && now - c.at >= PROGRESS_TTL_MS) || writes === -1) {
      try {
        const cov = this.d.index.coverage(this.d.group, snap.uidValidity);
        c = { at: now, writes, uidValidity: snap.uidValidity, headers: cov.members, bodies: cov.bodies };
      } catch {
        c = { at: now, writes, uidValidity: snap.uidValidity, headers: 0, bodies: 0 };
      }
      this.counted = c;
    }
    // members of expired articles may linger until the crawler or a poll removes them
    const total = snap.uids.length;
    return { total, headers: Math.min(c.headers, total), bodies: Math.min(c.bodies, total) };
  }

  /** An answer the index stored (sort-keys.ts `storedSort`, `storedThread`); undefined when there is none or it cannot be read. */
  private fromStore<T>(read: () => T | undefined): T | undefined {
    try {
      return read();
    } catch {
      return undefined; // the keys answer instead
    }
  }

  private async ready(needs: ReadonlySet<Need>, prepare?: (keys: MessageKeys) => void) {
    try {
      return await this.keys.get(needs, prepare);
    } catch (err) {
      return unavailable(err, 'sort keys');
    }
  }

  /**
   * `list` ∩ `members` ∩ `scope`, kept per list while the other two are the
   * same: the index keeps its answers (src/search match-cache.ts) and hands
   * out the same arrays, so a whole-group SEARCH asked again (by any session
   * on the snapshot) does not merge 100k UIDs twice more (measured with
   * 1,000 sessions: ~6% of the server's CPU). Lists are never modified.
   */
  private inside(list: Uint32Array, members: Uint32Array, scope: Uint32Array): Uint32Array {
    if (list.length === 0) return EMPTY;
    const k = this.within.get(list);
    if (k !== undefined && k.members === members && k.scope === scope) return k.uids;
    const uids = intersectUids(intersectUids(list, members), scope);
    this.within.set(list, { members, scope, uids });
    return uids;
  }

  /** `scope` less `members`: kept for the last pair of lists (a whole snapshot, searched again and again). */
  private notMembers(scope: Uint32Array, members: Uint32Array): Uint32Array {
    const k = this.outside;
    if (k !== null && k.scope === scope && k.members === members) return k.uids;
    const uids = minusUids(scope, members);
    this.outside = { scope, members, uids };
    return uids;
  }

  /** The index's members of the mailbox, reloaded when its version moved. */
  private memberUids(uidValidity: number): Uint32Array {
    const known = this.members;
    const since = known !== null && known.uidValidity === uidValidity ? known.version : -1;
    const v = this.d.index.changesSince(this.d.group, uidValidity, Math.max(since, 0));
    if (known !== null && since >= 0 && v.version === since) return known.uids;
    const uids = this.d.index.indexedUids(this.d.group, uidValidity);
    this.members = { version: v.version, uidValidity, uids };
    return uids;
  }
}

/** `a` ∪ `b`; one of them itself when the other is empty (answers stay the kept arrays). */
const union = (a: Uint32Array, b: Uint32Array): Uint32Array => (b.length === 0 ? a : a.length === 0 ? b : unionUids(a, b));

/**
 * The whole group in the order of `criteria`, as UIDs: kept with the keys
 * (dropped with their other whole-set values when articles arrive), so a
 * repeated SORT of every message is a copy. Do not modify.
 */
function uidOrder(ready: ReadyKeys, criteria: readonly SortCriterion[]): Uint32Array {
  const name = `uids:${criteria.map((c) => (c.reverse ? '-' : '') + c.key).join(' ')}`;
  return ready.keys.whole(name, () => {
    const order = sortOrder(ready.keys, criteria);
    const out = new Uint32Array(order.length);
    for (let i = 0; i < order.length; i++) out[i] = ready.uids[order[i]!]!;
    return out;
  });
}

/**
 * Record indices of `uids` (ascending) in `held` (the records' UIDs,
 * ascending), and the UIDs it does not hold; `subset` null when `uids` is
 * every record. One merge pass.
 */
export function locate(held: Uint32Array, uids: Uint32Array): { subset: Uint32Array | null; missing: Uint32Array } {
  if (uids === held || (uids.length === held.length && isPrefix(uids, held))) return { subset: null, missing: EMPTY };
  const subset = new Uint32Array(uids.length);
  const missing = new Uint32Array(uids.length);
  let s = 0;
  let m = 0;
  let i = 0;
  for (let k = 0; k < uids.length; k++) {
    const u = uids[k]!;
    while (i < held.length && held[i]! < u) i++;
    if (i < held.length && held[i] === u) subset[s++] = i;
    else missing[m++] = u;
  }
  return { subset: subset.subarray(0, s), missing: missing.subarray(0, m) };
}

