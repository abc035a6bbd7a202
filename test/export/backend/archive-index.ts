/**
 * Shared set-up for backend tests over a mbox archive with a search index:
 * a temp dir with `archive/<group>.mbox` per group (each article written as
 * mboxrd), a memory UID map store and `search.db`; `close()` closes both and
 * removes the dir. `backend()` adds an ArchiveSource and a backend over them
 * (closed by `close()` too, first).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveSource } from '../../../src/export/archive/archive-source.js';
import { formatMboxrdMessage } from '../../../src/export/archive/mboxrd-writer.js';
import { createBackend, type BackendOptions, type NewsBackendHandle } from '../../../src/export/backend/index.js';
import { MemoryUidMapStore } from '../../../src/uidmap/memory.js';
import { SearchIndex } from '../../../src/search/index.js';
import { silentLogger } from '../../../src/util/log.js';

export interface ArchiveIndex {
  dir: string;
  /** The directory of the mbox files (an ArchiveSource's `dir`). */
  archive: string;
  uidmaps: MemoryUidMapStore;
  index: SearchIndex;
  /** A backend over a new ArchiveSource of the archive, with the index (options merged over the defaults here). */
  backend(indexOptions: NonNullable<BackendOptions['indexOptions']>): Promise<{ backend: NewsBackendHandle; source: ArchiveSource }>;
  close(): Promise<void>;
}

export async function archiveWithIndex(prefix: string, groups: Readonly<Record<string, readonly Buffer[]>>): Promise<ArchiveIndex> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const archive = join(dir, 'archive');
  await mkdir(archive);
  const d = new Date(Date.UTC(2024, 0, 1));
  for (const [g, arts] of Object.entries(groups)) await writeFile(join(archive, `${g}.mbox`), Buffer.concat(arts.map((a) => formatMboxrdMessage(a, 'x@y', d))));
  const uidmaps = new MemoryUidMapStore();
  const index = await SearchIndex.open(join(dir, 'search.db'));
  const opened: { backend: NewsBackendHandle; source: ArchiveSource }[] = [];
  return {
    dir, archive, uidmaps, index,
    async backend(indexOptions) {
      const source = new ArchiveSource({ dir: archive, logger: silentLogger() });
      const backend = await createBackend({ source, uidmaps, cacheDir: join(dir, 'cache'), cacheMaxBytes: 64 << 20, pollIntervalMs: 0, logger: silentLogger(), index, indexOptions });
      opened.push({ backend, source });
      return { backend, source };
    },
    async close() {
      for (const o of opened) {
        await o.backend.close();
        await o.source.close();
      }
      await index.close();
      await uidmaps.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The first `name` field's value of a CRLF article, trimmed (an HDR answer's value); undefined when it has none. */
export function headerValue(a: Buffer, name: string): string | undefined {
  const head = a.toString('latin1').split('\r\n\r\n')[0]!;
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

/**
 * An ArchiveSource of `archive` whose header and article reads are counted
 * (`onRead`), answering NNTP HDR (which the archive lacks) from `articles`
 * of the group, each request after `beforeHdr` (which may hold it or throw).
 */
export function hdrSource(
  archive: string,
  articles: (group: string) => readonly Buffer[],
  onRead: () => void,
  beforeHdr: (group: string, field: string, low: number, high: number) => Promise<void> | void = () => undefined,
): ArchiveSource {
  const s = new ArchiveSource({ dir: archive, logger: silentLogger() });
  const head = s.head.bind(s);
  const art = s.article.bind(s);
  return Object.assign(s, {
    head: (g: string, n: number) => (onRead(), head(g, n)),
    article: (g: string, n: number) => (onRead(), art(g, n)),
    async *headerValues(group: string, field: string, low: number, high: number): AsyncIterable<{ number: number; value: Buffer }> {
      await beforeHdr(group, field, low, high);
      for (let n = low; n <= high; n++) {
        const v = headerValue(articles(group)[n - 1]!, field);
        if (v !== undefined) yield { number: n, value: Buffer.from(v) };
      }
    },
  });
}
