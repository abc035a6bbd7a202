/** Shared set-up for backend tests: a backend over a FakeSource in a temp cache dir, torn down after. */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createLogger, silentLogger } from '../../../src/util/log.js';
import { createBackend, type BackendOptions } from '../../../src/export/backend/index.js';
import { MemoryUidMapStore } from '../../../src/uidmap/memory.js';
import type { Source } from '../../../src/export/source.js';

export type TestBackend = Awaited<ReturnType<typeof createBackend>>;

export interface Rig {
  backend: TestBackend;
  uidmaps: MemoryUidMapStore;
  cacheDir: string;
  close(): Promise<void>;
}

export async function rig(source: Source, opts: Partial<BackendOptions> = {}): Promise<Rig> {
  const cacheDir = await mkdtemp(join(tmpdir(), 'nf-backend-'));
  const uidmaps = new MemoryUidMapStore();
  const backend = await createBackend({
    source,
    uidmaps,
    cacheDir,
    cacheMaxBytes: 64 * 1024 * 1024,
    pollIntervalMs: 0,
    logger: process.env.LOG ? createLogger({ level: process.env.LOG }) : silentLogger(),
    ...opts,
  });
  return {
    backend,
    uidmaps,
    cacheDir,
    async close() {
      await backend.close();
      await uidmaps.close();
      await rm(cacheDir, { recursive: true, force: true });
    },
  };
}

export async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Total size of the regular files under `dir` (recursively), skipping `skip` names at the top. */
export async function duBytes(dir: string, skip: string[] = []): Promise<number> {
  let total = 0;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  for (const n of names) {
    if (skip.includes(n)) continue;
    const p = join(dir, n);
    const st = await stat(p).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null; // removed since the listing (a temp file of a download being aborted)
      throw err;
    });
    if (st !== null) total += st.isDirectory() ? await duBytes(p) : st.size;
  }
  return total;
}
