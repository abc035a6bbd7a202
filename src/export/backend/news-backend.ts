/**
 * The export backend: newsgroups of a `Source` as read-only IMAP mailboxes
 * (`Backend`, src/export/interface.ts), with one shared view per group, caches
 * for headers, structures and article bytes, and polling for new and expired
 * articles.
 *
 * Ownership: the caller owns `source`, `uidmaps` and `index` and closes them
 * after `close()`; the backend owns its metadata LMDB and the cache
 * directory's contents. `close()` stops polling and the index crawler, writes
 * what is queued for the index and closes the metadata store; handles must
 * not be used afterwards.
 *
 * With a search index (backend-index.ts) every group's overview goes into it
 * as it is read, headers and articles read for clients follow, a crawler
 * fetches the remaining bodies (policy `all`), and handles get `search`.
 *
 * Errors (all `BackendError`): unknown mailbox or non-group parent ⇒
 * NONEXISTENT; upstream unreachable ⇒ UNAVAILABLE with `cause`. Errors while
 * polling are logged, never thrown to sessions.
 */
import { join } from 'node:path';
import type { Logger } from '../../util/log.js';
import type { MailboxUidMap } from '../../uidmap/index.js';
import { BackendError, type Backend, type MailboxEntry, type MailboxHandle, type MailboxSearch, type StatusData, type CrosspostTarget } from '../interface.js';
import type { GroupInfo } from '../source.js';
import { ArticleCache } from './article-cache.js';
import { toBackendError } from './errors.js';
import { InboxHandle, ViewHandle } from './handle.js';
import { MAX_GROUP_NAME_BYTES, DEFAULT_DOWNLOAD_SIZES_UP_TO, DEFAULT_FULL_CHECK_MS, DEFAULT_META_MEMORY_BYTES, GROUP_LIST_TTL_MS, IDLE_VIEWS_KEPT, STORE_WRITE_QUIET_MS } from './limits.js';
import { MetaStore, articleKey, viewKey } from './meta-store.js';
import type { SavedView } from './table-codec.js';
import { carriersOf, type Carriers } from './carrier.js';
import { INBOX, groupOfMailbox, isInbox, mailboxOfGroup, mailboxTree, normalizePrefix } from './names.js';
import { GroupReader } from './reader.js';
import { MailboxView } from './view.js';
import { crosspostsOf } from './crossposts.js';
import { BackendIndex } from './backend-index.js';
import type { BackendOptions } from './backend-options.js';
import type { CrawlStats } from './crawler.js';
import { cachedText, type CachedTextDeps } from './cached-text.js';
import type { Fetched } from './fetch.js';

export type { BackendOptions } from './backend-options.js';

// eslint-disable-next-line no-control-regex
const NOT_IN_GROUP_NAME = /[\x00-\x20\x7f]/;

