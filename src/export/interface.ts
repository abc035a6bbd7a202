/**
 * What the IMAP layer needs from the data behind it, and nothing more. It lives
 * here, in the lower layer, so that export never imports from imap
 * (STYLE §1). `src/export/` implements it over newsgroup sources; tests may
 * implement it over fixed data. Nothing here knows about NNTP.
 *
 * Grouped by IMAP state:
 * - authenticated state: `Backend.mailboxes`, `Backend.open`, `Backend.status`;
 * - selected state: `MailboxHandle` (snapshots, change notification) and
 *   `MessageReader` (per-message data: FETCH and SEARCH say what they need of
 *   a run of messages, `read`, and the implementation plans the upstream work).
 *
 * Errors: methods throw `BackendError` with a stable code; the IMAP connection
 * maps it, in one place, NONEXISTENT → NO [NONEXISTENT], UNAVAILABLE → NO
 * [UNAVAILABLE], and so on.
 */
import type { Readable } from 'node:stream';
import type { Envelope, MimePart, SectionText } from '../mime/index.js';

export type { Envelope, MimePart, SectionText };

export interface MailboxEntry {
  /** Full name with `.` as separator, UTF-8 (e.g. `comp.lang.misc`, `INBOX`). */
  name: string;
  /** False for hierarchy parents that are not groups themselves (`\Noselect`). */
  selectable: boolean;
  hasChildren: boolean;
}

/**
 * An immutable view of a mailbox at one moment, shared by every session that
 * has it selected (invariant 7). A new snapshot replaces it when articles
 * arrive or expire; sessions move to it at safe points.
 */
export interface MailboxSnapshot {
  readonly uidValidity: number;
  /** Next UID this mailbox will assign. */
  readonly uidNext: number;
  /** The UIDs present, strictly ascending. Do not modify. */
  readonly uids: Uint32Array;
}

export interface MessageMeta {
  uid: number;
  /** Exact size in octets of the article as BODY[] returns it. */
  size: number;
  /** INTERNALDATE: the article's arrival time at the upstream, or its Date header. */
  internalDate: Date;
  /** The header block, up to and including the empty line. */
  header: Buffer;
  /** Parsed from `header`; may be computed on each read: read it once per use. */
  envelope: Envelope;
}

export interface ByteRange {
  /** First octet (inclusive). */
  start: number;
  /** End octet (exclusive). */
  end: number;
}

export interface MetaOptions {
  /**
   * False when the caller does not use `size` (a listing of ENVELOPE or
   * INTERNALDATE only): an implementation may then report an inexact size
   * rather than read articles to learn the exact one. Default true.
   */
  exactSize?: boolean;
}

/** What a caller will use of each message of a planned read (`MessageReader.read`). */
export interface ReadNeeds {
  /** The `MessageMeta` of each message (size, date, header, envelope). */
  meta: boolean;
  /** Whether `MessageMeta.size` is used; see `MetaOptions.exactSize`. Default true. */
  exactSize?: boolean;
  /**
   * The caller will ask for `structure(uid)`: of every message (true), or of
   * those the predicate accepts (e.g. whose rendering it has not cached).
   * Default false.
   */
  structure?: boolean | ((uid: number) => boolean);
  /** The caller will ask for `content` of the messages (body sections). Default false. */
  content?: boolean;
  /**
   * The caller sends each batch on as it comes (a FETCH listing) rather than
   * answering once at the end (SEARCH): the reader may then read later
   * batches ahead, so the stream does not stall at batch ends. Default false.
   */
  streams?: boolean;
}

/** One batch of a planned read: a run of the UIDs asked for, in order. */
export interface MessageBatch {
  /** Index, in the UIDs given to `read`, of this batch's first UID. */
  readonly from: number;
  readonly uids: readonly number[];
  /**
   * With `needs.meta`: the meta data of each message that could be read. A
   * UID without one vanished upstream (expiry announces it later) or is
   * counted in `failed`. Undefined without `needs.meta`.
   */
  readonly metas: ReadonlyMap<number, MessageMeta> | undefined;
  /** Messages of the batch whose meta data the upstream could not deliver. */
  readonly failed: number;
}

