/**
 * Every limit and timeout of the IMAP front-end, in one place (STYLE §8).
 * Each constant says why it has its value and which RFC section it answers to.
 * Sizes are in octets, durations in milliseconds.
 */

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Longest command line (the text between two literals, or between the tag and
 * CRLF) that is buffered. RFC 9051 §4 and RFC 7162 §4 ask servers to accept
 * lines of at least 8192 octets; a long UID set from a QRESYNC client easily
 * exceeds that, so we allow 64 KiB. Longer lines are answered BAD and skipped
 * without being buffered.
 */
export const MAX_LINE_LENGTH = 64 * KiB;

/**
 * Largest literal accepted into memory. Newsfront is read-only (no APPEND), so
 * literals carry only names, passwords and search strings; 64 KiB is generous.
 * Synchronizing literals above this are refused with `BAD [TOOBIG]` before any
 * `+` is sent (RFC 9051 §7.5, go-imap CheckBufferedLiteralFunc).
 */
export const MAX_LITERAL_SIZE = 64 * KiB;

/**
 * Largest non-synchronizing literal `{n+}` accepted. RFC 7888 §4 (LITERAL-)
 * limits non-synchronizing literals to 4096 octets; a server advertising
 * LITERAL- must refuse larger ones with a tagged BAD [TOOBIG].
 */
export const MAX_NONSYNC_LITERAL_SIZE = 4096;

/**
 * Largest oversized non-synchronizing literal we skip (read and discard) to stay
 * in sync with the client after refusing it. Beyond this the framer reports a
 * fatal error (BYE): skipping more would let one client occupy the connection
 * with junk for a long time, and RFC 7888 §4 allows closing the connection.
 */
export const MAX_SKIPPED_LITERAL_SIZE = 1 * MiB;

/**
 * Largest complete command (all lines plus all literals). Bounds the memory a
 * single pipelined command can pin. RFC 9051 §4 leaves this to the server.
 */
export const MAX_COMMAND_SIZE = 256 * KiB;

/** Most literals in one command: real commands need 1–3 (LOGIN user pass, SEARCH strings). */
export const MAX_LITERALS_PER_COMMAND = 64;

/**
 * Deepest parenthesis / NOT / OR nesting the decoder follows. Real clients use
 * 2–5 levels (SEARCH OR chains, HEADER.FIELDS lists); the bound keeps recursion
 * far from the JS stack limit (hostile `((((…` input, DESIGN invariant 8).
 */
export const MAX_NESTING_DEPTH = 32;

/**
 * Most ranges in one sequence set (RFC 9051 §9 `sequence-set`). A QRESYNC
 * client's UID set can be long (RFC 7162 §3.2.5.2), but each range costs a
 * small object; 20,000 fits in MAX_LINE_LENGTH anyway.
 */
export const MAX_SEQUENCE_RANGES = 20_000;

/** Most search keys in one SEARCH command; bounds evaluation cost per message. */
export const MAX_SEARCH_KEYS = 1_000;

/** Most FETCH attributes in one command (RFC 9051 §6.4.5 lists ~20 distinct ones). */
export const MAX_FETCH_ITEMS = 100;

/** Longest tag we echo back in a response (RFC 9051 §2.2.1: tags are short client strings). */
export const MAX_TAG_LENGTH = 64;

/**
 * Most complete commands framed but not yet executed per connection
 * (pipelining, RFC 9051 §5.5). When exceeded the connection stops reading the
 * socket until the queue drains, so memory stays bounded.
 */
export const MAX_PIPELINED_COMMANDS = 64;

/**
 * Inactivity autologout once authenticated. RFC 9051 §5.4: "if a server has an
 * inactivity autologout timer that applies to sessions after authentication,
 * the duration of that timer MUST be at least 30 minutes".
 */
export const IDLE_AUTOLOGOUT_MS = 30 * 60 * 1000;

/**
 * Inactivity timeout before authentication. RFC 9051 §5.4 allows a shorter
 * timer in the not-authenticated state; 60 s frees sockets held by scanners.
 */
export const NOT_AUTHENTICATED_TIMEOUT_MS = 60 * 1000;

/**
 * Failed LOGIN/AUTHENTICATE attempts per connection before BYE. RFC 9051
 * §11.3 (password guessing) recommends limiting attempts.
 */
export const MAX_FAILED_LOGINS = 3;

