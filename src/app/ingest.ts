/**
 * Opening the export eagerly: sources, UID map, and every group ingested into
 * it (`openExport`), plus the source list the server starts from
 * (`buildSources`, used by src/app/start.ts).
 *
 * Sources: one `NntpSource` per configured upstream (config order), then the
 * archive if `archive` is set. With neither, the embedded sample archive is
 * served: `sample/` of the installed package, or — if that is missing — the
 * same archive generated into `<data>/sample`.
 *
 * Ingest: for each group, overview records are read from its serving source
 * in ascending order and handed to the UID map in batches (`INGEST_BATCH` of
 * the export backend), article number + Message-ID only. `refresh()` ingests
 * what is new since the last pass, and (for all groups) picks up groups that
 * appeared. The Message-ID stored is the export's `uidMapMessageId`
 * (src/export/message-id.ts), the rule the backend's ingest uses too, so both
 * give an article the same UID.
 *
 * With the search index enabled (config `index`), each batch's overview
 * records go into `<data>/search.db` too (awaited per batch), so SEARCH on
 * Subject/From and SORT/THREAD have them before a client opens the group.
 *
 * Used by `newsfront ingest` (fill the UID map ahead of time) and tests; the
 * running server ingests lazily through the export backend (src/app/start.ts).
 *
 * Ownership: `close()` closes the sources, the search index and the UID map
 * store (unless the store was passed in by the caller, who then closes it).
 * Errors opening the UID map propagate; a group that fails to ingest is
 * logged and left with what was stored before.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../util/log.js';
import type { FrozenConfig } from './config/schema.js';
import { ArchiveSource } from '../export/archive/archive-source.js';
import { NntpSource, type NntpSourceOptions } from '../export/nntp-source.js';
import { redactNntpUrl } from '../nntp/index.js';
import { writeSampleArchive } from '../export/sample/generate.js';
import { MultiSource } from '../export/sources.js';
import { overviewBatchesOf, type GroupInfo, type OverviewRecord, type Source } from '../export/source.js';
import { parseDate } from '../export/backend/dates.js';
import type { SearchIndex } from '../search/index.js';
import { openSearchIndex } from './search-index.js';
import { INGEST_BATCH } from '../export/backend/limits.js';
import { uidMapMessageId } from '../export/message-id.js';
import type { MailboxUidMap, SeenArticle, UidMapStore } from '../uidmap/index.js';
import { openUidMapStore } from './uidmaps.js';

/** Groups ingested at once: overlaps upstream round trips without flooding a small upstream pool. */
export const INGEST_CONCURRENCY = 4;

export interface ExportedGroup {
  readonly name: string;
  /** Counts as last reported by the serving source. */
  info: GroupInfo;
  /** Id of the group's primary source. */
  readonly primary: string;
  readonly uidMap: MailboxUidMap;
  /** Per source id: highest article number already ingested. */
  readonly ingested: Map<string, number>;
}

export interface ExportContext {
  readonly config: FrozenConfig;
  readonly sources: MultiSource;
  readonly uidmaps: UidMapStore;
  readonly groups: ReadonlyMap<string, ExportedGroup>;
  /** The search index fed with the overview, when enabled. */
  readonly index: SearchIndex | undefined;
  /** Ingest articles that are new since the last pass (all groups, or one). Never throws for one group's failure. */
  refresh(group?: string): Promise<void>;
  close(): Promise<void>;
}

export interface OpenExportOptions {
  /** Use this UID map store instead of the configured one (`uidmap`; tests). The caller closes it. */
  uidmaps?: UidMapStore;
}

/** The `sample/` directory shipped with the package, if present. */
export function packagedSampleDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const cand = join(dir, 'sample');
    if (existsSync(join(cand, 'sample.announce.mbox'))) return cand;
    dir = dirname(dir);
  }
  return undefined;
}

/** Optional observers of the sources built (metrics, src/app/metrics.ts). */
export interface SourceHooks {
  /** For upstream `id` (its redacted URL): the callback told how each of its requests ended. */
  upstreamRequest?: (id: string) => NntpSourceOptions['onRequest'];
}

export async function buildSources(config: FrozenConfig, logger: Logger, hooks: SourceHooks = {}): Promise<Source[]> {
  const out: Source[] = config.upstreams.map((u) => new NntpSource({ upstream: u, logger, onRequest: hooks.upstreamRequest?.(redactNntpUrl(u.url)) }));
  let archive = config.archive;
  if (archive === null && out.length === 0) {
    archive = packagedSampleDir() ?? null;
    if (archive === null) {
      archive = resolve(config.data, 'sample');
      if (!existsSync(join(archive, 'sample.announce.mbox'))) await writeSampleArchive(archive);
    }
    logger.info({ archive }, 'no upstream or archive configured: serving the sample archive');
  }
  if (archive !== null) out.push(new ArchiveSource({ dir: archive, logger }));
  return out;
}

