/**
 * The backend contract (./contract/backend.ts) over the real export backend
 * on NntpSource to a private INN 2.7 (test/harness/inn.ts), with exact sizes
 * ('download': INN's overview size is off by one for dot-first bodies).
 * UIDs are INN's article numbers (first sight on the primary). Articles added
 * by the contract are posted to INN and stay there, so each new backend
 * expects them too. The INN is stopped with ctlinnd in afterAll.
 */
import { afterAll, beforeAll } from 'vitest';
import { startInn, type InnServer } from '../harness/inn.js';
import { NntpSource } from '../../src/export/nntp-source.js';
import { silentLogger } from '../../src/util/log.js';
import { rig } from './backend/helpers.js';
import { fixtureSet, type FixtureArticle } from './contract/articles.js';
import { backendContract, type ExpectedMessage } from './contract/backend.js';

const set = fixtureSet('ci');
let inn: InnServer | undefined;
/** Per group, what INN holds: injected, then posted by the contract, in number order. */
const held = new Map<string, ExpectedMessage[]>();

async function remember(articles: FixtureArticle[]): Promise<void> {
  const copies = await inn!.storedArticles(articles.map((a) => a.messageId));
  articles.forEach((a, i) => {
    for (const g of a.groups) {
      const list = held.get(g) ?? [];
      list.push({ uid: list.length + 1, subject: a.subject, bytes: copies[i]! });
      held.set(g, list);
    }
  });
}

beforeAll(async () => {
  inn = await startInn({ groups: set.groups, articles: set.articles.map((a) => a.bytes) });
  for (const g of set.groups) held.set(g, []);
  await remember(set.articles);
});
afterAll(async () => {
  await inn?.stop();
});

backendContract('export backend over INN', async () => {
  const source = new NntpSource({ upstream: { url: `nntp://${inn!.host}:${inn!.port}`, poolSize: 2, pipelineWindow: 50, starttls: false }, logger: silentLogger() });
  const r = await rig(source, { sizes: 'download', fullCheckMs: 0 });
  return {
    backend: r.backend,
    expected: new Map([...held].map(([g, msgs]) => [g, [...msgs]])),
    async add(_mailbox, article) {
      await inn!.post(article.bytes);
      await remember([article]);
      return [...held.get(article.groups[0]!)!].pop()!.bytes;
    },
    async cleanup() {
      await r.close();
      await source.close();
    },
  };
});
