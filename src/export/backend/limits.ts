/**
 * Limits and intervals of the export backend, each with its reason. Options of
 * `createBackend` override the ones marked "default".
 */

/**
 * Overview records per `uidmap.assign` call while ingesting. One call is one
 * LMDB write transaction (it holds the writer lock shared with other
 * processes), so batches stay well below uidmap's MAX_BATCH (100k) while
 * keeping the per-transaction overhead small.
 */
export const INGEST_BATCH = 5_000;

/**
 * Ingest batches handed to a UID map whose calls may overlap (`pipelined`)
 * before the oldest is stored: its commits (and their flushes to disk) go on
 * while the overview is read, instead of the ingest stopping at each one
 * (measured: waiting for each commit was 1.6 s of a 100k first SELECT).
 * Bounds the records held to this many batches.
 */
export const ASSIGN_AHEAD = 4;

/** Progress of a big ingest is logged at info at most this often. */
export const INGEST_PROGRESS_MS = 2_000;

/** The cached group list (LIST ACTIVE) is refreshed after this long. */
export const GROUP_LIST_TTL_MS = 5 * 60_000;

/**
 * HEAD commands in flight for one `meta()` call. The NNTP client pipelines;
 * HEAD answers are small, so with 100 in flight INN's delayed ACKs still
 * throttle it to ~2,500 heads/s, with 1,000 it gives ~38,000/s (bench, this machine).
 */
export const HEAD_WINDOW = 1000;

/**
 * Bound of the in-memory header/envelope LRU when `createBackend` is given
 * none (tests, benches). The server always passes config
 * `cache.metaMemoryBytes`, whose default and its reasoning live in
 * src/app/config/schema.ts (the application owns its defaults; this layer is
 * handed the value). The same 4 MiB, so that a backend built without the
 * config behaves as the server does.
 */
export const DEFAULT_META_MEMORY_BYTES = 4 * 1024 * 1024;

/**
 * Bound of the compact per-article facts kept in memory (facts.ts: exact size
 * and header presence, ~5.4 KB per 1,024 articles charged): 16 MiB holds
 * those of ~3M articles, so a warm listing of a 1M-article group looks up no
 * article record (issue 14). A miss costs one LMDB read per 1,024 articles.
 */
export const FACTS_MEMORY_BYTES = 16 * 1024 * 1024;

/**
 * Idle views (no open handle) kept in memory so that re-opening a group is
 * instant; a view of 100k articles costs ~2.4 MB of typed arrays.
 */
export const IDLE_VIEWS_KEPT = 64;

/** Default poll interval for groups with open handles (new and expired articles). */
export const DEFAULT_POLL_INTERVAL_MS = 60_000;

/**
 * Chunk size for reading cached article files (fs.createReadStream
 * highWaterMark, reads following a download); a range up to this long is one
 * positional read. Streaming a 57 MB article to a socket took ~90–210 ms in
 * 64 KB chunks and ~40–50 ms in 256 KB ones here: each chunk is a new
 * buffer outside the JS heap, and at 64 KB their number made V8 run a full
 * collection every few megabytes ("external memory pressure") besides four
 * times the reads and writes. A reader holds about two chunks.
 */
export const READ_CHUNK = 256 * 1024;

/**
 * A range of an article being downloaded is handed out only once it is
 * downloaded (in memory or on disk) — at most this many of its first bytes. An IMAP literal cannot be taken back:
 * an upstream that dies after the literal began leaves the server no answer
 * but closing the client's connection, while a failure before it is a plain
 * NO [UNAVAILABLE]. Waiting costs the client little (INN sends a 57 MB
 * article in ~80 ms here); the rest of a longer range is streamed as it
 * arrives, so the first byte of a huge article does not wait for the last.
 */
export const COMPLETE_BEFORE_SERVING = 64 * 1024 * 1024;

/**
 * Open handles of cached long articles kept between reads (file-handles.ts):
 * a client reading a 40 MB attachment in 64 KB pieces sends 600 FETCHes of
 * one file. Far below the usual 1,024 descriptors per process.
 */
export const FILE_HANDLES_KEPT = 32;

