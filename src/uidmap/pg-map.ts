/**
 * One mailbox's map in `PgUidMapStore` (see postgres.ts for the design): the
 * synchronous reads come from the in-memory copy (`pg-mirror.ts`); `assign`
 * and `remove` run as one locked transaction each, serialised per map in this
 * process. Created only by `PgUidMapStore.open`.
 */
import { UidMapError } from './errors.js';
import { type EntryRow, Mirror } from './pg-mirror.js';
import { planAssign, type AssignPlan } from './plan.js';
import type { Logger } from '../util/log.js';
import type { CheckedBatch, MailboxUidMap, SeenArticle, UidEntry } from './types.js';
import { checkArticles, checkRange, checkUids, isStorableMessageId, isUid } from './validate.js';

/** Runs one statement on the transaction's connection; rows as arrays. */

/** What a map needs of its store (PgUidMapStore), named here so the two files do not import each other. */
export interface PgMapHost {
  readonly logger: Logger;
  assertOpen(): void;
  seqOf(id: number): Promise<number>;
  tx<T>(what: string, fn: (q: Query) => Promise<T>, mode?: string): Promise<T>;
  allRows(q: Query, id: number): Promise<EntryRow[]>;
  forget(mailbox: string, map: PgMailboxUidMap): void;
}

export type Query = (text: string, values?: unknown[]) => Promise<unknown[][]>;

/** The copy disagreed with the database inside a write; the write is retried once after a reload. */
class OutOfStep extends UidMapError {}

/** PostgreSQL SQLSTATE unique_violation. */
const UNIQUE_VIOLATION = '23505';

const WRITE_ASSIGN = `
WITH ins AS (
  INSERT INTO uidmap_entries (mailbox_id, uid, message_id, upstream, grp, number, changed)
  SELECT $1, t.u, t.mi, t.up, t.g, t.n, $2
  FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::bigint[]) AS t(u, mi, up, g, n)
  RETURNING 1
), mv AS (
  UPDATE uidmap_entries e SET upstream = t.up, grp = t.g, number = t.n, changed = $2
  FROM unnest($8::bigint[], $9::text[], $10::text[], $11::text[], $12::bigint[]) AS t(u, mi, up, g, n)
  WHERE e.mailbox_id = $1 AND e.uid = t.u AND e.message_id = t.mi
  RETURNING 1
), mb AS (
  UPDATE uidmap_mailboxes SET uid_next = $13, seq = $2 WHERE id = $1
)
SELECT (SELECT count(*) FROM ins)::int, (SELECT count(*) FROM mv)::int`;

const WRITE_REMOVE = `
WITH gone AS (
  UPDATE uidmap_entries SET message_id = NULL, upstream = NULL, grp = NULL, number = NULL, changed = $2
  WHERE mailbox_id = $1 AND uid = ANY($3::bigint[]) AND message_id IS NOT NULL
  RETURNING 1
), mb AS (
  UPDATE uidmap_mailboxes SET seq = $2 WHERE id = $1
)
SELECT count(*)::int FROM gone`;

function columns(entries: readonly UidEntry[]): unknown[][] {
  return [
    entries.map((e) => e.uid),
    entries.map((e) => e.messageId),
    entries.map((e) => e.location.upstream),
    entries.map((e) => e.location.group),
    entries.map((e) => e.location.number),
  ];
}

export class PgMailboxUidMap implements MailboxUidMap {
  private tail: Promise<unknown> = Promise.resolve();
  /** Set when the copy disagreed with the database: the next write reloads it whole. */
  private stale = false;

  constructor(
    readonly mailbox: string,
    private readonly id: number,
    readonly uidValidity: number,
    private readonly m: Mirror,
    private readonly s: PgMapHost,
  ) {}

  uidNext(): number {
    this.s.assertOpen();
    return this.m.uidNext;
  }

  count(): number {
    this.s.assertOpen();
    return this.m.byUid.size;
  }

  uidOf(messageId: string): number | undefined {
    this.s.assertOpen();
    return isStorableMessageId(messageId) ? this.m.byMsgid.get(messageId) : undefined;
  }

  lookup(uid: number): UidEntry | undefined {
    this.s.assertOpen();
    return isUid(uid) ? this.m.copy(uid) : undefined;
  }

  uids(lo?: number, hi?: number): Iterable<number> {
    this.s.assertOpen();
    const [l, h] = checkRange(lo, hi);
    return this.m.range(l, h);
  }

