/**
 * The PostgreSQL layout of the UID map (component `uidmap` of
 * `src/util/pg-migrate.ts`). Released migrations are never edited; a change of
 * layout is a new migration appended here.
 *
 *   uidmap_meta       one row: the highest UIDVALIDITY ever handed out by this
 *                     database (survives deleting mailboxes, so a recreated map
 *                     gets a greater one: RFC 9051 §2.3.1.1)
 *   uidmap_mailboxes  name → id, uid_validity (set once, at creation),
 *                     uid_next, seq (change number: +1 for every committed
 *                     assign/remove that changed something)
 *   uidmap_entries    (mailbox_id, uid) → message_id and location, `changed` =
 *                     the seq that last wrote the row. A removed UID stays as a
 *                     tombstone (message_id and location NULL): the primary key
 *                     then also guarantees a UID is never handed out twice, and
 *                     a front-end learns of removals by pulling rows with
 *                     changed > its seq, like every other change.
 *
 * `uidmap_entries.mailbox_id` has no foreign key: the per-row check cost ~40%
 * of a bulk insert, and the writer already holds the mailbox row locked.
 * Mailbox ids are never reused (identity column), so entries left behind by a
 * deleted mailbox row are inert; delete them with the row.
 *
 * Text columns use the "C" collation: equality and order are bytewise, and
 * the unique index on (mailbox_id, message_id) treats Message-IDs exactly as
 * the other stores do. UIDs and article numbers are bigint (UIDs up to 2^32-1,
 * numbers up to 2^53-1; both are read back as JavaScript numbers).
 */
import type { Migration } from '../util/pg-migrate.js';

export const UIDMAP_COMPONENT = 'uidmap';

export const UIDMAP_MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    name: 'mailboxes, entries with tombstones, store-wide UIDVALIDITY',
    sql: `
CREATE TABLE uidmap_meta (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  last_uid_validity bigint NOT NULL DEFAULT 0 CHECK (last_uid_validity BETWEEN 0 AND 4294967295)
);
INSERT INTO uidmap_meta DEFAULT VALUES;

CREATE TABLE uidmap_mailboxes (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text COLLATE "C" NOT NULL UNIQUE,
  uid_validity bigint NOT NULL CHECK (uid_validity BETWEEN 1 AND 4294967295),
  uid_next bigint NOT NULL DEFAULT 1 CHECK (uid_next BETWEEN 1 AND 4294967296),
  seq bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE uidmap_entries (
  mailbox_id integer NOT NULL,
  uid bigint NOT NULL CHECK (uid BETWEEN 1 AND 4294967295),
  message_id text COLLATE "C",
  upstream text COLLATE "C",
  grp text COLLATE "C",
  number bigint CHECK (number BETWEEN 1 AND 9007199254740991),
  changed bigint NOT NULL,
  PRIMARY KEY (mailbox_id, uid),
  UNIQUE (mailbox_id, message_id),
  CHECK ((message_id IS NULL) = (upstream IS NULL)
     AND (message_id IS NULL) = (grp IS NULL)
     AND (message_id IS NULL) = (number IS NULL))
);
CREATE INDEX uidmap_entries_changed ON uidmap_entries (mailbox_id, changed);
`,
  },
]);
