/**
 * The in-memory mirror of one mailbox's UID map held by `PgUidMapStore`: the
 * synchronous reads of `MailboxUidMap` (uidOf, lookup, uids, count, uidNext)
 * are answered from it. PostgreSQL stays authoritative; the mirror is a copy
 * as of change number `seq` of the mailbox row (see `pg-schema.ts`).
 *
 * Kept current by the store only: rows changed by any front-end since `seq`
 * are applied with `applyRows` (inside the store's locked transaction), and the
 * store's own committed plans with `applyPlan`. Both are idempotent per UID,
 * so applying a row twice is harmless.
 *
 * `sorted` holds the live UIDs ascending. UIDs above the highest are appended
 * in place; anything else (a removal, an out-of-order row) replaces the array,
 * so a running `uids()` iteration keeps its snapshot.
 */
import { lowerBound } from '../util/sorted.js';
import type { AssignPlan } from './plan.js';
import type { UidEntry } from './types.js';

/** A row of `uidmap_entries` as pulled: a null Message-ID is a removed UID (tombstone). */
export type EntryRow = [uid: number, messageId: string | null, upstream: string | null, group: string | null, number: number | null];

export class Mirror {
  readonly byMsgid = new Map<string, number>();
  readonly byUid = new Map<number, UidEntry>();
  sorted: number[] = [];
  /** Change number of the mailbox row this mirror reflects. */
  seq = 0;
  uidNext = 1;
  /** Interned upstream and group names: thousands of entries share a handful of strings. */
  private readonly names = new Map<string, string>();

  private intern(s: string): string {
    const had = this.names.get(s);
    if (had !== undefined) return had;
    this.names.set(s, s);
    return s;
  }

  private put(e: UidEntry): void {
    const old = this.byUid.get(e.uid);
    if (old !== undefined && old.messageId !== e.messageId && this.byMsgid.get(old.messageId) === e.uid) {
      this.byMsgid.delete(old.messageId);
    }
    const entry: UidEntry = {
      uid: e.uid,
      messageId: e.messageId,
      location: { upstream: this.intern(e.location.upstream), group: this.intern(e.location.group), number: e.location.number },
    };
    this.byUid.set(e.uid, entry);
    this.byMsgid.set(e.messageId, e.uid);
    if (old === undefined) this.addSorted(e.uid);
  }

  private addSorted(uid: number): void {
    const s = this.sorted;
    if (s.length === 0 || s[s.length - 1]! < uid) {
      s.push(uid);
      return;
    }
    const i = lowerBound(s, uid);
    if (s[i] === uid) return;
    this.sorted = [...s.slice(0, i), uid, ...s.slice(i)];
  }

  private drop(uids: Iterable<number>): void {
    const gone = new Set<number>();
    for (const uid of uids) {
      const e = this.byUid.get(uid);
      if (e === undefined) continue;
      this.byUid.delete(uid);
      if (this.byMsgid.get(e.messageId) === uid) this.byMsgid.delete(e.messageId);
      gone.add(uid);
    }
    if (gone.size > 0) this.sorted = this.sorted.filter((u) => !gone.has(u));
  }

  /** Forgets every entry (before a full reload). */
  clear(): void {
    this.byMsgid.clear();
    this.byUid.clear();
    this.sorted = [];
  }

  /** Applies pulled rows (any order): live rows are put, tombstones removed. */
  applyRows(rows: readonly EntryRow[]): void {
    const gone: number[] = [];
    const live = rows.filter((r) => r[1] !== null).sort((a, b) => a[0] - b[0]);
    for (const r of rows) if (r[1] === null) gone.push(r[0]);
    this.drop(gone);
    for (const [uid, messageId, upstream, group, number] of live) {
      this.put({ uid, messageId: messageId!, location: { upstream: upstream!, group: group!, number: number! } });
    }
  }

  /** Applies a plan that was committed at change number `seq`. */
  applyPlan(plan: AssignPlan, seq: number): void {
    for (const e of plan.inserts) this.put(e);
    for (const e of plan.moves) this.put(e);
    this.uidNext = Math.max(this.uidNext, plan.uidNext);
    this.seq = seq;
  }

  /** Applies a removal that was committed at change number `seq`. */
  applyRemoval(uids: readonly number[], seq: number): void {
    this.drop(uids);
    this.seq = seq;
  }

  /** The stored entry of a Message-ID (the planner's `known`). */
  known = (messageId: string): UidEntry | undefined => {
    const uid = this.byMsgid.get(messageId);
    return uid === undefined ? undefined : this.byUid.get(uid);
  };

  copy(uid: number): UidEntry | undefined {
    const e = this.byUid.get(uid);
    return e === undefined ? undefined : { uid: e.uid, messageId: e.messageId, location: { ...e.location } };
  }

  *range(lo: number, hi: number): Generator<number> {
    const s = this.sorted;
    for (let i = lowerBound(s, lo); i < s.length && s[i]! <= hi; i++) yield s[i]!;
  }
}