export async function openExport(config: FrozenConfig, logger: Logger, opts: OpenExportOptions = {}): Promise<ExportContext> {
  const log = logger.child({ component: 'export' });
  const sources = new MultiSource(await buildSources(config, logger), {
    logger,
    onFailover: (group, from, to) => log.warn({ group, from, to }, 'group now served by another source'),
  });
  let uidmaps: UidMapStore;
  try {
    uidmaps = opts.uidmaps ?? (await openUidMapStore(config, logger));
  } catch (err) {
    await sources.close();
    throw err;
  }
  const groups = new Map<string, ExportedGroup>();
  const index = await openSearchIndex(config, log);

  /** One batch's overview into the index (the server's backend does the same, index-feed.ts); failures are logged. */
  const indexBatch = async (g: ExportedGroup, uids: number[], batch: SeenArticle[], records: OverviewRecord[]): Promise<void> => {
    if (index === undefined) return;
    const rows = records.map((r, i) => {
      const date = parseDate(r.date);
      const overview = { subject: r.subject, from: r.from, date: r.date, messageId: r.messageId, references: r.references };
      const at = { mailbox: g.name, uidValidity: g.uidMap.uidValidity, uid: uids[i]!, key: batch[i]!.messageId };
      return { ...at, overview, internalDate: Number.isFinite(date) ? date : 0, size: Math.max(r.bytes, 0) };
    });
    await index.addOverview(rows).catch((err: unknown) => log.warn({ group: g.name, err: (err as Error).message }, 'search index write failed'));
  };

  const ingest = async (g: ExportedGroup): Promise<void> => {
    let added = 0;
    let synthetic = 0;
    const firstPass = g.ingested.size === 0;
    await sources.withFailover(g.name, async (src, primary) => {
      const info = await src.groupInfo(g.name);
      g.info = info;
      const from = Math.max(info.low, (g.ingested.get(src.id) ?? 0) + 1);
      let batch: SeenArticle[] = [];
      let records: OverviewRecord[] = [];
      const flush = async (): Promise<void> => {
        if (batch.length === 0) return;
        const uids = await g.uidMap.assign(batch, primary);
        await indexBatch(g, uids, batch, records);
        added += batch.length;
        batch = [];
        records = [];
      };
      for await (const rs of overviewBatchesOf(src, g.name, from, info.high)) {
        for (const r of rs) {
          const messageId = uidMapMessageId(g.name, r);
          if (messageId !== r.messageId) synthetic++;
          batch.push({ upstream: src.id, group: g.name, number: r.number, messageId });
          if (index !== undefined) records.push(r);
        }
        if (batch.length >= INGEST_BATCH) await flush();
      }
      await flush();
      g.ingested.set(src.id, Math.max(info.high, g.ingested.get(src.id) ?? 0));
    });
    const uids = g.uidMap.uids()[Symbol.iterator]().next();
    log[firstPass || added > 0 ? 'info' : 'debug'](
      {
        group: g.name, primary: g.primary, serving: sources.servingOf(g.name), uidValidity: g.uidMap.uidValidity,
        uidFirst: uids.done === true ? null : uids.value, uidLast: g.uidMap.uidNext() - 1, count: g.uidMap.count(),
        seen: added, ...(synthetic > 0 ? { syntheticMessageIds: synthetic } : {}),
      },
      'group exported',
    );
  };

  /** List groups again and open maps of new ones. Throws what `listGroups` throws. */
  const discover = async (): Promise<void> => {
    const listed = await sources.listGroups();
    for (const info of listed.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (groups.has(info.name)) continue;
      const primary = sources.primaryOf(info.name)!;
      groups.set(info.name, { name: info.name, info, primary, uidMap: await uidmaps.open(info.name), ingested: new Map() });
    }
  };

  const ingestAll = (list: ExportedGroup[]): Promise<void> =>
    forEachLimit(list, INGEST_CONCURRENCY, async (g) => {
      try {
        await ingest(g);
      } catch (err) {
        log.warn({ group: g.name, err: (err as Error).message, code: (err as { code?: string }).code }, 'group ingest failed');
      }
    });

  const refresh = async (only?: string): Promise<void> => {
    if (only !== undefined) {
      const g = groups.get(only);
      if (g !== undefined) await ingestAll([g]);
      return;
    }
    try {
      await discover();
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'listing groups failed; refreshing the known ones');
    }
    await ingestAll([...groups.values()]);
  };

  try {
    await discover(); // fail fast at start: a wrong archive path or unreachable upstreams are reported
    await ingestAll([...groups.values()]);
  } catch (err) {
    await sources.close();
    await index?.close();
    if (opts.uidmaps === undefined) await uidmaps.close();
    throw err;
  }

  let closed = false;
  return {
    config,
    sources,
    uidmaps,
    groups,
    index,
    refresh,
    async close() {
      if (closed) return;
      closed = true;
      await sources.close();
      await index?.close();
      if (opts.uidmaps === undefined) await uidmaps.close();
    },
  };
}

async function forEachLimit<T>(items: readonly T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
