/**
 * The export backend: newsgroups of a `Source` as read-only IMAP mailboxes
 * (`Backend`, src/export/interface.ts), with one shared view per group, caches
 * for headers, structures and article bytes, and polling for new and expired
 * articles.
 *
 * Ownership: the caller owns `source` and `uidmaps` and closes them after
 * `close()`; the backend owns its metadata LMDB and the cache directory's
 * contents. `close()` stops polling and closes the metadata store; handles
 * must not be used afterwards.
 *
 * Errors (all `BackendError`): unknown mailbox or non-group parent ⇒
 * NONEXISTENT; upstream unreachable ⇒ UNAVAILABLE with `cause`. Errors while
 * polling are logged, never thrown to sessions.
 */
import { join } from 'node:path';
import type { Logger } from '../../util/log.js';
import type { MailboxUidMap, UidMapStore } from '../../uidmap/index.js';
import { BackendError, type Backend, type MailboxEntry, type MailboxHandle, type StatusData, type CrosspostTarget } from '../interface.js';
import type { GroupInfo, Source } from '../source.js';
import { ArticleCache } from './article-cache.js';
import { toBackendError } from './errors.js';
import { InboxHandle, ViewHandle } from './handle.js';
import { MAX_GROUP_NAME_BYTES, DEFAULT_DOWNLOAD_SIZES_UP_TO, DEFAULT_FULL_CHECK_MS, DEFAULT_META_MEMORY_BYTES, GROUP_LIST_TTL_MS, IDLE_VIEWS_KEPT } from './limits.js';
import { MetaStore, articleKey, viewKey } from './meta-store.js';
import type { SavedView } from './table-codec.js';
import { carriersOf, type Carriers } from './carrier.js';
import { INBOX, groupOfMailbox, isInbox, mailboxOfGroup, mailboxTree, normalizePrefix } from './names.js';
import { GroupReader, type SizePolicy } from './reader.js';
import { MailboxView } from './view.js';

export interface BackendOptions {
  source: Source;
  uidmaps: UidMapStore;
  /**
   * For a plain source: the id recorded as the articles' location in the UID
   * map and used in cache keys; undefined or absent ⇒ `source.id`. A
   * multi-upstream source (with `withFailover`/`carriersOf`, see carrier.ts)
   * names its serving carrier itself and this is not used.
   */
  primaryOf?: (group: string) => string | undefined;
  /** Directory of the article cache and of the metadata LMDB (`meta.lmdb`). Created if missing. */
  cacheDir: string;
  /** Bound of the article cache in bytes. */
  cacheMaxBytes: number;
  /** How often groups with open handles are checked for new/expired articles; 0 disables polling. */
  pollIntervalMs: number;
  /** Prefix of every group mailbox (e.g. `#news.`); '' or absent: groups at the top level. */
  namespacePrefix?: string;
  logger: Logger;
  /**
   * Whether a group's overview `bytes` are exact RFC822.SIZEs ('exact': the
   * archive source) or must be confirmed by downloading the article
   * ('download': NNTP). Measured on INN 2.7 (test/export/backend/inn-sizes.ts):
   * `:bytes` is the exact size plus one when the body's first byte is '.',
   * exact otherwise; nothing short of the body tells which. Default 'exact'.
   */
  sizes?: SizePolicy | ((group: string) => SizePolicy);
  /**
   * In 'download' mode, articles whose overview size exceeds this are not
   * downloaded for their size: the overview size is reported (off by one if
   * such a body starts with '.'). Default DEFAULT_DOWNLOAD_SIZES_UP_TO.
   */
  downloadSizesUpTo?: number;
  /**
   * How often polling lists a group's article numbers (LISTGROUP) to find
   * cancelled articles, which GROUP does not reveal; default DEFAULT_FULL_CHECK_MS.
   */
  fullCheckMs?: number;
  /** Bound of the in-memory header LRU (bytes); default DEFAULT_META_MEMORY_BYTES. */
  metaMemoryBytes?: number;
}

// eslint-disable-next-line no-control-regex
const NOT_IN_GROUP_NAME = /[\x00-\x20\x7f]/;

export type ClosableBackend = Backend & { close(): Promise<void> };

interface GroupList {
  at: number;
  groups: Map<string, GroupInfo>;
}

class NewsBackend implements ClosableBackend {
  private readonly prefix: string;
  private readonly log: Logger;
  private readonly views = new Map<string, Promise<MailboxView>>();
  /** Resolved views by group (for status and polling without awaiting). */
  private readonly live = new Map<string, MailboxView>();
  private readonly readers = new Map<MailboxView, GroupReader>();
  private list: GroupList | null = null;
  private listing: Promise<GroupList> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private inboxValidity: number | null = null;
  private closed = false;
  private readonly carriers: Carriers;

