/**
 * The statements of the PostgreSQL flag store (layout: postgres-schema.ts),
 * each ONE statement for any number of mailboxes, so a change costs one round
 * trip whatever its size:
 *
 * - `loadMany`: the mailbox rows of some keys and, per key, only the chunks
 *   written after the copy the caller holds (`chunk.modseq > held
 *   HIGHESTMODSEQ`), optionally locking the mailbox rows (`FOR UPDATE`). An
 *   unchanged mailbox costs one short row; its held copy is returned as is.
 *   Locking takes a statement of its own BEFORE the read: under READ COMMITTED
 *   a `SELECT … FOR UPDATE` that waited for a lock returns the newest mailbox
 *   row but joins it with chunks of its older snapshot; a read after the lock
 *   sees everything the previous holder committed.
 * - `writeMany`: for each changed mailbox, a compare-and-set of its row
 *   (`UPDATE … WHERE highest_modseq = <the copy's>`, or `INSERT … ON CONFLICT
 *   DO NOTHING` for a mailbox without a row), the upsert of the chunks its change
 *   touched, and the NOTIFYs of the change — data-modifying CTEs, so it all
 *   commits together or not at all. Chunks and NOTIFYs join the mailbox rows the
 *   statement actually wrote: a mailbox whose row moved on meanwhile (another
 *   front-end's change) writes nothing, and the caller learns which did.
 *
 * Pure SQL and row decoding: the caller owns connections and transactions.
 */
import { assemble, type ChunkRecord, type WritePlan } from './chunks.js';
import { FlagStoreError, type FlagKey } from '../flagstore.js';
import type { Loaded } from './hot-records.js';
import { MailboxFlags } from './mailbox-state.js';

/** Runs one statement; rows as arrays. */
export type Query = (text: string, values?: unknown[]) => Promise<unknown[][]>;

/** A mailbox as loaded from PostgreSQL: its flags, chunk splits, row id and chunk records. */
export interface PgLoaded extends Loaded {
  /** `flag_mailboxes.id`; 0 while the mailbox has no row (no flag ever changed). */
  id: number;
  /** Chunk records by start UID (a start in `splits` without one: empty span). */
  chunks: Map<number, ChunkRecord>;
}

/** The state of a mailbox without a row. */
export function absent(): PgLoaded {
  return { id: 0, mf: new MailboxFlags(), splits: [1], chunks: new Map() };
}

const LOAD = `
SELECT i.idx, m.id, m.highest_modseq, m.splits, c.start_uid, c.flags, c.modseqs
FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) WITH ORDINALITY AS i(u, mb, v, since, idx)
JOIN flag_mailboxes m ON m.user_name = i.u AND m.mailbox = i.mb AND m.uid_validity = i.v
LEFT JOIN flag_chunks c ON c.mailbox_id = m.id AND c.modseq > i.since
ORDER BY i.idx, c.start_uid`;

const LOCK = `
SELECT m.id FROM flag_mailboxes m
JOIN unnest($1::text[], $2::text[], $3::bigint[]) AS i(u, mb, v) ON m.user_name = i.u AND m.mailbox = i.mb AND m.uid_validity = i.v
ORDER BY m.id FOR UPDATE OF m`;

function corrupt(what: string): FlagStoreError {
  return new FlagStoreError('UNAVAILABLE', `flag database holds a malformed ${what}`);
}

function isNumbers(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isSafeInteger(x));
}

/**
 * The current state of each of `keys`, given the copies held (`held[i]`, or
 * undefined): a held copy that is still current is returned itself (same
 * object), a stale one is brought up to date with the chunks written since.
 * With `lock` (inside a transaction) the existing mailbox rows are locked first.
 */
export async function loadMany(q: Query, keys: readonly FlagKey[], held: ReadonlyArray<PgLoaded | undefined>, lock: boolean): Promise<PgLoaded[]> {
  const since = held.map((h) => (h && h.id > 0 ? h.mf.highestModseq : 0));
  const cols = [keys.map((k) => k.user), keys.map((k) => k.mailbox), keys.map((k) => k.uidValidity)];
  if (lock) await q(LOCK, cols); // in id order: two lockers of the same rows cannot deadlock
  const rows = await q(LOAD, [...cols, since]);
  const out: PgLoaded[] = keys.map((_, i) => (held[i] && held[i]!.id === 0 ? held[i]! : absent()));
  let at = 0;
  while (at < rows.length) {
    const i = (rows[at]![0] as number) - 1;
    const [, id, highest, splits] = rows[at]! as [number, number, number, unknown];
    if (!isNumbers(splits) || splits[0] !== 1) throw corrupt('mailbox row');
    const h = held[i];
    // the copy's chunks are complete only for the row they came from (ids are never reused)
    if (h && since[i]! > 0 && h.id !== id) throw corrupt('mailbox row (its id changed)');
    const base = since[i]! > 0 ? h : undefined;
    const chunks = new Map(base?.chunks ?? []);
    let fresh = false;
    for (; at < rows.length && (rows[at]![0] as number) - 1 === i; at++) {
      const [, , , , start, flags, modseqs] = rows[at]!;
      if (start === null) continue;
      if (!Array.isArray(flags) || !isNumbers(modseqs) || modseqs.length % 3 !== 0) throw corrupt('flag chunk');
      chunks.set(start as number, [flags as ChunkRecord[0], modseqs]);
      fresh = true;
    }
    if (base && !fresh && base.mf.highestModseq === highest) {
      out[i] = base;
      continue;
    }
    out[i] = { id, splits, chunks, mf: assemble({ highestModseq: highest, splits }, splits.map((s) => chunks.get(s))) };
  }
  return out;
}

