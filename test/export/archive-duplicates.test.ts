/**
 * Every message of an mbox file is an article of its own, even when two share
 * a Message-ID or are byte-identical without one (issue 12 item 1). Checked
 * through IMAP (EXISTS, FETCH of each sequence number, SEARCH) on a real
 * server over an archive, across a restart and an append; and at the source,
 * that an append seen by an open source gives the same keys as a fresh scan.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNewsfront, type RunningNewsfront } from '../../src/app/start.js';
import { testConfig } from '../../src/app/config/load.js';
import { ArchiveSource } from '../../src/export/archive/archive-source.js';
import { FileKeys } from '../../src/export/archive/keys.js';
import { formatMboxrdMessage } from '../../src/export/archive/mboxrd-writer.js';
import { silentLogger } from '../../src/util/log.js';
import { RawClient, bodyLiterals, tagged } from '../imap/raw-client.js';

const D = new Date(Date.UTC(2024, 0, 1));

function art(id: string | null, subject: string, body: string): Buffer {
  const h = ['From: someone@example.org', `Subject: ${subject}`, ...(id ? [`Message-ID: ${id}`] : []), 'Newsgroups: dup.test'];
  return Buffer.from(h.join('\r\n') + '\r\n\r\n' + body, 'latin1');
}
const mbox = (...arts: Buffer[]): Buffer => Buffer.concat(arts.map((a) => formatMboxrdMessage(a, 'x@y', D)));

const twin = art(null, 'twin', 'identical bytes, no Message-ID\r\n');
/** The six articles of the file, in file order: two share <same@x>, two are identical without an id. */
const SIX = [
  art('<same@x>', 'alpha', 'first with same id\r\n'),
  twin,
  art('<same@x>', 'bravo', 'second with same id\r\n'),
  twin,
  art('<own@x>', 'charlie', 'its own id\r\n'),
  art(null, 'delta', 'no id, unique bytes\r\n'),
];
const LATER = [art('<same@x>', 'echo', 'third with same id\r\n'), twin];

let dir: string;
let nf: RunningNewsfront | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nf-archive-dup-'));
  await mkdir(join(dir, 'archive'));
  await writeFile(join(dir, 'archive', 'dup.test.mbox'), mbox(...SIX));
});
afterEach(async () => {
  await nf?.close();
  nf = undefined;
  await rm(dir, { recursive: true, force: true });
});

const start = async (): Promise<RawClient> => {
  nf = await startNewsfront(
    testConfig({ archive: join(dir, 'archive'), data: join(dir, 'data'), listen: { host: '127.0.0.1', port: 0 } }),
    silentLogger(),
  );
  const c = await RawClient.connect(nf.port);
  expect(tagged(await c.cmd('l', 'LOGIN anonymous x@y'), 'l')).toMatch(/^l OK/);
  return c;
};

