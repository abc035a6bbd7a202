/**
 * A FixtureBackend whose mailbox handles offer `search` (MailboxSearch) over the
 * real index engine (src/search, inline writer, a temp file) and the real
 * SORT/THREAD algorithms, for IMAP-layer tests of SEARCH/SORT/THREAD. Named a
 * fixture: the export layer's own MailboxSearch is tested over INN.
 *
 * `bodiesLeftOut` UIDs get headers but no body in the index, so the IMAP layer
 * must scan them (the `unknown` path).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  Backend, IndexTerm, MailboxEntry, MailboxHandle, MailboxSearch, SortCriterion, StatusData, ThreadAlgorithm, ThreadNode,
} from '../../src/export/interface.js';
import { MessageKeys, SearchIndex, sortOrder, threadMessages, type MessageRecord, type SearchTerm } from '../../src/search/index.js';
import { findField, headerEnd, parseHeader } from '../../src/mime/index.js';
import { parseDate } from '../../src/export/backend/dates.js';
import type { FixtureBackend } from './fixture-backend.js';

/** The fixture's INTERNALDATE (see fixture-backend.ts meta). */
const ARRIVAL = Date.UTC(2024, 0, 1);

function recordOf(uid: number, article: Buffer): MessageRecord {
  const end = headerEnd(article);
  const fields = parseHeader(end < 0 ? article : article.subarray(0, end));
  const v = (name: string): string => findField(fields, name)?.value.toString('utf8') ?? '';
  return {
    uid, date: parseDate(v('date')), arrival: ARRIVAL, size: article.length,
    subject: v('subject'), from: v('from'), to: v('to'), cc: v('cc'),
    messageId: v('message-id'), references: v('references'), inReplyTo: v('in-reply-to'),
  };
}

export class IndexedFixture implements Backend {
  private constructor(
    readonly inner: FixtureBackend,
    private readonly index: SearchIndex,
    private readonly dir: string,
  ) {}

  /** Indexes every article of `inner` (bodies too, except `bodiesLeftOut`). */
  static async create(inner: FixtureBackend, bodiesLeftOut: ReadonlySet<number> = new Set()): Promise<IndexedFixture> {
    const dir = mkdtempSync(join(tmpdir(), 'nf-fixture-index-'));
    const index = await SearchIndex.open(join(dir, 'search.db'), { writer: 'inline' });
    for (const [mailbox, box] of inner.boxes) {
      const uids = [...box.articles.keys()].sort((a, b) => a - b);
      await index.addHeaders(uids.map((uid) => {
        const a = box.articles.get(uid)!;
        const end = headerEnd(a);
        return { mailbox, uidValidity: box.uidValidity, uid, header: end < 0 ? a : a.subarray(0, end), internalDate: ARRIVAL, size: a.length };
      }));
      await index.addBodies(uids.filter((u) => !bodiesLeftOut.has(u)).map((uid) => ({ mailbox, uidValidity: box.uidValidity, uid, article: box.articles.get(uid)! })));
    }
    return new IndexedFixture(inner, index, dir);
  }

  async close(): Promise<void> {
    await this.index.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  mailboxes(): Promise<MailboxEntry[]> {
    return this.inner.mailboxes();
  }

  status(name: string): Promise<StatusData> {
    return this.inner.status(name);
  }

  async open(name: string): Promise<MailboxHandle> {
    const handle = await this.inner.open(name);
    const box = this.inner.boxes.get(name);
    if (!box) return handle;
    const index = this.index;
    const keysOf = (): { keys: MessageKeys; at: Map<number, number> } => {
      const uids = [...box.articles.keys()].sort((a, b) => a - b);
      const keys = new MessageKeys(uids.map((u) => recordOf(u, box.articles.get(u)!)));
      return { keys, at: new Map(uids.map((u, i) => [u, i])) };
    };
    const search: MailboxSearch = {
      async match(terms: readonly IndexTerm[], within?: Uint32Array) {
        const mapped: SearchTerm[] = terms.map((t) => ({ field: t.field === 'bcc' ? { header: 'bcc' } : t.field, needle: t.needle }));
        const m = index.match(name, box.uidValidity, mapped);
        const known = new Set(index.indexedUids(name, box.uidValidity));
        const unindexed = new Set(m.unindexed);
        const scope = within ?? handle.current().uids;
        const hits = new Set(m.uids);
        return {
          uids: Uint32Array.from([...scope].filter((u) => hits.has(u) && !unindexed.has(u))),
          unknown: Uint32Array.from([...scope].filter((u) => unindexed.has(u) || !known.has(u))),
        };
      },
      async sort(criteria: readonly SortCriterion[], uids: Uint32Array) {
        const { keys, at } = keysOf();
        const order = sortOrder(keys, criteria, Array.from(uids, (u) => at.get(u)!));
        return Uint32Array.from(order, (i) => keys.uid(i));
      },
      async thread(algorithm: ThreadAlgorithm, uids: Uint32Array): Promise<readonly ThreadNode[]> {
        const { keys, at } = keysOf();
        return threadMessages(keys, algorithm, Array.from(uids, (u) => at.get(u)!));
      },
      progress() {
        const c = index.coverage(name, box.uidValidity);
        return { total: box.articles.size, headers: c.members, bodies: c.bodies };
      },
    };
    return Object.assign(Object.create(null) as object, handle, { search }) as MailboxHandle;
  }
}
