/**
 * One group's SORT/THREAD keys (src/search `MessageKeys`), kept between
 * commands and shared by every session on the group's view: built once from
 * the search index (sort-records.ts), extended with the new tail when
 * articles arrive, built again when articles expired (the snapshot lost
 * UIDs) or a command needs fields the kept keys lack (e.g. TO after SUBJECT
 * only: the keys then hold both).
 *
 * Before any keys are built, a whole-group SORT (DATE), SORT (REVERSE DATE),
 * SORT (SUBJECT) — or a SEARCH-selected part of one — and a whole-group
 * THREAD are answered from what the index writer stored for exactly the
 * snapshot's UIDs (src/search sort-store.ts; `storedSort`, `storedThread`):
 * the first such command after a restart reads ~1 MB instead of deriving
 * the keys of every article (100k: ~0.3–0.7 s CPU before).
 *
 * Memory is bounded over all groups by a `KeysBudget` (config
 * `index.keysMemoryBytes`): each holder is charged an estimate of its
 * records (RECORD_BYTES plus two bytes per character of their strings; the
 * stored answers it read, STORED_BYTES a member) and the least recently
 * used holders are dropped beyond the bound, as is any holder unused for
 * `index.keysIdleMs`. Measured on
 * the 100k benchmark group (bench/group-search.ts, heap after GC): THREAD
 * REFERENCES keys (records, base subjects, interned msg-ids, ranks) 42–44 MB,
 * 49–51 MB once From is added; the estimate charged 44.5 MB for them.
 */
import {
  MessageKeys, type MessageRecord, type PackedForest, type SortCriterion, type StoredAnswers, type StoredMembers, type ThreadAlgorithm,
} from '../../search/index.js';
import { buildRecords, completeRecords, readRecords, settleSizes, type Need, type RecordSource } from './sort-records.js';
import { isPrefix } from '../../util/sorted.js';
import type { ViewSnapshot } from './view.js';

export type { Need } from './sort-records.js';

/** Bytes per member that stored answers keep once read: UIDs, three orders and three packed forests (8 bytes a node). */
const STORED_BYTES = 4 + 3 * 4 + 3 * 8;

/** Heap per record beyond its strings: the record and address objects, ranks and derived columns (measured, see above). */
export const RECORD_BYTES = 200;

function recordBytes(r: MessageRecord): number {
  let chars = r.subject.length + r.messageId.length + r.references.length + r.inReplyTo.length;
  for (const a of [r.from, r.to, r.cc]) chars += typeof a === 'string' ? a.length : a.mailbox.length + a.host.length + a.name.length;
  return RECORD_BYTES + 2 * chars;
}

/** How often idle keys are looked for, at most (ms): a fraction of the idle time, so a drop comes at most this late. */
const IDLE_SWEEP_MIN_MS = 1_000;

/**
 * The memory bound shared by the groups' keys: least recently used holders
 * are dropped beyond it, and any holder unused for `idleMs` (config
 * `index.keysIdleMs`; 0: never) is dropped too: the whole-group answers the
 * index stores (src/search sort-store.ts) answer the next SORT or THREAD
 * cheaply, and other keys are built again from the index.
 */
export class KeysBudget {
  /** Holder → bytes charged and when it was last used (insertion order: least recently used first). */
  private readonly holders = new Map<GroupKeys, { bytes: number; used: number }>();
  private total = 0;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    readonly maxBytes: number,
    readonly idleMs = 0,
    private readonly now: () => number = Date.now,
  ) {}

  /** Bytes charged now, over all groups. */
  get bytes(): number {
    return this.total;
  }

  /** `h` now holds `bytes` and was used just now; drops others (least recently used first) beyond the bound. */
  charge(h: GroupKeys, bytes: number): void {
    this.total += bytes - (this.holders.get(h)?.bytes ?? 0);
    this.holders.delete(h);
    this.holders.set(h, { bytes, used: this.now() });
    for (const [other] of this.holders) {
      if (this.total <= this.maxBytes) break;
      if (other === h) continue;
      other.drop();
    }
    this.arm();
  }

  /** `h` was used (LRU order, idle time). */
  touch(h: GroupKeys): void {
    const b = this.holders.get(h);
    if (b === undefined) return;
    this.holders.delete(h);
    this.holders.set(h, { bytes: b.bytes, used: this.now() });
  }

  release(h: GroupKeys): void {
    this.total -= this.holders.get(h)?.bytes ?? 0;
    this.holders.delete(h);
    if (this.holders.size === 0 && this.sweeper !== null) {
      clearTimeout(this.sweeper);
      this.sweeper = null;
    }
  }

  /** Drops every holder unused for `idleMs` or longer; returns how many. */
  dropIdle(): number {
    if (this.idleMs <= 0) return 0;
    const before = this.now() - this.idleMs;
    let dropped = 0;
    // least recently used first: the first one used since `before` ends the sweep
    for (const [h, b] of this.holders) {
      if (b.used > before) break;
      h.drop();
      dropped++;
    }
    return dropped;
  }

  private arm(): void {
    if (this.idleMs <= 0 || this.sweeper !== null) return;
    this.sweeper = setTimeout(() => {
      this.sweeper = null;
      this.dropIdle();
      if (this.holders.size > 0) this.arm();
    }, Math.max(IDLE_SWEEP_MIN_MS, this.idleMs / 4));
    this.sweeper.unref();
  }
}