  constructor(
    private readonly o: BackendOptions,
    private readonly meta: MetaStore,
    readonly cache: ArticleCache,
  ) {
    this.prefix = normalizePrefix(o.namespacePrefix);
    this.carriers = carriersOf(o.source, o.primaryOf);
    this.log = o.logger;
    if (o.pollIntervalMs > 0) {
      this.timer = setInterval(() => this.poll(), o.pollIntervalMs);
      this.timer.unref();
    }
  }

  async mailboxes(): Promise<MailboxEntry[]> {
    const list = await this.groupList();
    return mailboxTree(list.groups.keys(), this.prefix);
  }

  async status(name: string): Promise<StatusData> {
    if (isInbox(name)) return { messages: 0, uidNext: 1, uidValidity: await this.inboxUidValidity(), size: 0 };
    const group = this.groupOf(name);
    const view = this.live.get(group);
    if (view !== undefined) {
      // Views with handles are polled; an idle one is brought up to date (one GROUP).
      if (view.refs === 0) {
        await view.refresh().catch((err: unknown) => this.log.warn({ group, err: (err as Error).message }, 'backend: refresh for STATUS failed'));
      }
      const s = view.current();
      return { messages: s.uids.length, uidNext: s.uidNext, uidValidity: s.uidValidity, size: view.totalSize() };
    }
    let info: GroupInfo;
    try {
      info = await this.o.source.groupInfo(group);
    } catch (err) {
      throw toBackendError(err, name);
    }
    const map = await this.o.uidmaps.open(group);
    const empty = info.count === 0 || info.low > info.high;
    const uidNext = empty ? map.uidNext() : Math.max(map.uidNext(), info.high + 1);
    return { messages: empty ? 0 : info.count, uidNext, uidValidity: map.uidValidity };
  }

  async open(name: string): Promise<MailboxHandle> {
    this.assertOpen();
    if (isInbox(name)) return new InboxHandle(INBOX, await this.inboxUidValidity());
    const group = this.groupOf(name);
    const fresh = !this.views.has(group);
    const view = await this.view(group);
    if (!fresh) {
      try {
        await view.refresh();
      } catch (err) {
        this.log.warn({ group, err: (err as Error).message }, 'backend: refresh at open failed; serving the known snapshot');
      }
    }
    view.refs++;
    this.touchIdle(group, view);
    let released = false;
    return new ViewHandle(
      name,
      view,
      this.readers.get(view)!,
      () => {
        if (released) return;
        released = true;
        view.refs--;
        this.trimIdle();
      },
      this.log,
      (uids) => this.crosspostsOf(group, uids),
    );
  }

