/**
 * The backend contract (./contract/backend.ts) over the IMAP layer's fixture
 * backend (test/imap/fixture-backend.ts) and over the real export backend on
 * an ArchiveSource in a temp directory (UIDs = positions in the mbox files).
 * The real backend over INN runs in backend-contract.inn.test.ts.
 */
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveSource } from '../../src/export/archive/archive-source.js';
import { formatMboxrdMessage } from '../../src/export/archive/mboxrd-writer.js';
import { silentLogger } from '../../src/util/log.js';
import { FixtureBackend } from '../imap/fixture-backend.js';
import { rig } from './backend/helpers.js';
import { archiveExpected, articlesOf, fixtureSet, writeArchive } from './contract/articles.js';
import { backendContract, type ExpectedMessage } from './contract/backend.js';

backendContract('FixtureBackend (test/imap)', async () => {
  const set = fixtureSet('cf');
  const backend = new FixtureBackend();
  const expected = new Map<string, ExpectedMessage[]>();
  for (const g of set.groups) {
    // UIDs with gaps, as a real mailbox has after expiry.
    const msgs = articlesOf(set, g).map((a, i) => ({ uid: 3 * i + 2, subject: a.subject, bytes: a.bytes }));
    backend.boxes.set(g, { uidValidity: 1000, articles: new Map() });
    for (const m of msgs) backend.add(g, m.uid, m.bytes);
    expected.set(g, msgs);
  }
  return {
    backend,
    expected,
    async add(mailbox, article) {
      const uids = [...backend.boxes.get(mailbox)!.articles.keys()];
      backend.add(mailbox, Math.max(0, ...uids) + 1, article.bytes);
      return article.bytes;
    },
    cleanup: async () => undefined,
  };
});

backendContract('export backend over an archive', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nf-contract-backend-'));
  const set = fixtureSet('cb');
  await writeArchive(join(dir, 'archive'), set);
  const source = new ArchiveSource({ dir: join(dir, 'archive'), logger: silentLogger() });
  const r = await rig(source);
  const expected = new Map([...archiveExpected(set)].map(([g, arts]) => [g, arts.map((a) => ({ uid: a.number, subject: a.subject, bytes: a.bytes }))]));
  return {
    backend: r.backend,
    expected,
    async add(mailbox, article) {
      await appendFile(join(dir, 'archive', `${mailbox}.mbox`), formatMboxrdMessage(article.bytes, 'poster@example.org', new Date(0)));
      return article.bytes;
    },
    async cleanup() {
      await r.close();
      await source.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