export interface MessageReader {
  /**
   * `uids` in consecutive batches, in order, each with what `needs` asks for
   * ready, for FETCH and SEARCH. The implementation plans the upstream work
   * (batch size, pipelining, reading ahead of the caller, bodies before sizes
   * so no article is read twice, retrying a failed batch one message at a
   * time); the caller renders each batch as it comes and may stop early.
   * Throws, from the iteration, UNAVAILABLE when no message of a batch could
   * be read.
   */
  read(uids: readonly number[], needs: ReadNeeds): AsyncIterable<MessageBatch>;
  /**
   * Meta data for `uids` in the order given, in one go (the step `read` is
   * made of; for tools and tests). UIDs that vanished upstream are skipped.
   * Throws UNAVAILABLE when the upstream is unreachable.
   */
  meta(uids: readonly number[], opts?: MetaOptions): AsyncIterable<MessageMeta>;
  /** MIME structure with absolute byte offsets (computed once per article, cached). */
  structure(uid: number): Promise<MimePart>;
  /**
   * Optional: the byte range of BODY[path.text] of a part (path not empty) as
   * `sectionRange(structure(uid), path, text)` (src/mime/section.ts) gives it,
   * without waiting for the whole structure of an article being downloaded
   * when what is in decides it (RFC 9051 §6.4.5 partials of a long part):
   * the range then ends at the section's end, or, that end not in yet, at
   * least `want` octets after its start and never past its end, so every
   * partial of at most `want` octets from the section's start reads the same
   * bytes. Downloads nothing `structure` would not. Rejects with MimeError
   * NO_SUCH_PART or BAD_SECTION where `sectionRange` throws them, and as `structure`.
   */
  sectionRange?(uid: number, path: readonly number[], text: SectionText, want: number): Promise<ByteRange>;
  /**
   * Optional: for BINARY[path]<partial> (RFC 3516) of an article being
   * downloaded, the range `sectionRange(uid, path, '', want)` would give when
   * what is in shows the part is in an identity transfer encoding (7bit,
   * 8bit, binary: BINARY sends its octets as is); undefined otherwise (a
   * part to decode, a stored structure, a cached article, a prefix that
   * never decides): the caller then takes `structure`. Rejects as `structure`.
   */
  binaryRange?(uid: number, path: readonly number[], want: number): Promise<ByteRange | undefined>;
  /**
   * Article bytes (optionally one range), streamed. The caller must consume or
   * destroy the stream. Throws NONEXISTENT if the article is gone upstream.
   */
  content(uid: number, range?: ByteRange): Promise<Readable>;
  /**
   * Optional: the bytes `content` would stream, in the cheapest form the
   * implementation has at hand, for a caller that sends them on (FETCH body
   * sections): a Buffer for a short article — returned synchronously when no
   * waiting is needed, so a FETCH of many cached bodies costs no stream and
   * no promise per message —, a `ByteSource` for a range of a long article
   * stored whole (the caller reads it into buffers it reuses), else a stream
   * as `content`. A Buffer is the caller's to keep and not to modify.
   * Throws (or rejects) as `content`.
   */
  bytes?(uid: number, range?: ByteRange): Buffer | Promise<Buffer | ByteSource | Readable>;
  /**
   * Optional: the bytes `bytes` would return, lent instead of given, when
   * they are at hand with no waiting (a small cached article): calls `use`
   * synchronously, once, with a view of them and returns true. The view is
   * valid only during that call — its memory is the implementation's and its
   * next read overwrites it — so `use` copies what it needs, keeps no
   * reference and calls nothing of the backend. Returns false without
   * calling `use` when the bytes are not at hand so (not cached, a long
   * article, a download under way, found damaged): the caller then asks
   * `bytes` or `content`, which fetch them again. Starts no download. Throws
   * as `bytes` does for a UID the mailbox does not hold.
   */
  lend?(uid: number, range: ByteRange | undefined, use: (bytes: Buffer) => void): boolean;
}

/**
 * A range of stored bytes read piece by piece into the caller's buffers
 * (`MessageReader.bytes`). `read(into)` fills `into` from the current
 * position on and resolves with the octets read, 0 once `size` octets were
 * read; it rejects on an I/O error or when the bytes end early. The caller
 * calls `close()` exactly once, when done or on giving up.
 */
export interface ByteSource {
  readonly size: number;
  read(into: Buffer): Promise<number>;
  close(): void;
}

export interface MailboxHandle extends MessageReader {
  readonly name: string;
  current(): MailboxSnapshot;
  /** Called with each new snapshot; returns a function that unsubscribes. */
  onChange(fn: (snapshot: MailboxSnapshot) => void): () => void;
  /**
   * Look upstream for new or expired articles now; resolves with the latest
   * snapshot. `full`: a thorough look that also finds cancelled articles
   * (NNTP: LISTGROUP), for a client resynchronising after being offline.
   */
  refresh(opts?: { full?: boolean }): Promise<MailboxSnapshot>;
  /** The session is done with this handle. */
  release(): void;
  /**
   * The same articles in other mailboxes (crossposts: one Message-ID posted to
   * several groups), as UIDs there, so a read mark can follow them (DESIGN:
   * "Crossposted articles can share their read state"). Only mailboxes whose
   * UID map knows the article are listed. Never throws for unknown UIDs.
   */
  crossposts?(uids: readonly number[]): Promise<CrosspostTarget[]>;
  /**
   * SEARCH, SORT and THREAD from an index the backend keeps (src/search/), when
   * it keeps one. Absent: the IMAP layer scans (meta and content) as before.
   */
  readonly search?: MailboxSearch;
}

