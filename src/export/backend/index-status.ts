/**
 * The operator's view of the search index (`newsfront status`, the ops
 * listener's GET /status, the `newsfront_index_*` gauges): per group, the
 * articles with headers and with bodies indexed of the group's total, what
 * its background crawl is doing (rate, ETA), and the index's size on disk.
 *
 * Built from the index's summary (SearchIndex.summary / inspect) and, in a
 * running server, what the server knows live of each group (its current
 * UIDVALIDITY, article count and crawl). Without a server (`live` answering
 * nothing) `total` is null and `crawl` null: the file alone cannot tell them.
 */
import type { IndexSummary } from '../../search/index.js';
import type { CrawlProgress } from './crawl-progress.js';
import type { BodyPolicy } from './index-policy.js';

export type { CrawlProgress, CrawlState } from './crawl-progress.js';

export interface GroupIndexStatus {
  group: string;
  uidValidity: number;
  /** Articles in the group as this server lists it now; null when this process has not listed it. */
  total: number | null;
  /** Articles with headers indexed (from the overview at least). */
  headers: number;
  /** Articles with the body indexed (or marked scan-only: too big, gone upstream, not storable). */
  bodies: number;
  /** The group's `index.bodies` policy; null when not known (no configuration read). */
  policy: BodyPolicy | null;
  /** The background crawl in this process, with the seconds left at its rate (null: unknown); null when none runs. */
  crawl: (CrawlProgress & { etaS: number | null }) | null;
}

export interface IndexStatus {
  /** The index file. */
  path: string;
  /** Bytes on disk (database and write-ahead log). */
  bytes: number;
  /** Articles indexed (a crossposted article counts once). */
  documents: number;
  /** `bytes / documents` (0 when empty). */
  bytesPerArticle: number;
  groups: GroupIndexStatus[];
}

/** What a running server knows of a group now. */
export interface LiveGroup {
  uidValidity: number;
  total: number;
  crawl: CrawlProgress | undefined;
}

/**
 * The status from the index's summary. `live(group)`: the server's view of
 * the group, if it has one; older generations of such a group (an
 * UIDVALIDITY it no longer serves, dropped soon) are left out.
 */
export function indexStatus(summary: IndexSummary, live: (group: string) => LiveGroup | undefined, policy: (group: string) => BodyPolicy | null): IndexStatus {
  const groups: GroupIndexStatus[] = [];
  for (const m of summary.mailboxes) {
    const l = live(m.name);
    if (l !== undefined && l.uidValidity !== m.uidValidity) continue;
    const total = l?.total ?? null;
    // members of expired articles may linger until the crawler or a poll removes them
    const headers = total === null ? m.headers : Math.min(m.headers, total);
    const bodies = total === null ? m.bodies : Math.min(m.bodies, total);
    let crawl: GroupIndexStatus['crawl'] = null;
    if (l?.crawl !== undefined) {
      const left = (total ?? headers) - bodies;
      crawl = { ...l.crawl, etaS: left <= 0 ? 0 : l.crawl.rate > 0 ? Math.round(left / l.crawl.rate) : null };
    }
    groups.push({ group: m.name, uidValidity: m.uidValidity, total, headers, bodies, policy: policy(m.name), crawl });
  }
  const { path, bytes, documents } = summary;
  return { path, bytes, documents, bytesPerArticle: documents > 0 ? Math.round(bytes / documents) : 0, groups };
}
