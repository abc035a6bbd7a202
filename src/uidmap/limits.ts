/**
 * Limits of the UID map, each with its reason. Input beyond a limit is refused
 * with `UidMapError('INVALID_INPUT')` before anything is stored.
 */

/** Highest UID and UIDVALIDITY: both are 32-bit unsigned non-zero (RFC 9051 §2.3.1.1, nz-number). */
export const MAX_UID = 0xffff_ffff;
export const MAX_UID_VALIDITY = 0xffff_ffff;

/**
 * Longest Message-ID accepted, in UTF-8 bytes. RFC 3977 §3.6 and RFC 5536
 * §3.1.3 cap a Message-ID at 250 octets, but old archives hold longer ones;
 * 511 is LMDB's classic key limit and keeps the (mailbox id, Message-ID) key
 * well inside lmdb-js's 1978-byte key limit.
 */
export const MAX_MESSAGE_ID_BYTES = 511;

/** Longest mailbox name, in UTF-8 bytes: it is an LMDB key (limit 1978 bytes in lmdb-js). */
export const MAX_MAILBOX_BYTES = 1000;

/** Longest upstream id or group name stored in a location (bounds the size of one entry). */
export const MAX_LOCATION_NAME_BYTES = 1000;

/**
 * Most articles in one `assign`/`remove` call. One call is one write
 * transaction, which holds LMDB's writer lock for every process sharing the
 * map; callers split larger sets (a whole 100k-article OVER) into batches.
 */
export const MAX_BATCH = 100_000;

/** Highest article number accepted as a location (JS numbers are exact up to 2^53-1). */
export const MAX_ARTICLE_NUMBER = Number.MAX_SAFE_INTEGER;

/**
 * How long the LMDB map keeps the (hash, UID) pairs of the Message-IDs it
 * inserted into a map that was empty (plan-queue.ts `Fresh`): while it does,
 * new batches of that map (the rest of a first ingest, later polls) read
 * nothing per Message-ID. 8–16 bytes an entry: 16 MB at most for a
 * 1M-article first ingest, freed this long after the last batch.
 */
export const FRESH_KEEP_MS = 60_000;

/**
 * The LMDB map folds its assignment log (lmdb-log.ts) into the per-article
 * sub-databases once no `assign` has been made for this long: a first
 * ingest's batches come every few ms, so the fold starts after it (and
 * after the SELECT it answers), not between its batches.
 */
export const FOLD_QUIET_MS = 250;