/** Default size bound of the on-disk article cache. */
export const DEFAULT_CACHE_MAX_BYTES = 1024 * 1024 * 1024;

/** Articles in one `uidmap.remove` call when dropping expired articles (uidmap MAX_BATCH is 100k). */
export const REMOVE_BATCH = 10_000;

/**
 * A temp file in the cache untouched for this long is left over from a crashed
 * run and is deleted at start-up (a live download writes to it continuously;
 * other processes may share the cache directory).
 */
export const STALE_TEMP_MS = 60 * 60_000;

/**
 * A short range of a cached file (a partial fetch's few KB) is read with one
 * positional read on the main thread, as the small articles' LMDB store is
 * read: from the page cache it takes microseconds, while a read through the
 * thread pool costs a hand-off and a wake-up each way (on a loaded 2-core
 * machine ~80 µs of the main thread's time per read).
 */
export const SYNC_READ_MAX = 16 * 1024;

/**
 * While a reader waits to learn where a part of a long download is (fetch-watch.ts),
 * the download's chunks (64 KB from a socket) are parsed in pieces of this many
 * bytes, the question asked after each: a part that starts near the top is
 * located after its first bytes, not after the whole chunk (a cold parse of
 * 64 KB of base64 took ~3–6 ms in the first partial fetch of a fresh server).
 */
export const PARSE_STEP = 4096;

/**
 * Most bytes gathered from an upstream stream before one cache-file write.
 * Writing each small chunk on its own costs a thread-pool round trip per chunk
 * (measured: 40 MB in 1,000-byte chunks took ~3.7 s chunk by chunk).
 */
export const WRITE_COALESCE = 256 * 1024;

/**
 * Most bytes of a download handled (parsed, queued for the cache file) in one
 * turn of the event loop (flow-gate.ts): past them the upstream stream pauses
 * until the next turn, so a command arriving during a long download waits
 * for at most about this much parsing (~0.1 ms per 64 KB of base64), not for
 * every chunk the socket and the stream buffers had ready (1–2 ms measured).
 */
export const DOWNLOAD_TURN_BYTES = 128 * 1024;

/**
 * In 'download' size mode, the largest article (by overview size) downloaded
 * just to learn its exact size. Text articles are a few KB, so a listing costs
 * about what HEAD would; big binary posts are left to the overview size (their
 * bodies start with `=ybegin`, `begin` or a MIME preamble, not with '.').
 */
export const DEFAULT_DOWNLOAD_SIZES_UP_TO = 256 * 1024;

/**
 * Default interval of the LISTGROUP check for cancelled articles of open groups
 * (INN does not lower GROUP's count or raise its low on a cancel). LISTGROUP of
 * a 100k-article group is ~600 KB, so once per 10 minutes per open group.
 */
export const DEFAULT_FULL_CHECK_MS = 10 * 60_000;

/**
 * A changed view table is saved to the metadata LMDB at most this often while
 * polling (100k articles = 2.8 MB per save), and always at `close()`, so that
 * a restart opens the group without re-reading its overview.
 */
export const SAVE_VIEW_MS = 60_000;

/**
 * Longest group name accepted from a client. NNTP command lines are at most
 * 512 octets (RFC 3977 §3.1), so `GROUP <name>` cannot carry a longer one.
 */
export const MAX_GROUP_NAME_BYTES = 497;

/**
 * Article downloads started at once ahead of a FETCH of many bodies
 * (MessageReader.prefetch, one batch of the FETCH at a time). All of a batch
 * at once: their ARTICLE commands go out in one write and the NNTP
 * connection's pipeline window limits what is in flight. With 32, each
 * command went out in a write of its own as the one before finished
 * (measured: ~0.15 ms of CPU per write here, a sixth of a cold 1,000-body
 * FETCH). Memory does not grow with it: a download holds bytes only while its
 * answer is arriving (one at a time per connection), and a finished small
 * article goes to the store.
 */
export const PREFETCH_WINDOW = 1000;

/**
 * Messages per batch of a planned read (MessageReader.read, batches.ts): one
 * pipelined header round for this many, and one flag view per batch in FETCH
 * with implicit \Seen. Big enough to keep the upstream pipeline full, small
 * enough that the first responses of a listing leave quickly.
 */