/** Sequence number → [UID, article bytes] of the whole selected mailbox. */
async function fetchAll(c: RawClient): Promise<Array<[number, Buffer]>> {
  c.write('f FETCH 1:* (UID BODY.PEEK[])\r\n');
  await c.until((t) => /(^|\r\n)f (OK|NO|BAD)[^\r\n]*\r\n/.test(t));
  const buf = c.takeBuffer();
  const text = buf.toString('latin1');
  const seqs = [...text.matchAll(/\* (\d+) FETCH \(UID (\d+) /g)].map((m) => [Number(m[1]), Number(m[2])] as const);
  const bodies = bodyLiterals(buf);
  expect(seqs.map(([seq]) => seq)).toEqual(seqs.map((_, i) => i + 1));
  return seqs.map(([, uid]) => [uid, bodies.get(uid)!]);
}

const searchOf = (resp: string): number[] =>
  (/\* SEARCH([ \d]*)\r\n/.exec(resp)?.[1] ?? '').trim().split(' ').filter(Boolean).map(Number);

describe('archive: articles sharing a Message-ID or bytes stay distinct', () => {
  it('lists, fetches and searches each of them, with UIDs stable across a restart and an append', async () => {
    let c = await start();
    expect(await c.cmd('s', 'SELECT dup.test')).toContain('* 6 EXISTS');
    const first = await fetchAll(c);
    expect(first.map(([, b]) => b)).toEqual(SIX);
    const uids = first.map(([u]) => u);
    expect(uids).toEqual([1, 2, 3, 4, 5, 6]);
    expect(searchOf(await c.cmd('a', 'SEARCH SUBJECT bravo'))).toEqual([3]);
    expect(searchOf(await c.cmd('b', 'SEARCH SUBJECT twin'))).toEqual([2, 4]);
    expect(searchOf(await c.cmd('d', 'SEARCH BODY "second with same"'))).toEqual([3]);
    expect(searchOf(await c.cmd('e', 'SEARCH HEADER Message-ID "<same@x>"'))).toEqual([1, 3]);
    expect(searchOf(await c.cmd('g', 'SEARCH SUBJECT delta'))).toEqual([6]);
    c.close();
    await nf!.close();
    nf = undefined;

    // Restart without change: same UIDs; then an append while stopped, and another restart.
    c = await start();
    await c.cmd('s', 'SELECT dup.test');
    expect(await fetchAll(c)).toEqual(first);
    c.close();
    await nf!.close();
    nf = undefined;
    await appendFile(join(dir, 'archive', 'dup.test.mbox'), mbox(...LATER));
    c = await start();
    expect(await c.cmd('s', 'SELECT dup.test')).toContain('* 8 EXISTS');
    const after = await fetchAll(c);
    expect(after.slice(0, 6)).toEqual(first);
    expect(after.slice(6).map(([, b]) => b)).toEqual(LATER);
    expect(after.map(([u]) => u)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(searchOf(await c.cmd('h', 'SEARCH SUBJECT twin'))).toEqual([2, 4, 8]);
    expect(searchOf(await c.cmd('i', 'UID SEARCH SUBJECT echo'))).toEqual([7]);
    c.close();
  });
});

describe('ArchiveSource keys of repeated articles', () => {
  it('gives every message its own Message-ID key, the same after an append seen live as after a fresh scan', async () => {
    const path = join(dir, 'archive', 'dup.test.mbox');
    const live = new ArchiveSource({ dir: join(dir, 'archive'), logger: silentLogger() });
    try {
      const ids = async (s: ArchiveSource, hi: number): Promise<string[]> => {
        const out: string[] = [];
        for await (const r of s.overview('dup.test', 1, hi)) out.push(r.messageId);
        return out;
      };
      const before = await ids(live, 6);
      expect(new Set(before).size).toBe(6);
      expect(before[0]).toBe('<same@x>');
      expect(before[4]).toBe('<own@x>');
      // Appends in two steps, the first ending inside a header just past its Message-ID
      // (that last message is scanned again, and must not count twice).
      const tail = mbox(...LATER);
      const cut = tail.indexOf('Newsgroups:');
      await appendFile(path, tail.subarray(0, cut));
      expect(await ids(live, 7)).toHaveLength(7);
      await appendFile(path, tail.subarray(cut));
      const grown = await ids(live, 8);
      expect(grown.slice(0, 6)).toEqual(before);
      expect(new Set(grown).size).toBe(8);
      const fresh = new ArchiveSource({ dir: join(dir, 'archive'), logger: silentLogger() });
      try {
        expect(await ids(fresh, 8)).toEqual(grown);
      } finally {
        await fresh.close();
      }
    } finally {
      await live.close();
    }
  });
});

describe('FileKeys', () => {
  it('derives again when a derived key is already taken by a header, and takes back only the last message', () => {
    const probe = new FileKeys();
    probe.next('<a@x>');
    const d2 = probe.next('<a@x>');
    expect(d2).toMatch(/^<2\.[0-9a-f]{40}@newsfront\.invalid>$/);

    const k = new FileKeys();
    const got = [k.next(d2), k.next('<a@x>'), k.next('<a@x>'), k.next('<a@x>')];
    expect(got[0]).toBe(d2);
    expect(got[1]).toBe('<a@x>');
    expect(new Set(got).size).toBe(4);
    k.retractLast();
    expect(k.next('<a@x>')).toBe(got[3]);
  });
});
