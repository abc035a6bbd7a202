/**
 * The messages of one mailbox as SORT and THREAD see them, and the keys derived
 * from them, computed once and kept: a repeated SORT or THREAD on the same group
 * costs only the sort (or nothing, when its order is cached).
 *
 * Records are in mailbox order (ascending UID): record index i is message
 * sequence number i + 1 when the records are the whole mailbox, and every tie
 * in SORT and THREAD falls back to this order (RFC 5256 §3: "the order in which
 * they appear in the mailbox"). New articles are appended; a mailbox that lost
 * messages gets a new `MessageKeys`.
 *
 * Not safe to share between concurrent writers; the derived data is computed
 * synchronously, so concurrent readers on one event loop are fine.
 */

import type { FirstAddress } from './text.js';

/**
 * One message: header values as they are stored, nothing parsed yet — or,
 * from an index that parsed them already (index-columns.ts), the decoded
 * Subject (`subjectDecoded`) and the first address of From/To/Cc as a
 * `FirstAddress`; both forms give the same keys.
 */
export interface MessageRecord {
  uid: number;
  /** Date header as ms since the epoch (its zone applied); NaN when missing or unparsable. */
  date: number;
  /** INTERNALDATE as ms since the epoch. */
  arrival: number;
  /** RFC822.SIZE in octets. */
  size: number;
  /**
   * Raw header values, `''` when the header is absent. 8-bit text is expected as
   * UTF-8; encoded words (RFC 2047) are decoded where a key needs them.
   */
  subject: string;
  /** `subject` has its encoded words decoded already (RFC 5256 §2.1 step 1 is not done again). */
  subjectDecoded?: boolean;
  from: string | FirstAddress;
  to: string | FirstAddress;
  cc: string | FirstAddress;
  messageId: string;
  references: string;
  inReplyTo: string;
}

/** The per-record state (`extending`) derived from In-Reply-To: the thread ids (msgid.ts). */
export const THREAD_IDS = 'thread-ids';
const IN_REPLY_TO_READERS = [THREAD_IDS];

/** Per-record data that grows with the records: `extend` fills indices `from` … `to - 1`. */
export interface Extending {
  upTo: number;
}

export class MessageKeys {
  private readonly list: MessageRecord[];
  private readonly kept = new Map<string, Extending>();
  private readonly wholeSet = new Map<string, unknown>();

  constructor(records: readonly MessageRecord[] = []) {
    this.list = records.slice();
  }

  get length(): number {
    return this.list.length;
  }

  /** The records, in mailbox order. */
  get records(): readonly MessageRecord[] {
    return this.list;
  }

  uid(i: number): number {
    return this.list[i]!.uid;
  }

  /**
   * Adds newly arrived messages (UIDs above the last one). Per-record keys,
   * ranks and kept SORT orders are extended on their next use; other values
   * over the whole set (`whole`) are recomputed.
   * Throws a RangeError when a UID does not ascend.
   */
  append(more: readonly MessageRecord[]): void {
    let last = this.list.length > 0 ? this.list[this.list.length - 1]!.uid : 0;
    for (const r of more) {
      if (!(r.uid > last)) throw new RangeError(`UID ${r.uid} does not follow ${last}`);
      last = r.uid;
    }
    for (const r of more) this.list.push(r);
    this.wholeSet.clear();
  }

  /**
   * Per-record state under `name`, kept across appends: created by `init`, brought
   * up to the current records by `extend` (only the new ones) before it is returned.
   */
  extending<T extends Extending>(name: string, init: () => T, extend: (state: T, from: number, to: number) => void): T {
    let state = this.kept.get(name) as T | undefined;
    if (state === undefined) {
      state = init();
      this.kept.set(name, state);
    }
    if (state.upTo < this.list.length) {
      extend(state, state.upTo, this.list.length);
      state.upTo = this.list.length;
    }
    return state;
  }

  /** Whether per-record state under `name` (`extending`) is kept. */
  holds(name: string): boolean {
    return this.kept.has(name);
  }

  /**
   * Replaces records in place (same UIDs: a value became known exactly, e.g.
   * a size after reading the article). Everything derived is recomputed.
   * Throws a RangeError when a UID differs.
   */
  replace(updates: ReadonlyMap<number, MessageRecord>): void {
    for (const [i, r] of updates) {
      if (this.list[i]?.uid !== r.uid) throw new RangeError(`record ${i} is not UID ${r.uid}`);
      this.list[i] = r;
    }
    if (updates.size === 0) return;
    this.kept.clear();
    this.wholeSet.clear();
  }

  /**
   * In-Reply-To of records became known (record index → value as stored;
   * same UIDs, every other field unchanged): the records are replaced, and
   * only what reads In-Reply-To is dropped — the thread ids (`IN_REPLY_TO_READERS`)
   * and the values over the whole set (kept forests) — so the keys a first
   * THREAD prepared while In-Reply-To was still being fetched stay when the
   * values change nothing (an empty value: no header). Throws a RangeError
   * for an index out of range.
   */
  setInReplyTo(values: ReadonlyMap<number, string>): void {
    let changed = false;
    for (const [i, v] of values) {
      const r = this.list[i];
      if (r === undefined) throw new RangeError(`no record ${i}`);
      if (r.inReplyTo === v) continue;
      this.list[i] = { ...r, inReplyTo: v };
      changed = true;
    }
    if (!changed) return;
    for (const name of IN_REPLY_TO_READERS) this.kept.delete(name);
    this.wholeSet.clear();
  }

  /** The value `whole` keeps under `name`, if it has been computed since the last append. */
  peek<T>(name: string): T | undefined {
    return this.wholeSet.get(name) as T | undefined;
  }

  /** A value over the whole set under `name`, computed once and dropped when records are appended. */
  whole<T>(name: string, compute: () => T): T {
    if (this.wholeSet.has(name)) return this.wholeSet.get(name) as T;
    const v = compute();
    this.wholeSet.set(name, v);
    return v;
  }
}

/** The sent date of RFC 5256 §2.2: the Date header, or INTERNALDATE when it is missing or unparsable. */
export function sentDate(r: MessageRecord): number {
  return Number.isFinite(r.date) ? r.date : r.arrival;
}