export const READ_BATCH = 500;

/**
 * Batches whose meta reads are started while the caller still renders an
 * earlier one, when no bodies are read: without it the upstream pipeline
 * drains at every batch end and the upstream idles while the batch is rendered.
 */
export const META_READ_AHEAD = 3;

/**
 * Messages per batch of a planned read that downloads bodies (a FETCH of
 * BODY[]/RFC822/TEXT …; batches.ts), in place of READ_BATCH. Every object of
 * a download in flight (its Fetch, promises, chunks, the NNTP command) lives
 * until its article is stored and sent: with 1,000 downloads started at once
 * (two batches of 500) a fresh server's first 1,000-body FETCH promoted ~6 MB
 * of them to the old generation and paid a major collection inside the
 * command (issue 14). 100, with BODY_READ_AHEAD batches ahead: as many
 * ARTICLE commands in flight as keep INN busy, while the first batches are
 * already being answered.
 */
export const BODY_BATCH = 100;

/**
 * Reads of at most this many messages use BODY_BATCH; longer ones (an offline
 * client's `1:*`, a cold listing of a big group whose exact sizes download
 * every article) keep READ_BATCH: with batches of 100 the 1M group's cold
 * ENVELOPE listing took 131 s (CPU 176 s) against 85 s (124 s) with 500 — a
 * per-batch cost that grows with the group, not found yet (issue 14).
 */
export const BODY_BATCH_SPAN = 5_000;

/**
 * Batches of BODY_BATCH whose bodies are downloaded while the caller still
 * sends an earlier one (a FETCH of many bodies): without them the upstream
 * pipeline drains at every batch end. Downloads are held in memory until
 * stored (small articles: a few MB at most).
 */
export const BODY_READ_AHEAD = 3;

/**
 * Articles read at once for their MIME structure ahead of a BODYSTRUCTURE
 * listing (measure.ts: streamed through the parser, nothing written to the
 * cache). Pipelined on the upstream connection like HEAD (HEAD_WINDOW).
 */
export const STRUCTURE_WINDOW = 500;

/**
 * Article records for the metadata cache are written in batches: at most this
 * many, or after META_WRITE_DELAY_MS. lmdb-js starts one transaction per event
 * turn that writes; a cold listing wrote from every NNTP input chunk (~4,000
 * transactions per 100k articles, each start a measurable main-thread cost).
 * Until written, records are answered from memory. (1,024 with each batch
 * waiting for the previous commit was tried in session 10 to keep LMDB's
 * free lists of dirtied pages small: during a cold 1M-article listing the
 * waiting records piled up in memory, Pss_Anon after the listings 1,135 MB
 * against ~400; reverted.)
 */
export const META_WRITE_BATCH = 4096;
export const META_WRITE_DELAY_MS = 50;

/**
 * Articles up to this size are downloaded into memory and cached as values of
 * one LMDB environment (small-store.ts); longer ones go to a file each
 * (fetch.ts). Text articles are a few KB: a file each cost an open, read and
 * close on the thread pool per article read, plus a temp file, write and
 * rename per download (measured: 1,000 first-time BODY[] 1.3–2.0 s against
 * INN's ~0.1 s). It also bounds the memory of one download in progress.
 */
export const SMALL_ARTICLE_BYTES = 64 * 1024;

/**
 * Small articles downloaded are written to their LMDB store together: after
 * at most this long, or once this many bytes wait (small-store.ts). Until
 * then they are served from memory. A transaction's dirty pages stay on
 * LMDB's free list for the life of the process (~2× the batch: scratch test,
 * 4 MiB batches left 7.6 MB, 1 MiB 3.4 MB), but smaller batches, or waiting
 * for each commit before the next, made downloaded bodies wait in memory
 * for the synced commits: +110–140 MB of peak while every body of the 100k
 * group was read from INN (issue 14, bench/README). Left at 4 MiB.
 */
export const STORE_WRITE_DELAY_MS = 20;
/**
 * With the search index's activity at hand (news-backend.ts), the small
 * store's writes wait further until clients have read nothing for this long
 * (or STORE_WRITE_BATCH_BYTES wait): a FETCH of 1,000 bodies read from INN
 * spent ~13% of its main-thread time in lmdb-js's puts when they were made
 * every 20 ms during it (CPU profile, session 13).
 */
