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

/**
 * Bound of the rendered-ENVELOPE cache shared by all sessions
 * (render/envelope-cache.ts), renderings plus their overhead. A rendering is
 * ~250 bytes (~355 charged), so 64 MiB keeps ~190,000 articles: a warm
 * listing of a 100k-article group renders nothing (RFC 9051 §7.5.2 ENVELOPE;
 * DESIGN invariant 7: bounded, shared, not per session).
 */
export const ENVELOPE_CACHE_BYTES = 64 * MiB;

/**
 * Bound of the rendered BODY/BODYSTRUCTURE cache shared by all sessions
 * (render/cache.ts): ~200 bytes each, so about 300,000 articles.
 */
export const STRUCTURE_CACHE_BYTES = 64 * MiB;
