/**
 * One mailbox's change as the PostgreSQL store computes it before writing:
 * a `Step` says what to do to a mailbox's flags, `prepare` does it on a copy
 * of a loaded state and plans the chunks to write (chunks.ts `planWrite`).
 * Pure: no I/O; the same step is prepared again on a newer state when the
 * first write lost its compare-and-set (postgres.ts).
 */
import { RangeSet, type Run } from '../../util/rangeset.js';
import type { FlagKey, FlagOp } from '../flagstore.js';
import { planWrite, type WritePlan } from './chunks.js';
import { applyRuns, changesOf, reachedChanges, type MailboxFlags, type RunChange, type RunUpdateResult } from './mailbox-state.js';
import type { PgLoaded, WriteItem } from './postgres-sql.js';
import type { RunChangeEvent } from './watchers.js';

/** What applying a step did: one result and (if it changed something) one event per op. */
export interface Applied {
  results: RunUpdateResult[];
  events: RunChangeEvent[];
}

export interface Step {
  key: FlagKey;
  /** `key` as the cache names it. */
  k: string;
  /** Change `mf` in place, recording each op in `out` (`applyOp`). May throw INVALID. */
  apply(mf: MailboxFlags, out: Applied): void;
}

/** A step applied to a copy of `cur`; `plan` is undefined when nothing changed (nothing to write). */
export class Prepared {
  constructor(
    readonly step: Step,
    readonly cur: PgLoaded,
    readonly mf: MailboxFlags,
    readonly out: Applied,
    readonly plan: WritePlan | undefined,
  ) {}

  /** The write of this change; `encode` turns each event into a NOTIFY payload (none without it). */
  item(encode?: (e: RunChangeEvent) => string): WriteItem {
    if (!this.plan) throw new Error('Prepared.item: nothing to write');
    return { key: this.step.key, from: this.cur, highest: this.mf.highestModseq, plan: this.plan, payloads: encode ? this.out.events.map(encode) : [] };
  }

  /** The flags and modseqs of every UID the first op reached (an update's `changes`). */
  reached(): RunChange[] {
    return reachedChanges(this.mf, this.out.results[0]?.reached ?? []);
  }
}

export function prepare(step: Step, cur: PgLoaded): Prepared {
  const mf = cur.mf.clone();
  const out: Applied = { results: [], events: [] };
  step.apply(mf, out);
  const touched = new RangeSet();
  for (const r of out.results) for (const [lo, hi] of r.changed) touched.add(lo, hi);
  const plan = touched.isEmpty() ? undefined : planWrite(mf, cur.splits, [...touched.ranges()]);
  return new Prepared(step, cur, mf, out, plan);
}

/** `applyRuns` recorded in `out`, with the event of the change if it changed something. */
export function applyOp(
  key: FlagKey, mf: MailboxFlags, runs: readonly Run[], op: FlagOp, flags: readonly string[], unchangedSince: number | undefined, out: Applied,
): void {
  const r = applyRuns(mf, runs, op, flags, unchangedSince);
  out.results.push(r);
  if (r.changed.length > 0) out.events.push({ key, changes: changesOf(mf, r.changed, r.modseq), highestModseq: r.modseq });
}