export const STORE_WRITE_QUIET_MS = 50;
export const STORE_WRITE_BATCH_BYTES = 4 * 1024 * 1024;
/**
 * Bytes a finished in-memory download leaves free in front of its article
 * (fetch.ts), in the same buffer: the small-article store writes its CRC-32
 * there and stores that buffer as is (small-store.ts `put` with `framed`),
 * with no second allocation and copy per article.
 */
export const STORE_FRAME_BYTES = 4;
/**
 * Search index feed (index-feed.ts): headers and articles read anyway are
 * written after this long at most (or once `index.crawlBatch` are queued); a
 * few hundred ms keeps batches large without leaving the index behind.
 */
export const FEED_DELAY_MS = 200;

/**
 * Articles queued for the index, or being written, at most (bytes); beyond,
 * new ones are left for later (the crawler or a later read brings them): a
 * FETCH of many big bodies, or a cold listing reading 100k articles for
 * their sizes, must not pile them up in memory while the writer thread is
 * busy. Until issue 14 only the batch being gathered was counted, and a cold
 * 100k listing held ~400 MB of articles waiting for the writer. 4 MiB is
 * ~1,500 text articles, ~7 of the writer's batches: enough to keep it busy.
 * Each byte counted here is held about three times over while a batch is
 * written (the queued copy, postMessage's serialised copy, the writer
 * thread's), and a cold listing reads ~10× faster than the writer indexes
 * bodies, so a deeper queue only held more (16 MiB until issue 14) without
 * indexing more during the listing; what is dropped the crawler brings.
 */
export const FEED_MAX_QUEUED_BYTES = 4 * 1024 * 1024;

/**
 * Overview records queued for the search index at most (bytes, estimated):
 * about 100k articles' worth, so a new group of that size is listed at the
 * speed of its OVER while the writer thread catches up; beyond this an
 * ingest does not wait for the writer (until issue 14 a first SELECT of a
 * 1M group waited for the whole index build, 11.5× INN's OVER): the records
 * are dropped, and the backfill (index-backfill.ts) reads them again.
 */
export const FEED_MAX_OVERVIEW_BYTES = 64 * 1024 * 1024;

/**
 * Overview records of a group's first look (its first SELECT) the index feed
 * keeps until the opener is answered (index-feed.ts `hold`). A bigger group's
 * are all dropped, and the backfill reads them again after the answer (a 1M
 * group: its records held through the SELECT cost more than reading them
 * again after it). 150k, above the ~100k that fit FEED_MAX_OVERVIEW_BYTES:
 * with 10k, the 100k group's first THREAD right after its first SELECT
 * waited for the whole backfill (9–11 s instead of 1.8 s, issue 14), while
 * holding its records costs that SELECT ~0.05–0.1 s of CPU (young
 * collections copy them). Not less than group-search.ts READ_NOT_MEMBERS, so
 * a SORT or THREAD of a group dropped whole waits for its backfill instead of
 * reading headers one by one.
 */
export const FEED_MAX_HELD_RECORDS = 150_000;

/**
 * Overview bytes queued at once from which the queue running empty is told
 * (index-feed.ts `onDrained`): the records of a new group's first SELECT
 * (~64 MB for 100k articles) stay live until written, so the garbage they
 * leave can only be collected then (start.ts collects it at once, see
 * heap-leftovers.ts `afterBurst`). 8 MiB: more than a backfill chunk
 * (BACKFILL_CHUNK records, ~2.5 MB), so a backfill's chunks do not each ask.
 */
export const FEED_DRAINED_NOTICE_BYTES = 8 * 1024 * 1024;

/** How often the crawler logs a group's progress (indexed of total, rate, ETA). */
export const CRAWL_PROGRESS_MS = 10_000;

/**
 * A crawled group with nothing left to fetch is looked at again when its
 * snapshot changes, and at least this often (bodies added while it waited).
 */
export const CRAWL_RECHECK_MS = 60_000;

/** The crawler's pause after a failed read or write (upstream or index down). */
export const CRAWL_RETRY_MS = 5_000;