/**
 * Whether stored answers for `m` answer for `snap`: the same UIDs, every
 * INTERNALDATE known (sort-records.ts reads the header of an overview-only
 * record without one), and those a missing Date fell back to as stored.
 */
function storedFit(m: StoredMembers, snap: ViewSnapshot): boolean {
  const uids = snap.uids;
  if (uids.length !== m.uids.length || !isPrefix(uids, m.uids)) return false;
  const dates = snap.table.dates;
  for (let i = 0; i < uids.length; i++) if (!Number.isFinite(dates[i]!)) return false;
  for (let k = 0; k < m.fallbackAt.length; k++) if (dates[m.fallbackAt[k]!] !== m.fallbackDate[k]) return false;
  return true;
}

/** Keys ready for one command: `uids[i]` is the UID of record i (ascending; do not modify). */
export interface ReadyKeys {
  keys: MessageKeys;
  uids: Uint32Array;
}

export class GroupKeys {
  private keys: MessageKeys | null = null;
  /** The UIDs of the records, in record order (the snapshot's own list when they are all of it: do not modify). */
  private uids: Uint32Array = new Uint32Array(0);
  /** The snapshot the keys were last brought up to. */
  private snapUids: Uint32Array | null = null;
  private needs = new Set<Need>();
  private bytes = 0;
  private building: Promise<void> | null = null;
  /** The stored answers last found valid (or not) for a snapshot at an index version (`stored`). */
  private storedFor: { snapUids: Uint32Array; version: number; answers: StoredAnswers | undefined } | null = null;

  constructor(
    private readonly src: RecordSource,
    private readonly snapshot: () => ViewSnapshot,
    private readonly budget: KeysBudget,
  ) {}

  /** Forgets the keys and the stored answers read (memory bound, idle); the next command reads or builds them again. */
  drop(): void {
    this.keys = null;
    this.uids = new Uint32Array(0);
    this.snapUids = null;
    this.needs = new Set();
    this.storedFor = null;
    this.budget.release(this);
    this.bytes = 0;
  }

  /**
   * The whole-group answers the index writer stored (src/search sort-store.ts),
   * when no keys of the latest snapshot are held (held keys answer as before,
   * so a repeated command costs what it did) and they are exactly for it:
   * the same UIDs, at the index's current version, with the INTERNALDATEs
   * their sent dates fell back to. Found once per snapshot and version.
   */
  private stored(): { answers: StoredAnswers; snap: ViewSnapshot } | undefined {
    const snap = this.snapshot();
    if (this.keys !== null && this.snapUids === snap.uids) return undefined;
    const version = this.src.index.changesSince(this.src.group, snap.uidValidity, 0).version;
    const memo = this.storedFor;
    if (memo !== null && memo.snapUids === snap.uids && memo.version === version) {
      this.budget.touch(this);
      return memo.answers && { answers: memo.answers, snap };
    }
    let answers = this.src.index.storedAnswers(this.src.group, snap.uidValidity);
    if (answers !== undefined && (answers.version !== version || !storedFit(answers.members, snap))) answers = undefined;
    this.storedFor = { snapUids: snap.uids, version, answers };
    // what they keep once read (members, orders, forests) is charged with the keys, and dropped with them when idle
    this.budget.charge(this, this.bytes + (answers === undefined ? 0 : STORED_BYTES * answers.members.uids.length));
    return answers && { answers, snap };
  }