/** One mailbox's change for `writeMany`. */
export interface WriteItem {
  key: FlagKey;
  /** The state the change was computed from (its id and HIGHESTMODSEQ are compared). */
  from: PgLoaded;
  /** The new state's HIGHESTMODSEQ. */
  highest: number;
  plan: WritePlan;
  /** NOTIFY payloads to send on commit. */
  payloads: readonly string[];
}

const WRITE = `
WITH input AS (
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[])
    WITH ORDINALITY AS t(id, u, mb, v, old, new, splits, idx)
), ins AS (
  INSERT INTO flag_mailboxes (user_name, mailbox, uid_validity, highest_modseq, splits)
  SELECT u, mb, v, new, splits::jsonb FROM input WHERE id = 0
  ON CONFLICT (user_name, mailbox, uid_validity) DO NOTHING
  RETURNING id, user_name, mailbox, uid_validity
), upd AS (
  UPDATE flag_mailboxes f SET highest_modseq = i.new, splits = i.splits::jsonb
  FROM input i WHERE i.id > 0 AND f.id = i.id AND f.highest_modseq = i.old
  RETURNING f.id, i.idx
), done AS (
  SELECT i.idx, ins.id FROM ins, input i
  WHERE i.id = 0 AND i.u = ins.user_name AND i.mb = ins.mailbox AND i.v = ins.uid_validity
  UNION ALL SELECT idx, id FROM upd
), ch AS (
  INSERT INTO flag_chunks (mailbox_id, start_uid, modseq, flags, modseqs)
  SELECT d.id, c.start_uid, i.new, c.flags::jsonb, c.modseqs::jsonb
  FROM unnest($8::bigint[], $9::bigint[], $10::text[], $11::text[]) AS c(idx, start_uid, flags, modseqs), done d, input i
  WHERE d.idx = c.idx AND i.idx = c.idx
  ON CONFLICT (mailbox_id, start_uid) DO UPDATE SET modseq = excluded.modseq, flags = excluded.flags, modseqs = excluded.modseqs
  RETURNING 1
), n AS (
  SELECT pg_notify($12, p.payload) FROM unnest($13::bigint[], $14::text[]) AS p(idx, payload), done d WHERE d.idx = p.idx
)
SELECT d.idx, d.id, (SELECT count(*) FROM n) FROM done d`;

const EMPTY_CHUNK: ChunkRecord = [[], []];

/**
 * Write `items` in one statement (see the file comment). Returns the row id
 * of each item that was written, by index; an item missing from the map
 * wrote nothing (its row moved on, or another writer created it first).
 */
export async function writeMany(q: Query, items: readonly WriteItem[], channel: string): Promise<Map<number, number>> {
  const cIdx: number[] = [];
  const cStart: number[] = [];
  const cFlags: string[] = [];
  const cMods: string[] = [];
  const pIdx: number[] = [];
  const pText: string[] = [];
  items.forEach((it, i) => {
    const put = (start: number, rec: ChunkRecord): void => {
      cIdx.push(i + 1);
      cStart.push(start);
      cFlags.push(JSON.stringify(rec[0]));
      cMods.push(JSON.stringify(rec[1]));
    };
    for (const [start, rec] of it.plan.puts) put(start, rec);
    for (const start of it.plan.removes) put(start, EMPTY_CHUNK);
    for (const p of it.payloads) {
      pIdx.push(i + 1);
      pText.push(p);
    }
  });
  const rows = await q(WRITE, [
    items.map((it) => it.from.id),
    items.map((it) => it.key.user),
    items.map((it) => it.key.mailbox),
    items.map((it) => it.key.uidValidity),
    items.map((it) => it.from.mf.highestModseq),
    items.map((it) => it.highest),
    items.map((it) => JSON.stringify(it.plan.splits)),
    cIdx, cStart, cFlags, cMods,
    channel, pIdx, pText,
  ]);
  const done = new Map<number, number>();
  for (const r of rows) done.set((r[0] as number) - 1, r[1] as number);
  return done;
}

/** The state after a successful write of `it` (row `id`): chunks replaced as planned. */
export function written(it: WriteItem, id: number, mf: MailboxFlags): PgLoaded {
  const chunks = new Map(it.from.chunks);
  for (const [start, rec] of it.plan.puts) chunks.set(start, rec);
  for (const start of it.plan.removes) chunks.delete(start);
  return { id, mf, splits: it.plan.splits, chunks };
}
