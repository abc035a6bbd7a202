/**
 * Limits and timeouts of the NNTP client, each with its reason.
 * Options in `NntpClientOptions` override the defaults marked so.
 */

/** Default: wait this long for the server greeting (RFC 3977 §5.1) before TIMEOUT. */
export const DEFAULT_GREETING_TIMEOUT_MS = 10_000;

/**
 * Default: while a response is awaited and we are not deliberately paused, no byte
 * for this long ⇒ TIMEOUT and the connection is destroyed. Generous because a
 * busy INN may take seconds to start a large OVER.
 */
export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;

/**
 * Default: commands written but not yet answered. Pipelining is what makes INN
 * fast (one at a time: ~44 ms per ARTICLE from delayed ACK; 100 in flight: ~35k/s,
 * see NNTP-UPSTREAM.md). RFC 3977 §3.5 allows pipelining of any command except
 * those that change the transport (STARTTLS, COMPRESS), which we send alone.
 */
export const DEFAULT_PIPELINE_WINDOW = 100;

/**
 * Default: longest status line or line of a text response (overview, LIST) we hold.
 * RFC 3977 §3.1 limits status lines to 512 octets but overview lines carry whole
 * References headers; 64 KiB covers real ones and bounds a hostile peer.
 * Not applied to article data, which is streamed.
 */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

/** Default: largest HEAD response collected in memory (headers are small; a hostile peer is not). */
export const DEFAULT_MAX_HEAD_BYTES = 1024 * 1024;

/** RFC 3977 §3.1: a command line, including CRLF, must not exceed 512 octets. */
export const MAX_COMMAND_BYTES = 512;

/**
 * Text-response lines (OVER, HDR) buffered for a slow async-iterator consumer
 * before we stop reading the socket (backpressure).
 */
export const LINE_QUEUE_HIGH_WATER = 2048;

/** highWaterMark of the article Readable: above it, socket reading is paused. */
export const ARTICLE_STREAM_HIGH_WATER = 256 * 1024;

/**
 * An article stream asks for a young-generation GC after this many bytes
 * (src/nntp/gc-hint.ts): the dead socket Buffers of a large article are freed as it
 * streams, not after ~64 MB (RSS growth for the 57 MB bench article ≤ 16 MB).
 */
export const STREAM_GC_HINT_BYTES = 8 * 1024 * 1024;

/** How long quit() waits for the 205 and the close before destroying the socket. */
export const QUIT_TIMEOUT_MS = 2_000;

/**
 * Send a DATE to carry our ACK when input arrived and we have nothing to write
 * (see NntpConnection.maybeNudge). Measured against INN 2.7 on loopback: the
 * status line of ARTICLE arrives at once, the article ~43 ms later (Nagle on
 * nnrpd's side waiting for our delayed ACK); with the nudge ~0.4 ms.
 */
export const ACK_NUDGE = true;

/** Nudges outstanding at once: bounds the extra commands to a few per response. */
export const MAX_NUDGES_IN_FLIGHT = 2;

/**
 * Nudge only when at most this many requests are awaiting responses. With
 * more, the server has further responses to write, its segments fill and our
 * ACKs flow without help; a DATE per input chunk then only costs the server
 * work (measured, 100k-article cold listing over INN: nnrpd CPU 8.1 → 6.7 s,
 * the listing 7.9 → 6.9 s with no nudges in a deep pipeline).
 */
export const NUDGE_UP_TO_PENDING = 2;
