/**
 * The source interface: where newsgroup articles come from (NNTP upstreams or a
 * local mbox archive). `src/export/` builds read-only mailboxes on top of it.
 *
 * Contract for every implementation:
 * - article numbers are those of the source (NNTP article numbers, or 1-based
 *   positions in an archive file); they may have gaps;
 * - article bytes are the exact article as injected/stored, CRLF line ends,
 *   never dot-stuffed, delivered as a stream (a 40 MB article is never held whole);
 * - failures are thrown as `SourceError` with a stable `code`.
 */
import type { Readable } from 'node:stream';

export interface GroupInfo {
  /** Group name, e.g. `comp.lang.misc` (UTF-8). */
  name: string;
  /** Estimated number of articles (NNTP GROUP count). */
  count: number;
  /** Lowest article number (count 0 ⇒ low may be > high). */
  low: number;
  /** Highest article number. */
  high: number;
  /** Posting status flag from LIST ACTIVE (`y`, `n`, `m`, ...), if known. */
  status?: string;
  /** One-line description (LIST NEWSGROUPS), if known. */
  description?: string;
}

/** One overview record (RFC 3977 §8.3 fields). Header values are raw (as sent by the source). */
export interface OverviewRecord {
  number: number;
  subject: string;
  from: string;
  date: string;
  messageId: string;
  references: string;
  /** Size as reported by the source; may be inexact (INN is off by one for bodies starting with '.'). */
  bytes: number;
  lines: number;
  /** Xref header value, if the source provides it (`host group:num group:num`). */
  xref?: string;
  /**
   * In-Reply-To header value when the source's overview carries the field
   * (INN: `extraoverviewadvertised: [ In-Reply-To ]`), '' for an article
   * without one; absent when the overview does not carry it (then it is read
   * apart, with HDR, for THREAD).
   */
  inReplyTo?: string;
}

export interface Source {
  /** Stable identifier, e.g. `nntp://127.0.0.1:119` or `archive:/path`. */
  readonly id: string;
  /** All groups this source carries. */
  listGroups(): Promise<GroupInfo[]>;
  /** Fresh counts for one group (used to detect new and expired articles). Throws NO_SUCH_GROUP. */
  groupInfo(group: string): Promise<GroupInfo>;
  /** Article numbers present in [low, high], ascending (NNTP LISTGROUP). */
  articleNumbers(group: string, low: number, high: number): Promise<number[]>;
  /** Overview records for [low, high], ascending, streamed. */
  overview(group: string, low: number, high: number): AsyncIterable<OverviewRecord>;
  /**
   * Optional, for sources that read overview in batches anyway (NNTP OVER):
   * the records of `overview`, the same ones in the same order, a non-empty
   * array at a time, so a bulk reader (the ingest) pays no step of an async
   * iteration per record. The arrays are the caller's.
   */
  overviewBatches?(group: string, low: number, high: number): AsyncIterable<OverviewRecord[]>;
  /**
   * The whole article (head, blank line, body) as a byte stream. Throws NO_SUCH_ARTICLE.
   * With `messageId`, a source that can tell (NNTP's 220 line) checks that the
   * number still names that article, and else fetches it by Message-ID — an
   * upstream that renumbered or reused a number must not put another article
   * under a UID (invariant 1).
   */
  article(group: string, number: number, messageId?: string): Promise<Readable>;
  /**
   * Optional, for sources that can do it cheaper than a stream: the article's
   * bytes handed to `sink` as they arrive (no backpressure: the sink is
   * synchronous). Same `messageId` check as `article`. `sink.begin()` comes
   * before the first byte and again if the source starts over (another
   * upstream after a failure): the sink then forgets what it was given.
   * `bulk`: one of many reads issued together (a listing); the source may
   * route it for throughput rather than latency.
   */
  articleInto?(group: string, number: number, messageId: string | undefined, sink: ArticleSink, bulk?: boolean): Promise<void>;
  /** The header block of an article, including the terminating empty line (CRLF CRLF). Same `messageId` check. */
  head(group: string, number: number, messageId?: string): Promise<Buffer>;
  /**
   * Optional, for sources that can do it in one request (NNTP HDR): one header
   * field's raw value (first occurrence, unfolded) for the articles of [low,
   * high] that have it, ascending. An article without the field gives no
   * entry or an empty value. Used for In-Reply-To, which the overview lacks.
   */
  headerValues?(group: string, field: string, low: number, high: number): AsyncIterable<{ number: number; value: Buffer }>;
  /**
   * Optional: get ready for a first client at start, in the background
   * (connections opened, per-source facts read), so the first SELECT does not
   * wait for them. Never rejects; a failure only leaves the work to the first
   * request, as without it.
   */
  warm?(): Promise<void>;
  /** Release connections and file handles. */
  close(): Promise<void>;
}

/** Where `Source.articleInto` delivers an article. */
export interface ArticleSink {
  begin(): void;
  data(chunk: Buffer): void;
}

export type SourceErrorCode =
  | 'NO_SUCH_GROUP'
  | 'NO_SUCH_ARTICLE'
  | 'UNAVAILABLE'
  | 'AUTH_REQUIRED'
  | 'PROTOCOL'
  | 'INVALID_ARCHIVE';

export class SourceError extends Error {
  readonly code: SourceErrorCode;
  constructor(code: SourceErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SourceError';
    this.code = code;
  }
}

/** `source.articleInto` when the source has it, else its `article` stream fed to the sink. */
export function articleInto(source: Source, group: string, number: number, messageId: string | undefined, sink: ArticleSink, bulk = false): Promise<void> {
  // not async: a cold listing calls this per article, and an extra async layer is an extra promise
  if (source.articleInto) return source.articleInto(group, number, messageId, sink, bulk);
  return streamInto(source, group, number, messageId, sink);
}

async function streamInto(source: Source, group: string, number: number, messageId: string | undefined, sink: ArticleSink): Promise<void> {
  const stream = await source.article(group, number, messageId);
  sink.begin();
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) sink.data(chunk);
  } catch (err) {
    stream.destroy();
    throw err;
  }
}

/** Records per array when `overviewBatchesOf` groups a source's one-at-a-time `overview`. */
const OVERVIEW_GROUP = 1000;

/**
 * `source.overviewBatches` when the source has it, else its `overview`
 * grouped into non-empty arrays of up to 1,000 records (same records, same
 * order), so a bulk reader has one loop for every source.
 */
export async function* overviewBatchesOf(source: Source, group: string, low: number, high: number): AsyncIterable<OverviewRecord[]> {
  if (source.overviewBatches) {
    for await (const batch of source.overviewBatches(group, low, high)) if (batch.length > 0) yield batch;
    return;
  }
  let batch: OverviewRecord[] = [];
  for await (const r of source.overview(group, low, high)) {
    batch.push(r);
    if (batch.length >= OVERVIEW_GROUP) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
