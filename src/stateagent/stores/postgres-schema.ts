/**
 * The PostgreSQL layout of the flag store (component `flags` of
 * `src/util/pg-migrate.ts`). Released migrations are never edited; a change of
 * layout is a new migration appended here.
 *
 *   flag_mailboxes      one row per (user, mailbox, UIDVALIDITY) that ever had a
 *                       flag changed: id, highest_modseq (HIGHESTMODSEQ, RFC
 *                       7162) and `splits`, the chunk start UIDs (chunks.ts)
 *   flag_chunks         (mailbox_id, start_uid) → the flags of one UID span as
 *                       range sets per flag, `flags` = [[flag, [lo, hi, ...]], ...],
 *                       and the per-UID modseqs as runs, `modseqs` = [lo, hi,
 *                       modseq, ...] (the LMDB chunk record, chunks.ts, as two
 *                       jsonb columns); `modseq` = the change that last wrote it.
 *                       A chunk emptied by a change stays as an empty row with
 *                       that change's modseq, so a reader holding an older copy
 *                       learns of it by asking for chunks with a greater modseq.
 *   flag_subscribers    users who set their subscription list (absent: never
 *                       set, every mailbox counts as subscribed)
 *   flag_subscriptions  (user, mailbox) pairs subscribed
 *
 * A mailbox that news reading marked read in long runs costs one chunk row of a
 * few numbers per flag; a fragmented one is cut into chunks of at most
 * MAX_CHUNK_ITEMS numbers, so a one-message STORE rewrites one chunk.
 *
 * `flag_chunks.mailbox_id` has no foreign key: every writer already holds (or
 * compares) the mailbox row, and ids are never reused (identity column).
 * Text columns use the "C" collation: names compare bytewise, as in the LMDB
 * store. UIDs and modseqs are bigint (read back as JavaScript numbers).
 */
import type { Migration } from '../../util/pg-migrate.js';

export const FLAGS_COMPONENT = 'flags';

/** The NOTIFY channel every flag store of one database uses (postgres-notify.ts). */
export const FLAGS_CHANNEL = 'newsfront_flags';

export const FLAGS_MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    name: 'mailboxes with HIGHESTMODSEQ, flag chunks as range sets, subscriptions',
    sql: `
CREATE TABLE flag_mailboxes (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_name text COLLATE "C" NOT NULL,
  mailbox text COLLATE "C" NOT NULL,
  uid_validity bigint NOT NULL CHECK (uid_validity BETWEEN 1 AND 4294967295),
  highest_modseq bigint NOT NULL CHECK (highest_modseq >= 1),
  splits jsonb NOT NULL,
  UNIQUE (user_name, mailbox, uid_validity)
);

CREATE TABLE flag_chunks (
  mailbox_id bigint NOT NULL,
  start_uid bigint NOT NULL CHECK (start_uid BETWEEN 1 AND 4294967295),
  modseq bigint NOT NULL,
  flags jsonb NOT NULL,
  modseqs jsonb NOT NULL,
  PRIMARY KEY (mailbox_id, start_uid)
);
CREATE INDEX flag_chunks_modseq ON flag_chunks (mailbox_id, modseq);

CREATE TABLE flag_subscribers (
  user_name text COLLATE "C" PRIMARY KEY
);

CREATE TABLE flag_subscriptions (
  user_name text COLLATE "C" NOT NULL,
  mailbox text COLLATE "C" NOT NULL,
  PRIMARY KEY (user_name, mailbox)
);
`,
  },
]);