  /** @internal Resolves when every call queued on this map has settled. */
  settled(): Promise<unknown> {
    return this.tail;
  }

  /** Runs `fn` after the calls already queued on this map. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /**
   * Inside a transaction: lock the mailbox row, bring the copy up to date
   * (rows changed since its seq, or everything when stale or the database went
   * backwards) and return the locked change number.
   */
  private async lockAndPull(q: Query): Promise<number> {
    const rows = await q('SELECT uid_next, seq FROM uidmap_mailboxes WHERE id = $1 FOR UPDATE', [this.id]);
    if (rows.length === 0) {
      this.s.forget(this.mailbox, this);
      throw new UidMapError('STORAGE', `UID map of ${this.mailbox} vanished from the database`);
    }
    const [uidNext, seq] = rows[0] as [number, number];
    const m = this.m;
    if (this.stale || seq < m.seq) {
      m.clear();
      m.applyRows(await this.s.allRows(q, this.id));
      this.stale = false;
    } else if (seq !== m.seq) {
      m.applyRows((await q('SELECT uid, message_id, upstream, grp, number FROM uidmap_entries WHERE mailbox_id = $1 AND changed > $2', [this.id, m.seq])) as EntryRow[]);
    }
    m.seq = seq;
    m.uidNext = uidNext;
    return seq;
  }

  private outOfStep(what: string): OutOfStep {
    this.stale = true;
    return new OutOfStep('STORAGE', `${what} in ${this.mailbox}: this front-end's copy of the map is out of step with the database`);
  }

  /** Runs a write transaction; after an `OutOfStep` it runs once more (the copy is then reloaded whole). */
  private async retrying<T>(what: string, fn: (q: Query) => Promise<T>): Promise<T> {
    try {
      return await this.s.tx(what, fn);
    } catch (err) {
      if (!(err instanceof OutOfStep)) throw err;
      this.s.logger.warn({ mailbox: this.mailbox }, 'UID map copy out of step with the database; reloading');
      return this.s.tx(what, fn);
    }
  }

  async assign(given: readonly SeenArticle[] | CheckedBatch, primary: boolean): Promise<number[]> {
    this.s.assertOpen();
    const articles = checkArticles(given);
    const isPrimary = primary === true;
    return this.serial(async () => {
      this.s.assertOpen();
      let peek: AssignPlan | undefined;
      try {
        peek = planAssign(articles, isPrimary, this.m.uidNext, this.m.known);
      } catch {
        peek = undefined; // e.g. UID_EXHAUSTED against the copy: decide under the lock
      }
      if (peek !== undefined && peek.inserts.length === 0 && peek.moves.length === 0 && !this.stale) {
        const seq = await this.s.seqOf(this.id);
        if (seq === this.m.seq) return peek.uids;
      }
      const done = await this.retrying('assign', async (q) => {
        const seq = await this.lockAndPull(q);
        const plan = planAssign(articles, isPrimary, this.m.uidNext, this.m.known);
        if (plan.inserts.length === 0 && plan.moves.length === 0) return { plan, seq };
        let counts: unknown[];
        try {
          [counts] = (await q(WRITE_ASSIGN, [this.id, seq + 1, ...columns(plan.inserts), ...columns(plan.moves), plan.uidNext])) as [unknown[]];
        } catch (err) {
          if ((err as { code?: unknown }).code === UNIQUE_VIOLATION) throw this.outOfStep('assign');
          throw err;
        }
        const [inserted, moved] = counts as [number, number];
        if (inserted !== plan.inserts.length || moved !== plan.moves.length) throw this.outOfStep('assign');
        return { plan, seq: seq + 1 };
      });
      this.m.applyPlan(done.plan, done.seq);
      return done.plan.uids;
    });
  }

  async remove(uids: readonly number[]): Promise<void> {
    this.s.assertOpen();
    checkUids(uids);
    if (uids.length === 0) return;
    await this.serial(async () => {
      this.s.assertOpen();
      const done = await this.retrying('remove', async (q) => {
        const seq = await this.lockAndPull(q);
        const live = [...new Set(uids)].filter((u) => this.m.byUid.has(u));
        if (live.length === 0) return undefined;
        const [[removed]] = (await q(WRITE_REMOVE, [this.id, seq + 1, live])) as [[number]];
        if (removed !== live.length) throw this.outOfStep('remove');
        return { live, seq: seq + 1 };
      });
      if (done !== undefined) this.m.applyRemoval(done.live, done.seq);
    });
  }
}
