/**
 * FETCH listings with BODY/BODYSTRUCTURE (fetch/structures.ts, rendered per
 * batch): the same responses as one message at a time, cold and warm, beside
 * other listing items; a message whose article vanished is left out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixtureBackend } from './fixture-backend.js';
import { startImap, type TestServer } from './harness.js';
import { RawClient, tagged } from './raw-client.js';
import { bodyStructureBytes } from '../../src/imap/render/bodystructure.js';
import { parseStructure } from '../../src/mime/index.js';

const plain = (n: number): Buffer => Buffer.from(`Subject: article ${n}\r\nFrom: A <a@example.org>\r\n\r\nBody ${n}.\r\nline 2\r\n`, 'latin1');
const mixed = (n: number): Buffer =>
  Buffer.from(
    `Subject: mixed ${n}\r\nContent-Type: multipart/mixed; boundary="b${n}"\r\n\r\n--b${n}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhi\r\n` +
      `--b${n}\r\nContent-Type: application/octet-stream; name="x.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAw==\r\n--b${n}--\r\n`,
    'latin1',
  );

describe('FETCH BODY/BODYSTRUCTURE listings', () => {
  let backend: FixtureBackend;
  let srv: TestServer;
  let c: RawClient;
  const articles = new Map<number, Buffer>();
  beforeAll(async () => {
    backend = new FixtureBackend();
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 1030, 1031]) {
      const a = n % 2 === 0 ? mixed(n) : plain(n);
      articles.set(n, a);
      backend.add('g.x', n, a);
    }
    srv = await startImap(backend);
    c = await RawClient.connect(srv.port);
    expect(tagged(await c.cmd('L', 'LOGIN alice secret'), 'L')).toMatch(/^L OK/);
    expect(tagged(await c.cmd('S', 'EXAMINE g.x'), 'S')).toMatch(/^S OK/);
  });
  afterAll(async () => {
    c.close();
    await srv.close();
  });

  const expected = (uids: number[]): string =>
    uids
      .map((n) => {
        const root = parseStructure(articles.get(n)!);
        const body = bodyStructureBytes(root, false).toString('latin1');
        const bs = bodyStructureBytes(root, true).toString('latin1');
        return `* ${n} FETCH (UID ${n} FLAGS () BODY ${body} BODYSTRUCTURE ${bs})\r\n`;
      })
      .join('');

  it('cold and warm: every message, in order, with its renderings', async () => {
    const cmd = 'UID FETCH 1:6 (FLAGS BODY BODYSTRUCTURE)';
    const cold = await c.cmd('a', cmd);
    expect(tagged(cold, 'a')).toMatch(/^a OK/);
    expect(cold.slice(0, cold.lastIndexOf('a OK'))).toBe(expected([1, 2, 3, 4, 5, 6]));
    const warm = await c.cmd('b', cmd);
    expect(warm.slice(0, warm.lastIndexOf('b OK'))).toBe(expected([1, 2, 3, 4, 5, 6]));
  });

  it('renderings from a packed page, from unpacked ones and rendered now, in one listing (two pages of the cache)', async () => {
    const line = (n: number): string => `* ${n} FETCH (UID ${n} BODYSTRUCTURE ${bodyStructureBytes(parseStructure(articles.get(n)!), true).toString('latin1')})\r\n`;
    // 1030 on page 1 packs page 0 (renderings of 1–6 above); 1031 is rendered during the listing below
    expect(tagged(await c.cmd('p', 'UID FETCH 1030 (BODYSTRUCTURE)'), 'p')).toMatch(/^p OK/);
    const r = await c.cmd('q', 'UID FETCH 2,5,1030,1031 (BODYSTRUCTURE)');
    expect(tagged(r, 'q')).toMatch(/^q OK/);
    const want = [2, 5, 1030, 1031].map((n, i) => line(n).replace(`* ${n} FETCH`, `* ${[2, 5, 9, 10][i]} FETCH`)).join('');
    expect(r.slice(0, r.lastIndexOf('q OK'))).toBe(want);
  });

  it('a message whose article vanished (structure NONEXISTENT) is left out, the others are sent', async () => {
    backend.boxes.get('g.x')!.articles.delete(7); // gone upstream, not yet expired from the view (and never rendered)
    const r = await c.cmd('a', 'UID FETCH 7:8 (FLAGS BODYSTRUCTURE BODY)');
    expect(tagged(r, 'a')).toMatch(/^a OK/);
    expect(r).not.toContain('* 7 FETCH');
    const root = parseStructure(articles.get(8)!);
    expect(r).toContain(`* 8 FETCH (UID 8 FLAGS () BODYSTRUCTURE ${bodyStructureBytes(root, true).toString('latin1')} BODY ${bodyStructureBytes(root, false).toString('latin1')})\r\n`);
  });
});
