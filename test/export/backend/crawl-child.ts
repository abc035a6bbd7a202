/**
 * Child process of the crawler restart test (search.inn.test.ts): a backend
 * with a search index over one INN group, crawling it slowly (each article
 * read delayed), printing `total <n>` once and `bodies <n>` as batches
 * commit, until the parent kills it with SIGKILL.
 *   node --import tsx test/export/backend/crawl-child.ts <nntp url> <data dir> <group> <delay ms>
 */
import { join } from 'node:path';
import { NntpSource } from '../../../src/export/nntp-source.js';
import { createBackend } from '../../../src/export/backend/index.js';
import { LmdbUidMapStore } from '../../../src/uidmap/lmdb.js';
import { SearchIndex } from '../../../src/search/index.js';
import { silentLogger } from '../../../src/util/log.js';
import type { ArticleSink } from '../../../src/export/source.js';

const [url, data, group, delay] = process.argv.slice(2) as [string, string, string, string];
const logger = silentLogger();
const source = new NntpSource({ upstream: { url, poolSize: 1, pipelineWindow: 10, starttls: false }, logger });
const into = source.articleInto.bind(source);
source.articleInto = async (g: string, n: number, id: string | undefined, sink: ArticleSink, bulk?: boolean) => {
  await new Promise((r) => setTimeout(r, Number(delay)));
  return into(g, n, id, sink, bulk);
};
const uidmaps = await LmdbUidMapStore.open({ path: join(data, 'uidmap.lmdb'), logger });
const index = await SearchIndex.open(join(data, 'search.db'));
const backend = await createBackend({
  source, uidmaps, cacheDir: join(data, 'cache'), cacheMaxBytes: 64 << 20, pollIntervalMs: 0, logger, sizes: 'download', index,
  indexOptions: { crawl: true, crawlConcurrency: 2, crawlBatch: 4, crawlQuietMs: 0, maxArticleBytes: 8 << 20, keysMemoryBytes: 1 << 20 },
});
const h = await backend.open(group);
process.stdout.write(`total ${h.current().uids.length}\n`);
setInterval(() => process.stdout.write(`bodies ${index.coverage(group, h.current().uidValidity).bodies}\n`), 10);
