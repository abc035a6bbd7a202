/**
 * The Source contract (./contract/source.ts) over the archive: ArchiveSource
 * over a temp directory of mbox files, and MultiSource over two archives
 * (groups united; a group both carry is served by the first, the primary).
 * The NNTP implementations run in source-contract.inn.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveSource } from '../../src/export/archive/archive-source.js';
import { MultiSource } from '../../src/export/sources.js';
import { silentLogger } from '../../src/util/log.js';
import { archiveExpected, fixtureArticle, fixtureSet, writeArchive, type FixtureSet } from './contract/articles.js';
import { sourceContract } from './contract/source.js';

sourceContract(
  'ArchiveSource',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nf-contract-archive-'));
    const set = fixtureSet('ca');
    await writeArchive(dir, set);
    const source = new ArchiveSource({ dir, logger: silentLogger() });
    return {
      source,
      expected: archiveExpected(set),
      async cleanup() {
        await source.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  { checksMessageId: false, sizeOffByOne: false },
);

sourceContract(
  'MultiSource over two archives',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nf-contract-multi-'));
    const set = fixtureSet('cm');
    // The second archive also carries `cm.one`, with other articles: the primary (first) must serve it.
    const shadow: FixtureSet = { ...set, articles: [fixtureArticle('shadow', 1, [set.one], 'not served', 'from the second archive\r\n')] };
    await writeArchive(join(dir, 'a'), set, [set.one, set.empty]);
    await writeArchive(join(dir, 'b'), shadow, [set.one]);
    await writeArchive(join(dir, 'b'), set, [set.two]);
    const a = new ArchiveSource({ dir: join(dir, 'a'), logger: silentLogger() });
    const b = new ArchiveSource({ dir: join(dir, 'b'), logger: silentLogger() });
    const source = new MultiSource([a, b], { logger: silentLogger() });
    return {
      source,
      expected: archiveExpected(set),
      async cleanup() {
        await source.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  { checksMessageId: false, sizeOffByOne: false },
);