/** Delay before answering a failed login (RFC 9051 §11.3, slows guessing). */
export const LOGIN_FAILURE_DELAY_MS = 2_000;

/**
 * How long NOOP/CHECK wait for the mailbox check upstream (GROUP). NOOP is the
 * clients' keep-alive (RFC 9051 §6.1.2); a stalled upstream must not hold it, so
 * past this the check finishes in the background and is reported at the next command.
 */
export const REFRESH_WAIT_MS = 1_000;

/**
 * SELECT (QRESYNC …) waits this long for a full look upstream (cancels are
 * found only by listing the group: LISTGROUP of 100k articles takes ~0.3 s
 * over INN here). A resynchronising client is worth the wait; a stalled
 * upstream is not worth more.
 */
export const QRESYNC_CHECK_WAIT_MS = 5_000;

// ---- Admission: who may connect and try to log in (configurable: `limits.*`, config/README.md) ----
// RFC 9051 §11.3 (password guessing) and §7.1.5 (a BYE greeting refuses a
// connection) leave the numbers to the server; each default below is sized
// for a public server on one machine, and each can be changed in the config.

/**
 * Connections open at once, all sources together. An idle connection costs a
 * descriptor and ~10 KiB of memory (measured: 4,100 idle connections before
 * login added ~35 MB RSS, bench/hostile.ts), so 10,000 stay near 100 MB and far
 * under a typical descriptor limit (64k–1M). Beyond it a
 * new connection gets `* BYE [UNAVAILABLE]` as its greeting (RFC 9051 §7.1.5)
 * instead of an accept error that would also hit everyone else.
 */
export const MAX_CONNECTIONS = 10_000;

/**
 * Connections open at once from one source address (an IPv6 source counts per
 * /64, see IPV6_SOURCE_PREFIX). A mail client keeps ≤ 5 per account
 * (Thunderbird's default cache); 100 lets ~20 users share one NAT address
 * with full pools, while one host needs 100 addresses to fill MAX_CONNECTIONS.
 */
export const MAX_CONNECTIONS_PER_ADDRESS = 100;

/**
 * Sources exempt from the per-address limits (connections and failed logins):
 * loopback. A loopback peer is this machine — typically a TLS terminator or
 * proxy in front of newsfront, behind which every client shares the address,
 * so counting it as one host would cap the whole service. The global limits
 * still apply.
 */
export const LIMIT_EXEMPT_ADDRESSES: readonly string[] = ['127.0.0.0/8', '::1/128'];

/**
 * IPv6 sources are counted per /64 prefix: a single host routinely holds a
 * whole /64 (SLAAC, RFC 4862; privacy addresses, RFC 8981), so counting single
 * addresses would bound nothing.
 */
export const IPV6_SOURCE_PREFIX = 64;

/**
 * Fixed time from connect to a successful LOGIN/AUTHENTICATE; bytes do not
 * extend it (unlike the inactivity timer, which any byte resets, so one byte
 * every 10 s held a socket forever). 60 s covers a client that prompts for the
 * password after the greeting (mutt) and a slow TLS handshake. RFC 9051 §5.4
 * allows any timer before authentication.
 */
export const PRE_AUTH_DEADLINE_MS = 60_000;

/**
 * Commands accepted before login; the next one is answered `* BYE [LIMIT]`.
 * A client needs ≤ 8 (CAPABILITY, ID, STARTTLS, CAPABILITY, up to three LOGIN
 * attempts); 20 leaves room and stops a socket from being used as a free
 * command parser.
 */
export const MAX_PRE_AUTH_COMMANDS = 20;

/**
 * Failed logins allowed per source address (all users) in a burst; the
 * allowance refills evenly over LOGIN_FAILURE_WINDOW_MS (a token bucket). Past
 * it, logins from that source are refused `NO [UNAVAILABLE]` without checking
 * the password. 10 in 10 minutes lets a NAT full of people mistype now and then.
 */
export const LOGIN_FAILURES_PER_ADDRESS = 10;

/**
 * Failed logins allowed per user name (all sources), the same way. A source
 * where the user logged in successfully lately (KNOWN_SOURCE_TTL_MS) is not
 * held by this bucket, so an attack on a name does not lock its owner out.
 */
export const LOGIN_FAILURES_PER_USER = 10;

/** Time over which a spent failure allowance refills completely (1 per minute at the defaults). */
export const LOGIN_FAILURE_WINDOW_MS = 10 * 60_000;

