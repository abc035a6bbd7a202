/**
 * `newsfront index GROUP...`: indexes the named groups (headers and every
 * body) into <data>/search.db, prints one line per group with the rate and
 * the index bytes per article, exits 0; an unknown group is reported and
 * makes the exit status 1 while the others are still indexed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'libsql';
import { open } from 'lmdb';
import { runCli } from '../harness/cli-run.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('newsfront index', () => {
  it('indexes the named groups, headers and bodies, and prints rate and size per article', async () => {
    dir = await mkdtemp(join(tmpdir(), 'nf-index-cli-'));
    const r = await runCli(['index', 'sample.discuss', 'no.such.group', 'sample.i18n', '--archive', 'sample', '--data', dir, '--log-level', 'silent']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^sample\.discuss: 194 articles \([\d.]+ MB\) indexed in [\d.]+ s, \d+ articles\/s, \d+ B of index per article$/m);
    expect(r.out).toMatch(/^sample\.i18n: \d+ articles/m);
    expect(r.err).toContain('no.such.group');
    const db = new Database(join(dir, 'search.db'));
    try {
      const [members, bodies, partial] = db
        .prepare("SELECT count(*), sum(d.body_state <> 0), sum(d.hdr_flags & 4 <> 0) FROM members m JOIN mailboxes x ON x.mbid = m.mbid JOIN docs d ON d.docid = m.docid WHERE x.name = 'sample.discuss'")
        .raw()
        .get([]) as number[];
      expect([members, bodies, partial]).toEqual([194, 194, 0]);
    } finally {
      db.close();
    }
    // the crawl's structures were rendered into the render store (BODYSTRUCTURE pages of the group)
    const env = open({ path: join(dir, 'cache', 'render.lmdb'), readOnly: true, maxDbs: 2 });
    try {
      const pages = env.openDB<Buffer, string>('envelopes', { encoding: 'binary' });
      const keys = [...pages.getKeys()].filter((k) => k.includes('\u0000sample.discuss\u0000') && k.startsWith('s'));
      expect(keys.length).toBeGreaterThan(0);
    } finally {
      await env.close();
    }
  }, 120_000);
});
