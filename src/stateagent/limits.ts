/**
 * Limits of the flag stores and the state agent, each with its reason.
 * Input beyond a limit is refused with `FlagStoreError('INVALID')` (HTTP 400,
 * or 413 for a body) before anything is stored.
 */

/** Highest UID and UIDVALIDITY: 32-bit unsigned non-zero (RFC 9051 §2.3.1.1, nz-number). */
export const MAX_UID = 0xffff_ffff;
export const MAX_UID_VALIDITY = 0xffff_ffff;

/** Longest user name, in UTF-8 bytes (part of an LMDB key; lmdb-js keys are ≤ 1978 bytes). */
export const MAX_USER_BYTES = 256;

/** Longest mailbox name, in UTF-8 bytes (part of an LMDB key, as in the UID map). */
export const MAX_MAILBOX_BYTES = 1000;

/** Longest flag or keyword, in UTF-8 bytes. RFC 9051 sets none; 255 bounds a record's growth per keyword. */
export const MAX_FLAG_BYTES = 255;

/** Most flags named in one update (a STORE flag list); more is a client bug, not a use. */
export const MAX_FLAGS_PER_UPDATE = 64;

/**
 * Most distinct flags and keywords in one mailbox. A server may refuse new
 * keywords (RFC 9051 §7.1, PERMANENTFLAGS without `\*`); this keeps one
 * record bounded however many keywords a client invents.
 */
export const MAX_KEYWORDS_PER_MAILBOX = 1000;

/** Most UID ranges in one HTTP update or newsrc group line (a 1 MiB body holds about this many). */
export const MAX_RANGES_PER_REQUEST = 200_000;

/** Most subscriptions per user (each is a mailbox name in one record). */
export const MAX_SUBSCRIPTIONS = 100_000;

/**
 * Mailbox records kept decoded in memory per store (the hot-key cache). A
 * record is a few ranges per flag, so thousands of them are small (HOT_ITEMS
 * bounds the pathological ones). One per busy user and mailbox: a front-end
 * with 1,000 sessions of 1,000 users needs 1,000, and a miss costs an LMDB
 * read and a decode, or for PostgreSQL every chunk of the mailbox sent again
 * (512 made 1,000 users on one front-end miss half the time).
 */
export const HOT_KEYS = 4096;

/**
 * Numbers (range ends, modseq runs) the hot-key cache may hold in all, ≈ 32 MB:
 * a few pathological mailboxes (100k messages flagged one by one) must not
 * make 512 entries cost gigabytes. The newest entry is always kept.
 */
export const HOT_ITEMS = 4_000_000;

/** Largest request body the agent reads (JSON); larger gets 413. A `.newsrc` import has its own bound below. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Largest `.newsrc` import body (text, or the JSON form). A newsreader that
 * lists every group of a full feed (~100k groups, most without ranges) writes
 * 1–3 MB; 4 MiB takes that, and the parsed form of one import stays in the
 * tens of MB (see the group and range bounds).
 */
export const MAX_NEWSRC_BYTES = 4 * 1024 * 1024;

/** Most group lines in one `.newsrc` import: a full feed has ~100k groups. Each costs a record read and maybe a write. */
export const MAX_NEWSRC_GROUPS = 150_000;

/**
 * Most ranges in one `.newsrc` import, all lines together (per line,
 * MAX_RANGES_PER_REQUEST): each parsed range is an array kept until the import
 * ends, so this bounds one import's memory (~40 MB) whatever the body holds.
 */
export const MAX_NEWSRC_RANGES = 500_000;

/**
 * An import is stored in batches of at most this many groups or
 * IMPORT_BATCH_RANGES ranges, one transaction each, and the agent turns to
 * other requests between batches: a batch is ~10–30 ms of work, so no other
 * request waits longer than that for a 100k-group import. (Consequence: if
 * storage fails midway, the batches before stay; importing the file again
 * gives the same result, as an import sets \Seen exactly.)
 */
export const IMPORT_BATCH_GROUPS = 500;
export const IMPORT_BATCH_RANGES = 20_000;

/**
 * `.newsrc` imports the agent runs at once; more wait their turn, at most
 * IMPORTS_WAITING of them (beyond: 429 with Retry-After). Each running import
 * holds its parsed file (up to ~50 MB at the limits above), and the LMDB
 * writer takes one transaction at a time anyway, so more at once would only
 * add memory. Waiting imports have not read their body yet.
 */
export const IMPORTS_AT_ONCE = 2;
export const IMPORTS_WAITING = 16;

/**
 * A `.newsrc` import that changes more mailboxes than this notifies watchers
 * with one `resync` instead of one event per mailbox: 55,000 events would
 * flood every front-end's feed, and the replay ring (SSE_REPLAY_EVENTS) could
 * not hold them anyway.
 */
export const IMPORT_EVENTS_MAX = 256;

/** Seconds between SSE comment lines, so proxies and NATs keep an idle feed open. */
export const SSE_HEARTBEAT_MS = 25_000;

/** Events kept per user for SSE `Last-Event-ID` resumption after a short disconnect. */
export const SSE_REPLAY_EVENTS = 256;

/** Open SSE feeds per user; more is a leak in a client, refused with 429. */
export const MAX_FEEDS_PER_USER = 64;

/** Time the remote client waits for one agent request before answering UNAVAILABLE. */
export const REMOTE_REQUEST_TIMEOUT_MS = 15_000;

/** Views the remote client keeps per process to answer later views with a delta (see remote.ts). */
export const REMOTE_VIEW_CACHE = 64;

/** Back-off of the remote client's SSE reconnects: first delay and cap. */
export const SSE_RECONNECT_MIN_MS = 100;
export const SSE_RECONNECT_MAX_MS = 5_000;

/**
 * Most per-UID entries one `changedSince` or change event expands to (the
 * FlagStore interface lists UIDs one by one). Runs are stored compactly, but a
 * caller of the agent API may flag `1-4294967295`; expanding that would take
 * the process down, so beyond this the call fails with INVALID instead.
 */
export const MAX_EXPANDED_UIDS = 2_000_000;
