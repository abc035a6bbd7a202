import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NntpSource } from '../src/export/nntp-source.js';
import { createBackend } from '../src/export/backend/index.js';
import { LmdbUidMapStore } from '../src/uidmap/lmdb.js';
import { SearchIndex, MessageKeys, threadMessages } from '../src/search/index.js';
import { buildRecords } from '../src/export/backend/sort-records.js';
import { silentLogger } from '../src/util/log.js';
const dir = await mkdtemp(join(tmpdir(), 'nf-first-'));
const logger = silentLogger();
const source = new NntpSource({ upstream: { url: 'nntp://127.0.0.1:37879', poolSize: 4, pipelineWindow: 1000, starttls: false }, logger });
const uidmaps = await LmdbUidMapStore.open({ path: join(dir, 'uidmap.lmdb'), logger });
const index = await SearchIndex.open(join(dir, 'search.db'));
const backend = await createBackend({ source, uidmaps, cacheDir: join(dir, 'cache'), cacheMaxBytes: 1 << 30, pollIntervalMs: 0, logger, sizes: 'download', index,
  indexOptions: { crawl: false, crawlConcurrency: 16, crawlBatch: 200, crawlQuietMs: 0, maxArticleBytes: 8 << 20, keysMemoryBytes: 1 << 30 } });
let t = performance.now();
const h = await backend.open('bench.big');
console.log('open', (performance.now() - t).toFixed(0));
t = performance.now();
await backend.indexing!.inReplyTo('bench.big');
console.log('irt wait', (performance.now() - t).toFixed(0));
for (let r = 0; r < 3; r++) {
  t = performance.now();
  const cols = index.sortColumns('bench.big', h.current().uidValidity, ['state', 'date', 'subject', 'messageId', 'references', 'inReplyTo']);
  const t1 = performance.now();
  const reader = (backend as any).readers.values().next().value;
  const built = await buildRecords({ group: 'bench.big', index, reader }, (h as any).view.current(), 0, new Set(['subject', 'thread']));
  const t2 = performance.now();
  const keys = new MessageKeys(built.records);
  threadMessages(keys, 'REFERENCES');
  const t3 = performance.now();
  console.log(`sortColumns ${(t1 - t).toFixed(0)} buildRecords ${(t2 - t1).toFixed(0)} (incl. columns) thread ${(t3 - t2).toFixed(0)} ms; ${cols.uids.length}`);
}
h.release();
await backend.close(); await index.close(); await uidmaps.close(); await source.close(); await rm(dir, { recursive: true, force: true });