  /**
   * `uids` (ascending) in the order of `criteria` from the stored answers, UIDs
   * the snapshot lacks last; undefined when none is stored for it (the caller
   * builds the keys). Throws SearchIndexError.
   */
  storedSort(criteria: readonly SortCriterion[], uids: Uint32Array): Uint32Array | undefined {
    const found = this.stored();
    const order = found?.answers.order(criteria);
    if (found === undefined || order === undefined) return undefined;
    const held = found.answers.members.uids;
    const whole = uids === held || uids === found.snap.uids || (uids.length === held.length && isPrefix(uids, held));
    const out = new Uint32Array(uids.length);
    let w = 0;
    if (whole) {
      for (let k = 0; k < order.length; k++) out[w++] = held[order[k]!]!;
      return out;
    }
    // the asked-for members by index, then those in the stored order
    const wanted = new Uint8Array(held.length);
    const missing: number[] = [];
    let j = 0;
    for (const uid of uids) {
      while (j < held.length && held[j]! < uid) j++;
      if (j < held.length && held[j] === uid) wanted[j] = 1;
      else missing.push(uid);
    }
    for (let k = 0; k < order.length; k++) if (wanted[order[k]!] === 1) out[w++] = held[order[k]!]!;
    for (const uid of missing) out[w++] = uid;
    return out;
  }

  /** The threads of the whole group from the stored answers; undefined when none is stored for `uids` (every UID of the snapshot). */
  storedThread(algorithm: ThreadAlgorithm, uids: Uint32Array): PackedForest | undefined {
    const found = this.stored();
    if (found === undefined) return undefined;
    const held = found.answers.members.uids;
    if (!(uids === held || uids === found.snap.uids || (uids.length === held.length && isPrefix(uids, held)))) return undefined;
    return found.answers.forest(algorithm);
  }

  /**
   * Keys of the latest snapshot holding at least `needs`. Throws what
   * building throws. `prepare`: when this call builds the keys anew and
   * records wait for In-Reply-To values being fetched, it is given the keys
   * as read meanwhile (those records without In-Reply-To) to compute ahead
   * what it will need (thread.ts `prepareThread`); what reads In-Reply-To is
   * dropped again if the values change something (`MessageKeys.setInReplyTo`).
   */
  async get(needs: ReadonlySet<Need>, prepare?: (keys: MessageKeys) => void): Promise<ReadyKeys> {
    for (;;) {
      if (this.building !== null) {
        await this.building;
        continue;
      }
      const snap = this.snapshot();
      const keys = this.keys;
      if (keys !== null && this.snapUids === snap.uids && [...needs].every((n) => this.needs.has(n))) {
        this.budget.touch(this);
        return { keys, uids: this.uids };
      }
      this.building = this.update(snap, needs, prepare).finally(() => {
        this.building = null;
      });
    }
  }

  private async update(snap: ViewSnapshot, needs: ReadonlySet<Need>, prepare?: (keys: MessageKeys) => void): Promise<void> {
    const keys = this.keys;
    const covered = [...needs].every((n) => this.needs.has(n));
    if (keys !== null && covered && isPrefix(this.uids, snap.uids)) {
      // new articles only: the tail
      const from = this.uids.length;
      const built = await buildRecords(this.src, snap, from, this.needs);
      await this.settle(built.records, built.unsettled);
      if (this.keys !== keys) return; // dropped meanwhile (memory bound): built again on the next call
      keys.append(built.records);
      this.uids = keys.length === snap.uids.length ? snap.uids : snap.uids.slice(0, keys.length);
      this.snapUids = snap.uids;
      this.charge(built.records);
      return;
    }
    const all = new Set<Need>([...this.needs, ...needs]);
    const read = readRecords(this.src, snap, 0, all);
    // the In-Reply-To fetches of a first open may still run: what does not need them is computed meanwhile
    let early: MessageKeys | null = null;
    if (prepare !== undefined && read.awaiting.length > 0 && read.unfilled.length === 0 && !all.has('size')) {
      early = new MessageKeys(read.records);
      prepare(early);
    }
    const built = await completeRecords(this.src, snap, read);
    await this.settle(built.records, built.unsettled);
    this.budget.release(this);
    this.bytes = 0;
    this.storedFor = null; // the keys answer from now on
    if (early !== null) {
      early.setInReplyTo(built.inReplyTo);
      early.replace(new Map(built.replaced.map((k) => [k, built.records[k]!])));
    }
    this.keys = early ?? new MessageKeys(built.records);
    // snapshots are never modified: their list is shared, not copied
    this.uids = this.keys.length === snap.uids.length ? snap.uids : snap.uids.slice(0, this.keys.length);
    this.snapUids = snap.uids;
    this.needs = all;
    this.charge(built.records);
  }

  /** Exact sizes for the unsettled records (in place). */
  private async settle(records: MessageRecord[], unsettled: number[]): Promise<void> {
    if (unsettled.length === 0) return;
    const fixed = await settleSizes(this.src.reader, records, unsettled);
    for (const [k, r] of fixed) records[k] = r;
  }

  private charge(added: readonly MessageRecord[]): void {
    for (const r of added) this.bytes += recordBytes(r);
    this.budget.charge(this, this.bytes);
  }
}
