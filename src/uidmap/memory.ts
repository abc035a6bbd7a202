/**
 * In-memory UidMapStore: for tests and for runs without `--data`. Nothing
 * survives the process, so UIDVALIDITY comes from the clock (and is strictly
 * increasing within the store); a restarted process gets new UIDVALIDITYs,
 * which is exactly the "map lost" case of DESIGN invariant 1.
 *
 * `uidOf`/`lookup` answer `undefined` for input that cannot be in a map.
 * `assign`/`remove` validate and plan first and then apply synchronously, so a
 * batch is all-or-nothing. After `close()` every call throws `CLOSED`.
 */
import { UidMapError } from './errors.js';
import { planAssign } from './plan.js';
import type { CheckedBatch, MailboxUidMap, SeenArticle, UidEntry, UidMapStore } from './types.js';
import { type Clock, nextUidValidity, systemClock } from './uidvalidity.js';
import { checkArticles, checkMailbox, checkRange, checkUids, isStorableMessageId, isUid } from './validate.js';
import { lowerBound } from '../util/sorted.js';

export interface MemoryUidMapStoreOptions {
  /** Clock for new UIDVALIDITYs (unix seconds); defaults to the system clock. */
  now?: Clock;
}

interface MailboxState {
  readonly uidValidity: number;
  uidNext: number;
  readonly byMsgid: Map<string, number>;
  readonly byUid: Map<number, UidEntry>;
  /**
   * UIDs ascending. Appends happen in place (new UIDs are always larger);
   * removals replace the array, so a running `uids()` iteration keeps its snapshot.
   */
  sorted: number[];
}


function copyEntry(e: UidEntry): UidEntry {
  return { uid: e.uid, messageId: e.messageId, location: { ...e.location } };
}

class MemoryMailboxUidMap implements MailboxUidMap {
  private failed = 0;
  /** Every call is applied (or has failed) before it returns. */
  readonly pipelined = { failures: (): number => this.failed };

  constructor(
    readonly mailbox: string,
    private readonly state: MailboxState,
    private readonly store: MemoryUidMapStore,
  ) {}

  get uidValidity(): number {
    return this.state.uidValidity;
  }

  uidNext(): number {
    this.store.assertOpen();
    return this.state.uidNext;
  }

  count(): number {
    this.store.assertOpen();
    return this.state.byUid.size;
  }

  async assign(articles: readonly SeenArticle[] | CheckedBatch, primary: boolean): Promise<number[]> {
    try {
      return this.apply(articles, primary);
    } catch (err) {
      this.failed++;
      throw err;
    }
  }

  private apply(given: readonly SeenArticle[] | CheckedBatch, primary: boolean): number[] {
    this.store.assertOpen();
    const articles = checkArticles(given);
    const s = this.state;
    const plan = planAssign(articles, primary === true, s.uidNext, (id) => {
      const uid = s.byMsgid.get(id);
      return uid === undefined ? undefined : s.byUid.get(uid);
    });
    for (const e of plan.inserts) {
      s.byMsgid.set(e.messageId, e.uid);
      s.byUid.set(e.uid, copyEntry(e));
      s.sorted.push(e.uid);
    }
    for (const e of plan.moves) s.byUid.set(e.uid, copyEntry(e));
    s.uidNext = plan.uidNext;
    return plan.uids;
  }

  uidOf(messageId: string): number | undefined {
    this.store.assertOpen();
    if (!isStorableMessageId(messageId)) return undefined;
    return this.state.byMsgid.get(messageId);
  }

  lookup(uid: number): UidEntry | undefined {
    this.store.assertOpen();
    const e = isUid(uid) ? this.state.byUid.get(uid) : undefined;
    return e === undefined ? undefined : copyEntry(e);
  }

  uids(lo?: number, hi?: number): Iterable<number> {
    this.store.assertOpen();
    const [l, h] = checkRange(lo, hi);
    const sorted = this.state.sorted;
    return (function* () {
      for (let i = lowerBound(sorted, l); i < sorted.length && sorted[i]! <= h; i++) yield sorted[i]!;
    })();
  }

  async remove(uids: readonly number[]): Promise<void> {
    this.store.assertOpen();
    checkUids(uids);
    const s = this.state;
    const gone = new Set<number>();
    for (const uid of uids) {
      const e = s.byUid.get(uid);
      if (e === undefined) continue;
      s.byUid.delete(uid);
      if (s.byMsgid.get(e.messageId) === uid) s.byMsgid.delete(e.messageId);
      gone.add(uid);
    }
    if (gone.size > 0) s.sorted = s.sorted.filter((u) => !gone.has(u));
  }
}

export class MemoryUidMapStore implements UidMapStore {
  private readonly maps = new Map<string, MemoryMailboxUidMap>();
  private readonly now: Clock;
  private lastUidValidity = 0;
  private closed = false;

  constructor(opts: MemoryUidMapStoreOptions = {}) {
    this.now = opts.now ?? systemClock;
  }

  /** @internal Throws `CLOSED` after `close()`. */
  assertOpen(): void {
    if (this.closed) throw new UidMapError('CLOSED', 'UID map store is closed');
  }

  async open(mailbox: string): Promise<MailboxUidMap> {
    this.assertOpen();
    checkMailbox(mailbox);
    let map = this.maps.get(mailbox);
    if (map === undefined) {
      const uidValidity = nextUidValidity(this.now(), this.lastUidValidity);
      this.lastUidValidity = uidValidity;
      const state: MailboxState = { uidValidity, uidNext: 1, byMsgid: new Map(), byUid: new Map(), sorted: [] };
      map = new MemoryMailboxUidMap(mailbox, state, this);
      this.maps.set(mailbox, map);
    }
    return map;
  }

  mailboxes(): string[] {
    this.assertOpen();
    return [...this.maps.keys()];
  }

  async close(): Promise<void> {
    this.closed = true;
    this.maps.clear();
  }
}
