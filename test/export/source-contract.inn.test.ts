/**
 * The Source contract (./contract/source.ts) over a real private INN 2.7
 * (test/harness/inn.ts): NntpSource, and MultiSource over that INN and an
 * archive (the INN is primary for the group both carry; a group only the
 * archive has is served from it). Articles are INN's stored copies. The INN
 * is stopped with ctlinnd in afterAll.
 */
import { afterAll, beforeAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInn, type InnServer } from '../harness/inn.js';
import { ArchiveSource } from '../../src/export/archive/archive-source.js';
import { NntpSource } from '../../src/export/nntp-source.js';
import { MultiSource } from '../../src/export/sources.js';
import { silentLogger } from '../../src/util/log.js';
import { archiveExpected, articlesOf, fixtureArticle, fixtureSet, writeArchive, type FixtureSet } from './contract/articles.js';
import { sourceContract, type ExpectedArticle } from './contract/source.js';

const set = fixtureSet('cn');
/** Only in the archive of the MultiSource case. */
const archiveOnly: FixtureSet = { ...set, groups: ['cn.three'], articles: [fixtureArticle('cn3', 1, ['cn.three'], 'archive only', 'from the archive\r\n')] };
/** In the archive too, under a group the INN carries: never served while the INN answers. */
const shadow: FixtureSet = { ...set, articles: [fixtureArticle('shadow', 1, [set.one], 'not served', 'from the archive\r\n')] };

let inn: InnServer | undefined;
let innExpected: Map<string, ExpectedArticle[]>;

beforeAll(async () => {
  inn = await startInn({ groups: set.groups, articles: set.articles.map((a) => a.bytes) });
  const stored = new Map<string, Buffer>();
  const copies = await inn.storedArticles(set.articles.map((a) => a.messageId));
  set.articles.forEach((a, i) => stored.set(a.messageId, copies[i]!));
  innExpected = new Map(set.groups.map((g) => [g, articlesOf(set, g).map((a, i) => ({ ...a, number: i + 1, bytes: stored.get(a.messageId)! }))]));
});
afterAll(async () => {
  await inn?.stop();
});

const upstream = () => ({ url: `nntp://${inn!.host}:${inn!.port}`, poolSize: 2, pipelineWindow: 50, starttls: false });

sourceContract(
  'NntpSource over INN',
  async () => {
    const source = new NntpSource({ upstream: upstream(), logger: silentLogger() });
    return { source, expected: innExpected, cleanup: () => source.close() };
  },
  { checksMessageId: true, sizeOffByOne: true },
);

sourceContract(
  'MultiSource over INN and an archive',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nf-contract-multi-inn-'));
    await writeArchive(dir, archiveOnly);
    await writeArchive(dir, shadow, [set.one]);
    const source = new MultiSource([new NntpSource({ upstream: upstream(), logger: silentLogger() }), new ArchiveSource({ dir, logger: silentLogger() })], {
      logger: silentLogger(),
    });
    return {
      source,
      expected: new Map([...innExpected, ...archiveExpected(archiveOnly)]),
      async cleanup() {
        await source.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  { checksMessageId: true, sizeOffByOne: true },
);
