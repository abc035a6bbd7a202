/**
 * A session's handle on a shared view (`MailboxHandle`), and the always-empty
 * INBOX. A handle adds nothing per session but its listener subscriptions, which
 * `release()` drops; after `release()` the handle must not be used (calls still
 * work on the view but the view may be dropped from memory).
 *
 * `refresh()` never throws upstream failures to the session: they are logged and
 * the current snapshot is returned (a NOOP must not fail because the news
 * server is down; the data already listed stays readable from the cache).
 */
import type { Readable } from 'node:stream';
import type { Logger } from '../../util/log.js';
import {
  BackendError, type CrosspostTarget, type MetaOptions, type ByteRange, type ByteSource, type MailboxHandle, type MailboxSearch, type MailboxSnapshot,
  type MessageBatch, type MessageMeta, type MimePart, type ReadNeeds, type SectionText,
} from '../interface.js';
import type { GroupReader } from './reader.js';
import type { MailboxView } from './view.js';

export class ViewHandle implements MailboxHandle {
  private readonly unsubs = new Set<() => void>();
  private released = false;
  /** The reader's own function (reader-bytes.ts `lender`), not a method calling it: one call less per lent message. */
  readonly lend: (uid: number, range: ByteRange | undefined, use: (bytes: Buffer) => void) => boolean;
  /** The reader's own functions too (reader-bytes.ts `sectionLocator`). */
  readonly sectionRange: (uid: number, path: readonly number[], text: SectionText, want: number) => Promise<ByteRange>;
  readonly binaryRange: (uid: number, path: readonly number[], want: number) => Promise<ByteRange | undefined>;

  constructor(
    readonly name: string,
    private readonly view: MailboxView,
    private readonly reader: GroupReader,
    private readonly onRelease: () => void,
    private readonly log: Logger,
    private readonly crosspostsOf?: (uids: readonly number[]) => Promise<CrosspostTarget[]>,
    /** The group's index-backed SEARCH/SORT/THREAD (group-search.ts), shared by the view's handles; absent without an index. */
    readonly search?: MailboxSearch,
  ) {
    this.lend = reader.lend;
    this.sectionRange = reader.sectionRange;
    this.binaryRange = reader.binaryRange;
  }

  crossposts(uids: readonly number[]): Promise<CrosspostTarget[]> {
    return this.crosspostsOf ? this.crosspostsOf(uids) : Promise.resolve([]);
  }

  current(): MailboxSnapshot {
    return this.view.current();
  }

  onChange(fn: (snapshot: MailboxSnapshot) => void): () => void {
    const un = this.view.subscribe(fn);
    const off = (): void => {
      un();
      this.unsubs.delete(off);
    };
    this.unsubs.add(off);
    return off;
  }

  async refresh(opts?: { full?: boolean }): Promise<MailboxSnapshot> {
    try {
      return await this.view.refresh(opts);
    } catch (err) {
      this.log.warn({ group: this.view.group, err: (err as Error).message }, 'backend: refresh failed');
      return this.view.current();
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    for (const off of [...this.unsubs]) off();
    this.onRelease();
  }

  read(uids: readonly number[], needs: ReadNeeds): AsyncIterable<MessageBatch> {
    return this.reader.read(uids, needs);
  }

  meta(uids: readonly number[], opts?: MetaOptions): AsyncIterable<MessageMeta> {
    return this.reader.meta(uids, opts);
  }

  structure(uid: number): Promise<MimePart> {
    return this.reader.structure(uid);
  }

  content(uid: number, range?: ByteRange): Promise<Readable> {
    return this.reader.content(uid, range);
  }

  bytes(uid: number, range?: ByteRange): Buffer | Promise<Buffer | ByteSource | Readable> {
    return this.reader.bytes(uid, range);
  }

}

/** INBOX: selectable, read-only, always empty (DESIGN "Names"). */
export class InboxHandle implements MailboxHandle {
  private readonly snap: MailboxSnapshot;

  constructor(
    readonly name: string,
    uidValidity: number,
  ) {
    this.snap = Object.freeze({ uidValidity, uidNext: 1, uids: new Uint32Array(0) });
  }

  current(): MailboxSnapshot {
    return this.snap;
  }

  onChange(): () => void {
    return () => undefined;
  }

  async refresh(): Promise<MailboxSnapshot> {
    return this.snap;
  }

  release(): void {}

  async *read(): AsyncIterable<MessageBatch> {}

  async *meta(): AsyncIterable<MessageMeta> {}

  async structure(uid: number): Promise<MimePart> {
    throw new BackendError('NONEXISTENT', `INBOX: no message with UID ${uid}`);
  }

  async content(uid: number): Promise<Readable> {
    throw new BackendError('NONEXISTENT', `INBOX: no message with UID ${uid}`);
  }
}