  /** See MailboxHandle.crossposts: other groups' UIDs of these articles, found by Message-ID. */
  private async crosspostsOf(group: string, uids: readonly number[]): Promise<CrosspostTarget[]> {
    const here = await this.o.uidmaps.open(group);
    const byGroup = new Map<string, number[]>();
    for (const uid of uids) {
      const messageId = here.lookup(uid)?.messageId;
      const groups = messageId === undefined ? undefined : this.meta.crossposts(messageId);
      if (!groups) continue;
      for (const g of groups) {
        if (g === group) continue;
        let list = byGroup.get(g);
        if (!list) byGroup.set(g, (list = []));
        list.push(uid);
      }
    }
    const out: CrosspostTarget[] = [];
    const exported = new Set(this.o.uidmaps.mailboxes());
    for (const [g, mine] of byGroup) {
      if (!exported.has(g)) continue; // never opened here: no UIDs to mark yet
      const there = await this.o.uidmaps.open(g);
      const theirs: number[] = [];
      for (const uid of mine) {
        const u = there.uidOf(here.lookup(uid)!.messageId);
        if (u !== undefined) theirs.push(u);
      }
      if (theirs.length > 0) out.push({ mailbox: this.mailboxName(g), uidValidity: there.uidValidity, uids: theirs.sort((a, b) => a - b) });
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    await Promise.all([...this.live.values()].map((v) => v.save()));
    await this.cache.close();
    this.views.clear();
    this.live.clear();
    await this.meta.close();
  }

  /** Checks every view with open handles; failures are logged only. */
  private poll(): void {
    for (const view of this.live.values()) {
      if (view.refs === 0) continue;
      view.refresh().catch((err: unknown) => this.log.warn({ group: view.group, err: (err as Error).message }, 'backend: poll failed'));
    }
  }

  private view(group: string): Promise<MailboxView> {
    let p = this.views.get(group);
    if (p === undefined) {
      p = this.createView(group);
      this.views.set(group, p);
      p.catch(() => {
        if (this.views.get(group) === p) this.views.delete(group);
      });
    }
    return p;
  }

  private async createView(group: string): Promise<MailboxView> {
    const log = this.log.child({ group });
    let view: MailboxView;
    let uidmap: MailboxUidMap;
    try {
      const vkey = viewKey(group);
      const saved = this.meta.loadView(vkey);
      // Unless the group was seen before, GROUP first: a name that is no group
      // must not create a UID map entry.
      if (saved === undefined) await this.o.source.groupInfo(group);
      uidmap = await this.o.uidmaps.open(group);
      view = await MailboxView.create({
        carriers: this.carriers,
        uidmap,
        group,
        logger: log,
        fullCheckMs: this.o.fullCheckMs ?? DEFAULT_FULL_CHECK_MS,
        saved,
        save: (v: SavedView) => this.meta.saveView(vkey, v),
        onCrosspost: (messageId, groups) => this.meta.putCrossposts(messageId, groups),
        onExpired: (c, numbers) => {
          for (const n of numbers) this.meta.forget(articleKey(c.id, group, n));
        },
      });
    } catch (err) {
      throw toBackendError(err, this.mailboxName(group));
    }
    const reader = new GroupReader({
      group,
      meta: this.meta,
      cache: this.cache,
      view: () => view.current(),
      sizes: typeof this.o.sizes === 'function' ? this.o.sizes(group) : (this.o.sizes ?? 'exact'),
      downloadSizesUpTo: this.o.downloadSizesUpTo ?? DEFAULT_DOWNLOAD_SIZES_UP_TO,
      messageIdOf: (uid) => uidmap.lookup(uid)?.messageId,
    });
    this.readers.set(view, reader);
    this.live.set(group, view);
    return view;
  }

  /** Keeps `live` in least-recently-opened order (Map insertion order). */
  private touchIdle(group: string, view: MailboxView): void {
    this.live.delete(group);
    this.live.set(group, view);
  }

  /** Forgets the least recently opened idle views beyond IDLE_VIEWS_KEPT. */
  private trimIdle(): void {
    let idle = 0;
    for (const v of this.live.values()) if (v.refs === 0) idle++;
    for (const [group, v] of this.live) {
      if (idle <= IDLE_VIEWS_KEPT) break;
      if (v.refs > 0) continue;
      this.live.delete(group);
      this.views.delete(group);
      this.readers.delete(v);
      v.save().catch(() => undefined); // logged by the store
      idle--;
    }
  }

  private async groupList(): Promise<GroupList> {
    this.assertOpen();
    const l = this.list;
    if (l !== null && Date.now() - l.at < GROUP_LIST_TTL_MS) return l;
    this.listing ??= this.o.source
      .listGroups()
      .then((infos) => {
        const groups = new Map<string, GroupInfo>();
        for (const g of infos) groups.set(g.name, g);
        this.list = { at: Date.now(), groups };
        return this.list;
      })
      .finally(() => {
        this.listing = null;
      });
    try {
      return await this.listing;
    } catch (err) {
      if (l !== null) {
        this.log.warn({ err: (err as Error).message }, 'backend: group list refresh failed; using the old list');
        return l;
      }
      throw toBackendError(err, 'group list');
    }
  }

  private async inboxUidValidity(): Promise<number> {
    this.inboxValidity ??= (await this.o.uidmaps.open(INBOX)).uidValidity;
    return this.inboxValidity;
  }

  /**
   * The group a mailbox name stands for. Names that cannot be a newsgroup
   * (white space, controls: RFC 3977 §4.1) are refused here, before they
   * could reach an upstream command line.
   */
  private groupOf(name: string): string {
    const g = groupOfMailbox(name, this.prefix);
    if (g === undefined || g === '' || NOT_IN_GROUP_NAME.test(g) || Buffer.byteLength(g) > MAX_GROUP_NAME_BYTES) {
      throw new BackendError('NONEXISTENT', `${JSON.stringify(name)}: no such mailbox`);
    }
    return g;
  }

  private mailboxName(group: string): string {
    return mailboxOfGroup(group, this.prefix);
  }

  private assertOpen(): void {
    if (this.closed) throw new BackendError('UNAVAILABLE', 'backend is closed');
  }
}

/**
 * Builds the backend: creates the cache directory, indexes cached articles and
 * opens the metadata LMDB. Throws if the cache directory cannot be created.
 */
export async function createBackend(o: BackendOptions): Promise<ClosableBackend & { readonly cache: ArticleCache }> {
  const log = o.logger.child({ component: 'backend' });
  const opts = { ...o, logger: log };
  const cache = new ArticleCache({
    dir: join(o.cacheDir, 'articles'),
    maxBytes: o.cacheMaxBytes,
    logger: log,
    onFetched: (key, r) => {
      meta.putExactSize(key, r.size);
      if (r.structure !== null) meta.putStructure(key, r.structure);
    },
  });
  const meta = new MetaStore({ path: join(o.cacheDir, 'meta.lmdb'), logger: log, memoryBytes: o.metaMemoryBytes ?? DEFAULT_META_MEMORY_BYTES });
  await cache.init();
  return new NewsBackend(opts, meta, cache);
}