export interface CrosspostTarget {
  mailbox: string;
  uidValidity: number;
  uids: number[];
}

export interface StatusData {
  messages: number;
  uidNext: number;
  uidValidity: number;
  /** Total octets (RFC 8438 STATUS=SIZE), if known without downloading articles. */
  size?: number;
}

export interface Backend {
  /** The whole mailbox tree: INBOX, groups and their non-group parents. */
  mailboxes(): Promise<MailboxEntry[]>;
  status(name: string): Promise<StatusData>;
  open(name: string): Promise<MailboxHandle>;
  /**
   * Optional: calls `fn` with each MIME structure the backend learns without a
   * client asking for it (the search index's crawler parsing an article it
   * read), so the protocol layer can render it before the first listing asks.
   * `fn` runs synchronously on the backend's path and must be cheap; what it
   * throws is logged and ignored. Returns a function that unsubscribes.
   */
  onStructure?(fn: (mailbox: string, uidValidity: number, uid: number, part: MimePart) => void): () => void;
}

export type BackendErrorCode = 'NONEXISTENT' | 'UNAVAILABLE' | 'NOPERM' | 'CORRUPTION' | 'UNKNOWN-CTE';

export class BackendError extends Error {
  readonly code: BackendErrorCode;
  constructor(code: BackendErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BackendError';
    this.code = code;
  }
}

/**
 * What an index answers for one mailbox (RFC 9051 §6.4.4 SEARCH, RFC 5256 SORT
 * and THREAD). Matching is IMAP's: a case-insensitive substring test on text
 * decoded to Unicode (both sides folded with NFC + toLowerCase), exactly what a
 * scan of the articles would answer.
 *
 * Errors: methods throw BackendError UNAVAILABLE when the index cannot answer
 * now; the caller then scans (the index is a cache, never the truth).
 */
export interface MailboxSearch {
  /**
   * The UIDs among `within` (ascending; default: the whole snapshot) whose
   * field holds every needle. `uids` is exact for the articles the index
   * covers; `unknown` lists those it does not cover yet (never fetched, body
   * not indexed): the caller tests them itself (scan) and adds its hits.
   */
  match(terms: readonly IndexTerm[], within?: Uint32Array): Promise<IndexMatch>;
  /**
   * `uids` (ascending) in the order of `criteria` (RFC 5256 §3, RFC 5957);
   * ties by UID. Never fewer or more UIDs than given.
   */
  sort(criteria: readonly SortCriterion[], uids: Uint32Array): Promise<Uint32Array>;
  /** `uids` (ascending) threaded by `algorithm` (RFC 5256 §3, THREAD=REFS); each UID appears once. */
  thread(algorithm: ThreadAlgorithm, uids: Uint32Array): Promise<ThreadForest>;
  /** How far the index has got: articles with header / body indexed, of `total`. */
  progress(): { total: number; headers: number; bodies: number };
}

export type IndexField = 'subject' | 'from' | 'to' | 'cc' | 'bcc' | 'body' | 'text' | { header: string };

export interface IndexTerm {
  field: IndexField;
  /** The needle as the client sent it (decoded to Unicode, not folded). */
  needle: string;
}

/** An index's answer; its arrays may be shared with other answers (kept by the index): do not modify them. */
export interface IndexMatch {
  /** Matching UIDs, ascending (exact among the covered articles). */
  uids: Uint32Array;
  /** UIDs the index could not decide, ascending: scan them. */
  unknown: Uint32Array;
}

export type SortKey = 'ARRIVAL' | 'CC' | 'DATE' | 'FROM' | 'SIZE' | 'SUBJECT' | 'TO' | 'DISPLAYFROM' | 'DISPLAYTO';

export interface SortCriterion {
  key: SortKey;
  /** The REVERSE prefix. */
  reverse?: boolean;
}

export type ThreadAlgorithm = 'ORDEREDSUBJECT' | 'REFERENCES' | 'REFS';

/** One message of a thread, or (uid null) a dummy parent grouping messages whose parent is missing. */
export interface ThreadNode {
  readonly uid: number | null;
  readonly children: readonly ThreadNode[];
}

/**
 * A forest in preorder, one entry per node: `uids[i]` its UID (0 for a
 * dummy), `kids[i]` its number of children with bit 31 set for a dummy. How
 * a whole group's threads come (no object per message); do not modify.
 */
export interface PackedThreads {
  readonly uids: Uint32Array;
  readonly kids: Uint32Array;
}

/** A THREAD answer: the roots as nodes (an array), or packed. */
export type ThreadForest = readonly ThreadNode[] | PackedThreads;
