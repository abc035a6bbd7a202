/**
 * The backend over a real private INN 2.7 (test/harness/inn.ts) through
 * NntpSource with sizes:'download': RFC822.SIZE equals the bytes served even
 * for bodies starting with '.', where INN's overview `:bytes` is one too many;
 * headers equal HEAD; a posted article appears on refresh; a cancelled one is
 * dropped. The INN is stopped with ctlinnd in afterAll.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInn, type InnServer } from '../../harness/inn.js';
import { NntpSource } from '../../../src/export/nntp-source.js';
import { headerEnd } from '../../../src/mime/header.js';
import { collect, readAll, rig, type Rig } from './helpers.js';

function article(n: number, body: string): Buffer {
  return Buffer.from(
    ['Path: origin!not-for-mail', `From: P <p${n}@example.org>`, 'Newsgroups: t.backend', `Subject: s${n}`, `Date: ${new Date(Date.UTC(2024, 0, 1, 0, n)).toUTCString()}`, `Message-ID: <bk${n}@inn.test>`, '', body].join('\r\n'),
    'latin1',
  );
}

const BODIES = ['plain\r\n', '.starts with a dot\r\n', 'mid\r\n.dot\r\n', '..two\r\n.x\r\n', '', '8-bit \xe9\xff\r\n'];

let inn: InnServer | undefined;
let source: NntpSource | undefined;
let r: Rig | undefined;

beforeAll(async () => {
  inn = await startInn({ groups: ['t.backend'], articles: BODIES.map((b, i) => article(i + 1, b)) });
  source = new NntpSource({ upstream: { url: `nntp://${inn.host}:${inn.port}`, poolSize: 2, pipelineWindow: 50, starttls: false }, logger: (await import('../../../src/util/log.js')).silentLogger() });
  r = await rig(source, { sizes: 'download', fullCheckMs: 0 });
});

afterAll(async () => {
  await r?.close();
  await source?.close();
  await inn?.stop();
});

describe('backend over INN', () => {
  it('reports exact sizes (INN :bytes is off by one for dot-first bodies) and HEAD headers', async () => {
    const over = new Map<number, number>();
    for await (const o of source!.overview('t.backend', 1, BODIES.length)) over.set(o.number, o.bytes);
    const h = await r!.backend.open('t.backend');
    expect([...h.current().uids]).toEqual(BODIES.map((_, i) => i + 1));
    const metas = await collect(h.meta([...h.current().uids]));
    let offByOne = 0;
    for (const m of metas) {
      const bytes = await readAll(await h.content(m.uid));
      expect(m.size).toBe(bytes.length);
      expect(m.header).toEqual(bytes.subarray(0, headerEnd(bytes)));
      if (over.get(m.uid) !== bytes.length) offByOne++;
    }
    expect(offByOne).toBe(2); // the measured INN behaviour this mode exists for
    h.release();
  });

  it('sees a posted article on refresh and drops a cancelled one', async () => {
    const h = await r!.backend.open('t.backend');
    await inn!.post(article(50, 'new\r\n'));
    const s = await h.refresh();
    expect(s.uids[s.uids.length - 1]).toBe(BODIES.length + 1);
    await inn!.cancel('<bk1@inn.test>');
    const t = await h.refresh();
    expect(t.uids[0]).toBe(2);
    h.release();
  });
});
