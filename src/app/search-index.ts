/**
 * The search index of a data directory (`<data>/search.db`, config `index`):
 * opened once per process by `serve` (start.ts), `ingest` (ingest.ts) and
 * `index` (cli.ts), and the backend's index settings from the config.
 *
 * The index is a cache: when it cannot be opened (a file of a newer
 * newsfront, a damaged file) the server runs without it (SEARCH scans) and
 * says so in the log; deleting the file rebuilds it.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Logger } from '../util/log.js';
import type { FrozenConfig } from './config/schema.js';
import { SearchIndex } from '../search/index.js';
import { bodyPolicy, type BodyPolicy, type BodyRules, type IndexOptions } from '../export/backend/index.js';

/** Where the index of a data directory lives. */
export function searchIndexPath(config: FrozenConfig): string {
  return resolve(config.data, 'search.db');
}

/**
 * Opens the configured index, or returns undefined when `index.enabled` is
 * false or the file cannot be used (logged at error: the server goes on
 * without it).
 */
export async function openSearchIndex(config: FrozenConfig, logger: Logger): Promise<SearchIndex | undefined> {
  if (!config.index.enabled) return undefined;
  const path = searchIndexPath(config);
  try {
    await mkdir(config.data, { recursive: true });
    const index = await SearchIndex.open(path);
    logger.info({ path }, 'search index open');
    return index;
  } catch (err) {
    logger.error({ path, err: (err as Error).message, code: (err as { code?: string }).code }, 'search index unusable: running without it (delete the file to rebuild it)');
    return undefined;
  }
}

/** The backend's index settings from the config; `bodies` overrides the configured policy (`newsfront index`). */
export function indexOptionsOf(config: FrozenConfig, over: { bodies?: (group: string) => BodyPolicy; crawl?: boolean } = {}): IndexOptions {
  const i = config.index;
  return {
    bodies: over.bodies ?? bodyPolicy(i.bodies as BodyRules),
    crawlConcurrency: i.crawlConcurrency,
    crawlBatch: i.crawlBatch,
    crawlQuietMs: i.crawlQuietMs,
    crawlDelayMs: i.crawlDelayMs,
    maxArticleBytes: i.maxArticleBytes,
    keysMemoryBytes: i.keysMemoryBytes,
    keysIdleMs: i.keysIdleMs,
    crawl: over.crawl ?? true,
  };
}