/** How long a (user, source) pair stays known after a successful login. */
export const KNOWN_SOURCE_TTL_MS = 7 * 24 * 3600_000;

/**
 * Entries kept by the failed-login limiter (buckets and known pairs each):
 * bounds its memory (~100 B each) whatever names and addresses an attacker
 * sprays; the least recently used go first.
 */
export const LOGIN_LIMITER_ENTRIES = 100_000;

/**
 * Password checks (scrypt, ~16 MiB and ~50 ms of one core each) running at
 * once. Node runs them on the libuv thread pool (4 threads by default) that
 * file reads and DNS lookups share; unbounded, guesses fill the pool, queue
 * every file read behind them (SELECT waited 20 s) and take both cores. 2
 * leaves pool threads and a core for serving.
 */
export const PASSWORD_CHECKS = 2;

/**
 * Password checks waiting for a slot. Known (user, source) pairs go first, then
 * sources without recent failures, then the rest; beyond this queue the
 * lowest-ranked newest waiter is answered `NO [UNAVAILABLE]` at once. 64 is ~2 s
 * of checks at the defaults.
 */
export const PASSWORD_CHECK_QUEUE = 64;

/** After a BYE, how long a peer that does not close is given before the socket is destroyed. */
export const BYE_GRACE_MS = 5_000;

/**
 * Refused connections and logins are summed up in one warn line at most this
 * often: a flood must not flood the log too.
 */
export const REFUSAL_LOG_INTERVAL_MS = 10_000;

/**
 * Bound of the rendered-ENVELOPE cache shared by all sessions
 * (render/envelope-cache.ts, page-cache.ts), renderings plus their overhead.
 * A rendering is ~300 bytes (the 100k bench group: 30.2 MB); packed pages (a
 * listing packs every page it leaves) take ~310 KB per 1,024 articles, so
 * 16 MiB keeps ~55,000 articles (RFC 9051 §7.5.2 ENVELOPE; DESIGN invariant
 * 7: bounded, shared, not per session). Bigger groups' pages come back from
 * the render store (one read per 1,024 articles, into recycled buffers: a
 * warm 100k walk with an 8 MiB bound took the CPU of one with the group in
 * memory); a FETCH of one message, once the bound is full, reads only its
 * rendering (~10–15 µs of CPU, ~1 µs from memory). 16 MiB, not the 32 MiB
 * that held the whole 100k group until issue 14: after listing a 1M group
 * the full bound is part of the anonymous memory measured against its
 * 400 MB goal (403 MB with 32 MiB in one run); the 100k group then misses on
 * about half of its single-message FETCHes (~+6 µs each on average). Part of
 * the ~100 MiB budget of the caches by default (config/README.md).
 */
export const ENVELOPE_CACHE_BYTES = 16 * MiB;

/**
 * Bound of the rendered BODY/BODYSTRUCTURE cache shared by all sessions
 * (render/structure-cache.ts, page-cache.ts): packed like the envelopes,
 * ~170 bytes a BODYSTRUCTURE (the 100k bench group: 17.3 MB), so 4 MiB
 * keeps ~24,000; pages beyond it are read back from the render store, one
 * read per 1,024 articles (a warm BODYSTRUCTURE listing of the 100k group
 * took no more CPU than with everything in memory, bench/memory.js --focus).
 * 4 MiB, not 16 (issue 14): a client's random FETCHes ask for ENVELOPE far
 * more often than for BODYSTRUCTURE, whose pages held ~17 MB of anonymous
 * memory with 50 sessions that never read them.
 */
export const STRUCTURE_CACHE_BYTES = 4 * MiB;

/**
 * Bound of the PREVIEW cache shared by all sessions (render/preview.ts,
 * RFC 8970): a preview of 200 characters is ~560 bytes charged, so 8 MiB
 * keeps ~15,000 articles' previews — a client's message list of a busy group.
 */
export const PREVIEW_CACHE_BYTES = 8 * MiB;

/**
 * Bound of the object-id cache (objectid.ts, RFC 8474): EMAILIDs and THREADIDs
 * a client was sent, with the Message-ID each was made from, so that SEARCH
 * EMAILID/THREADID can ask the search index for that Message-ID instead of
 * scanning. ~200 bytes an entry: 2 MiB keeps ~10,000. A miss only costs a scan.
 */
export const OBJECTID_CACHE_BYTES = 2 * MiB;