export type ClosableBackend = Backend & { close(): Promise<void> };
type StructureListener = Parameters<NonNullable<Backend['onStructure']>>[0];

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
  private readonly searches = new Map<MailboxView, MailboxSearch>();
  private list: GroupList | null = null;
  private listing: Promise<GroupList> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private inboxValidity: number | null = null;
  private closed = false;
  private readonly carriers: Carriers;
  private readonly structureListeners = new Set<StructureListener>();

  /** The search index's part of the backend (absent without an index). */
  readonly indexing: BackendIndex | undefined;

  constructor(
    private readonly o: BackendOptions,
    private readonly meta: MetaStore,
    readonly cache: ArticleCache,
  ) {
    this.prefix = normalizePrefix(o.namespacePrefix);
    this.carriers = carriersOf(o.source, o.primaryOf);
    this.log = o.logger.child({ component: 'backend' });
    if (o.index !== undefined && o.indexOptions !== undefined) {
      const notCached = (): Promise<never> => Promise.reject(new Error('not cached'));
      const textDeps: CachedTextDeps = {
        has: (k) => cache.has(k),
        open: (k, start, end) => cache.open(k, notCached, start, end),
        structure: (k) => meta.structure(k),
        putStructure: (k, part) => meta.putStructure(k, part),
      };
      const maxText = o.indexOptions.maxArticleBytes;
      this.indexing = new BackendIndex(o.index, o.indexOptions, meta, o.logger.child({ component: 'index' }), {
        cachedText: (key) => cachedText(textDeps, key, maxText),
        structure: (group, uv, uid, part) => {
          if (this.structureListeners.size === 0) return;
          const mailbox = mailboxOfGroup(group, this.prefix);
          for (const fn of this.structureListeners) fn(mailbox, uv, uid, part);
        },
      });
      // groups whose crawl was cut short (a restart): their views open, so the crawl resumes
      const indexing = this.indexing;
      setImmediate(() => void indexing.resume((g) => this.view(g), () => this.closed));
    }
    if (o.pollIntervalMs > 0) {
      this.timer = setInterval(() => this.poll(), o.pollIntervalMs);
      this.timer.unref();
    }
  }

  /** See Backend.onStructure: structures the index crawler parsed. */
  onStructure(fn: StructureListener): () => void {
    this.structureListeners.add(fn);
    return () => void this.structureListeners.delete(fn);
  }

  /** An article downloaded into the cache (ArticleCache `onFetched`): for the index. */
  fetched(key: string, r: Fetched): void {
    this.indexing?.fetched(key, r, (g) => this.live.get(g), (k) => this.cache.open(k, () => Promise.reject(new Error('not cached'))));
  }

  /** Indexes a group (by group name) now, headers and every body (`newsfront index`); throws as `open` does, and the index's errors. */
  async buildIndex(groupName: string): Promise<CrawlStats> {
    if (this.indexing === undefined) throw new BackendError('UNAVAILABLE', 'no search index');
    const group = this.groupOf(this.mailboxName(groupName));
    const view = await this.view(group);
    const uidmap = await this.o.uidmaps.open(group);
    await this.indexing.flush();
    return this.indexing.buildIndex(group, view, uidmap);
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
    const search = this.searches.get(view);
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
      search,
    );
  }

  /** See MailboxHandle.crossposts (crossposts.ts). */
  private crosspostsOf(group: string, uids: readonly number[]): Promise<CrosspostTarget[]> {
    return crosspostsOf({ uidmaps: this.o.uidmaps, meta: this.meta, mailboxName: (g) => this.mailboxName(g) }, group, uids);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    await this.indexing?.close();
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
    let hooks: ReturnType<BackendIndex['viewHooks']> | undefined;
    try {
      const vkey = viewKey(group);
      const saved = this.meta.loadView(vkey);
      // Unless the group was seen before, GROUP first: a name that is no group
      // must not create a UID map entry.
      if (saved === undefined) await this.o.source.groupInfo(group);
      uidmap = await this.o.uidmaps.open(group);
      hooks = this.indexing?.viewHooks(group, uidmap);
      view = await MailboxView.create({
        carriers: this.carriers,
        uidmap,
        group,
        logger: log,
        fullCheckMs: this.o.fullCheckMs ?? DEFAULT_FULL_CHECK_MS,
        saved,
        save: (v: SavedView) => this.meta.saveView(vkey, v),
        onCrosspost: (messageId, groups) => this.meta.putCrossposts(messageId, groups),
        onExpired: (c, numbers, uids) => {
          for (const n of numbers) this.meta.forget(articleKey(c.id, group, n));
          hooks?.expired(uids);
        },
        index: hooks?.index,
        indexWants: hooks?.indexWants,
      });
    } catch (err) {
      hooks?.opened();
      throw toBackendError(err, this.mailboxName(group));
    }
    // The index starts on the turn after the opener's answer (viewHooks).
    const opened = hooks?.opened;
    if (opened !== undefined) setImmediate(opened);
    const reader = new GroupReader({
      group,
      meta: this.meta,
      cache: this.cache,
      view: () => view.current(),
      sizes: typeof this.o.sizes === 'function' ? this.o.sizes(group) : (this.o.sizes ?? 'exact'),
      downloadSizesUpTo: this.o.downloadSizesUpTo ?? DEFAULT_DOWNLOAD_SIZES_UP_TO,
      messageIdOf: (uid) => uidmap.lookup(uid)?.messageId,
      ...this.indexing?.readerHooks(group, uidmap),
    });
    this.readers.set(view, reader);
    if (this.indexing !== undefined) {
      try {
        this.searches.set(view, this.indexing.attach(group, view, reader, uidmap));
      } catch (err) {
        this.log.warn({ group, err: (err as Error).message }, 'index: not used for this group');
      }
    }
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
      this.searches.delete(v);
      this.indexing?.detach(v);
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
/** What createBackend returns: the backend, its article cache, and its search index part (absent without an index). */
export interface NewsBackendHandle extends ClosableBackend {
  readonly cache: ArticleCache;
  readonly indexing: BackendIndex | undefined;
  buildIndex(name: string): Promise<CrawlStats>;
  onStructure(fn: StructureListener): () => void;
}

export async function createBackend(o: BackendOptions): Promise<NewsBackendHandle> {
  const log = o.logger.child({ component: 'backend' }); // the cache's and meta store's lines
  let backend: NewsBackend | undefined;
  const cache = new ArticleCache({
    dir: join(o.cacheDir, 'articles'),
    maxBytes: o.cacheMaxBytes,
    logger: log,
    // the small store writes while clients are quiet (what the index's activity knows of them)
    untilQuiet: () => backend?.indexing?.activity.untilQuiet(STORE_WRITE_QUIET_MS) ?? 0,
    onFetched: (key, r) => {
      // the download's header is the record's header: stored with the size in one record (a reader
      // of the same download then finds it in memory and writes nothing again; no record read)
      if (r.header !== null && meta.headerInMemory(key) === undefined) meta.putHeader(key, r.header, r.size);
      else meta.putExactSize(key, r.size);
      if (r.structure !== null) meta.putStructure(key, r.structure);
      backend?.fetched(key, r); // a whole article is in the cache now: the search index takes it
    },
  });
  const meta = new MetaStore({ path: join(o.cacheDir, 'meta.lmdb'), logger: log, memoryBytes: o.metaMemoryBytes ?? DEFAULT_META_MEMORY_BYTES });
  await cache.init();
  backend = new NewsBackend(o, meta, cache);
  return backend;
}
