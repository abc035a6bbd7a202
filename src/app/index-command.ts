/**
 * `newsfront index GROUP...`: build the search index of these groups now —
 * their overview, then every body (whatever `index.bodies` says) — printing
 * one line per group: articles, seconds, rate, index bytes per article. The
 * MIME structures the crawl parses are rendered into the render store as
 * `serve` renders them (start.ts), so a server's first BODYSTRUCTURE listing
 * of these groups renders nothing.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Logger } from '../util/log.js';
import type { FrozenConfig } from './config/schema.js';
import { backendOptions, checkArchive } from './start.js';
import { buildSources } from './ingest.js';
import { indexOptionsOf, openSearchIndex, searchIndexPath } from './search-index.js';
import { openUidMapStore } from './uidmaps.js';
import { MultiSource } from '../export/sources.js';
import { createBackend } from '../export/backend/index.js';
import { RenderCache } from '../imap/render/cache.js';
import { LmdbRenderStore } from './render-store.js';

/** Bytes of the search database with its write-ahead log. */
async function indexBytes(path: string): Promise<number> {
  let total = 0;
  for (const p of [path, `${path}-wal`]) total += await stat(p).then((st) => st.size, () => 0);
  return total;
}

/**
 * Indexes `groups` one after another; a group that fails is named on stderr
 * and the others are still indexed. Returns the exit code (0, or 1 when a
 * group failed); throws when the index, sources or UID map cannot be opened.
 * Closes everything it opened.
 */
export async function indexNow(config: FrozenConfig, groups: readonly string[], logger: Logger): Promise<number> {
  let code = 0;
  const closers: Array<() => Promise<void>> = [];
  try {
    await checkArchive(config);
    const index = await openSearchIndex(config, logger);
    if (index === undefined) throw new Error(`search index ${config.index.enabled ? 'unusable' : 'disabled (index.enabled)'}: ${searchIndexPath(config)}`);
    closers.push(() => index.close());
    const sources = new MultiSource(await buildSources(config, logger), { logger });
    closers.push(() => sources.close());
    const uidmaps = await openUidMapStore(config, logger);
    closers.push(() => uidmaps.close());
    const renderStore = new LmdbRenderStore(config.cache.dir ?? resolve(config.data, 'cache'), logger.child({ component: 'render' }), config.cache.renderStoreBytes);
    const renderCache = new RenderCache({ structureBytes: config.cache.structureMemoryBytes }, renderStore);
    closers.push(async () => {
      renderCache.flush();
      await renderStore.close();
    });
    const opts = backendOptions(config, sources, uidmaps, logger, index, indexOptionsOf(config, { bodies: () => 'all', crawl: false }));
    const backend = await createBackend({ ...opts, pollIntervalMs: 0 });
    closers.push(() => backend.close());
    const unhook = backend.onStructure((mailbox, uv, uid, part) => renderCache.structureAhead(mailbox, uv, uid, part));
    closers.push(async () => unhook());
    const path = searchIndexPath(config);
    for (const g of groups) {
      try {
        const before = await indexBytes(path);
        const started = Date.now();
        const r = await backend.buildIndex(g);
        const s = (Date.now() - started) / 1000;
        const grown = (await indexBytes(path)) - before;
        const per = r.articles > 0 ? Math.round(grown / r.articles) : 0;
        process.stdout.write(
          `${g}: ${r.articles} articles (${(r.bytes / 1e6).toFixed(1)} MB) indexed in ${s.toFixed(1)} s, ` +
            `${Math.round(r.articles / Math.max(s, 0.001))} articles/s, ${per} B of index per article\n`,
        );
      } catch (err) {
        process.stderr.write(`newsfront index: ${g}: ${(err as Error).message}\n`);
        code = 1;
      }
    }
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  }
  return code;
}
