/**
 * ArchiveSource over real temporary directories: layout → group names, article
 * bytes and overview, appends detected, bad files reported as INVALID_ARCHIVE.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ArchiveSource } from '../../src/export/archive/archive-source.js';
import { formatMboxrdMessage } from '../../src/export/archive/mboxrd-writer.js';
import { SMALL_ARTICLE_BYTES } from '../../src/export/archive/index-file.js';
import { SourceError } from '../../src/export/source.js';
import { silentLogger } from '../../src/util/log.js';

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

function art(id: string | null, subject: string, body: string): Buffer {
  const h = [`From: someone@example.org`, `Subject: ${subject}`, ...(id ? [`Message-ID: ${id}`] : []), 'Newsgroups: x'];
  return Buffer.from(h.join('\r\n') + '\r\n\r\n' + body, 'latin1');
}

const D = new Date(Date.UTC(2024, 0, 1));
const mbox = (...arts: Buffer[]): Buffer => Buffer.concat(arts.map((a) => formatMboxrdMessage(a, 'x@y', D)));

let dir: string;
let src: ArchiveSource;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nf-archive-'));
  src = new ArchiveSource({ dir, logger: silentLogger() });
});
afterEach(async () => {
  await src.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ArchiveSource', () => {
  it('maps files and nested directories to group names and skips hidden files', async () => {
    await mkdir(join(dir, 'comp', 'lang'), { recursive: true });
    await writeFile(join(dir, 'comp', 'lang', 'misc.mbox'), mbox(art('<a@x>', 'a', 'x\r\n')));
    await writeFile(join(dir, 'alt.test'), mbox(art('<b@x>', 'b', 'y\r\n'), art('<c@x>', 'c', 'z\r\n')));
    await writeFile(join(dir, '.hidden'), 'junk');
    const groups = await src.listGroups();
    expect(groups.map((g) => [g.name, g.count, g.low, g.high]).sort()).toEqual([
      ['alt.test', 2, 1, 2],
      ['comp.lang.misc', 1, 1, 1],
    ]);
    expect(src.id).toBe(`archive:${dir}`);
  });

  it('serves exact article bytes, head and overview consistent with them', async () => {
    const a1 = art('<1@x>', 'one', 'From the start\r\n>From quoted\r\n.dot\r\n\xe9t\xe9\r\n');
    const a2 = art(null, 'two', 'no id here\r\n');
    await writeFile(join(dir, 'g.one'), mbox(a1, a2));
    expect(await readAll(await src.article('g.one', 1))).toEqual(a1);
    expect(await readAll(await src.article('g.one', 2))).toEqual(a2);
    const head = await src.head('g.one', 1);
    expect(head.toString('latin1')).toBe(a1.toString('latin1').split('\r\n\r\n')[0] + '\r\n\r\n');
    const ov = [];
    for await (const r of src.overview('g.one', 0, 100)) ov.push(r);
    expect(ov.map((r) => r.number)).toEqual([1, 2]);
    expect(ov[0]).toMatchObject({ subject: 'one', messageId: '<1@x>', bytes: a1.length, lines: 4, from: 'someone@example.org' });
    expect(ov[1]!.messageId).toMatch(/^<[0-9a-f]{40}@newsfront\.invalid>$/);
    expect(ov[1]!.bytes).toBe(a2.length);
    // The synthetic id is stable: a fresh source computes the same one.
    const again = new ArchiveSource({ dir, logger: silentLogger() });
    const ov2 = [];
    for await (const r of again.overview('g.one', 2, 2)) ov2.push(r);
    expect(ov2[0]!.messageId).toBe(ov[1]!.messageId);
    await again.close();
    expect(await src.articleNumbers('g.one', 2, 9)).toEqual([2]);
  });

  it('detects appended articles and keeps earlier numbers', async () => {
    const f = join(dir, 'grow');
    await writeFile(f, mbox(art('<1@x>', 'one', 'a\r\n')));
    expect((await src.groupInfo('grow')).count).toBe(1);
    await appendFile(f, mbox(art('<2@x>', 'two', 'b\r\n'), art('<3@x>', 'three', 'c\r\n')));
    const g = await src.groupInfo('grow');
    expect([g.count, g.high]).toEqual([3, 3]);
    const ids = [];
    for await (const r of src.overview('grow', 1, 3)) ids.push(r.messageId);
    expect(ids).toEqual(['<1@x>', '<2@x>', '<3@x>']);
  });

  it('streams a large article (over SMALL_ARTICLE_BYTES) byte-exactly', async () => {
    const line = (i: number): string => (i % 1000 === 0 ? '>From deep\r\n' : i % 777 === 0 ? 'From start\r\n' : `line ${i} ${'x'.repeat(60)}\r\n`);
    const body = Array.from({ length: 40_000 }, (_, i) => line(i)).join('');
    const big = art('<big@x>', 'big', body);
    expect(big.length).toBeGreaterThan(SMALL_ARTICLE_BYTES * 4);
    await writeFile(join(dir, 'g.big'), mbox(art('<s@x>', 'small', 'a\r\n'), big));
    const out = await readAll(await src.article('g.big', 2));
    expect(out.length).toBe(big.length);
    expect(out.equals(big)).toBe(true);
    const ov = [];
    for await (const r of src.overview('g.big', 2, 2)) ov.push(r);
    expect(ov[0]!.bytes).toBe(big.length);
  });

  it('article() past the indexed end picks up an appended article', async () => {
    const f = join(dir, 'app');
    await writeFile(f, mbox(art('<1@x>', 'one', 'a\r\n')));
    expect((await src.groupInfo('app')).count).toBe(1);
    const a2 = art('<2@x>', 'two', 'b\r\n');
    await appendFile(f, mbox(a2));
    expect((await readAll(await src.article('app', 2))).equals(a2)).toBe(true);
  });

  it('a file rewritten shorter is rescanned from scratch', async () => {
    const f = join(dir, 'rw');
    await writeFile(f, mbox(art('<1@x>', 'one', 'a\r\n'), art('<2@x>', 'two', 'b\r\n')));
    expect((await src.groupInfo('rw')).count).toBe(2);
    await writeFile(f, mbox(art('<9@x>', 'nine', 'z\r\n')));
    expect((await src.groupInfo('rw')).count).toBe(1);
    expect((await src.head('rw', 1)).toString()).toContain('<9@x>');
  });

  it('reports bad files as INVALID_ARCHIVE and unknown names as NO_SUCH_*', async () => {
    await writeFile(join(dir, 'bad.group'), Buffer.from([0, 1, 2, 0xff, 10, 65]));
    await writeFile(join(dir, 'good'), mbox(art('<1@x>', 'one', 'a\r\n')));
    expect((await src.listGroups()).map((g) => g.name)).toEqual(['good']);
    await expect(src.groupInfo('bad.group')).rejects.toMatchObject({ code: 'INVALID_ARCHIVE' });
    await expect(src.groupInfo('nope')).rejects.toMatchObject({ code: 'NO_SUCH_GROUP' });
    await expect(src.article('good', 2)).rejects.toMatchObject({ code: 'NO_SUCH_ARTICLE' });
    await expect(src.head('good', 0)).rejects.toBeInstanceOf(SourceError);
    const missing = new ArchiveSource({ dir: join(dir, 'does-not-exist'), logger: silentLogger() });
    await expect(missing.listGroups()).rejects.toMatchObject({ code: 'INVALID_ARCHIVE' });
  });

  it('round-trips any CRLF article written with the mboxrd writer', async () => {
    const line = fc.oneof(
      fc.constantFrom('', 'From x', '>From y', '>>>From z', '.', '..', '>', 'From'),
      fc.string({ unit: fc.integer({ min: 0, max: 255 }).filter((b) => b !== 10 && b !== 13).map((b) => String.fromCharCode(b)), maxLength: 20 }),
    );
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(line, { maxLength: 8 }), { minLength: 1, maxLength: 4 }), async (bodies) => {
        const arts = bodies.map((b, i) => art(`<${i}@p>`, 's', b.map((l) => l + '\r\n').join('')));
        const name = `p.r${round++}`;
        await writeFile(join(dir, name), mbox(...arts));
        const ov = [];
        for await (const r of src.overview(name, 1, 99)) ov.push(r);
        expect(ov.length).toBe(arts.length);
        for (const [i, a] of arts.entries()) {
          expect(await readAll(await src.article(name, i + 1))).toEqual(a);
          expect(ov[i]!.bytes).toBe(a.length);
          expect(ov[i]!.lines).toBe(bodies[i]!.length);
        }
      }),
      { numRuns: 40 },
    );
  });
});
