/**
 * NntpSource and MultiSource against real private INN 2.7 servers
 * (test/harness/inn.ts): exact article bytes, overview, error codes, failover
 * when the primary is shut down, and openExport over two upstreams.
 * Every INN started here is stopped with ctlinnd in afterAll.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { startInn, type InnServer } from '../harness/inn.js';
import { NntpSource } from '../../src/export/nntp-source.js';
import { MultiSource } from '../../src/export/sources.js';
import { openExport } from '../../src/app/ingest.js';
import { testConfig } from '../../src/app/config/load.js';
import { MemoryUidMapStore } from '../../src/uidmap/memory.js';
import { silentLogger } from '../../src/util/log.js';

function article(n: number, groups: string, body: string): Buffer {
  return Buffer.from(
    [
      'Path: origin!not-for-mail',
      `From: Poster ${n} <p${n}@example.org>`,
      `Newsgroups: ${groups}`,
      `Subject: article ${n} caf\xe9`,
      `Date: ${new Date(Date.UTC(2024, 0, 1, 0, n)).toUTCString()}`,
      `Message-ID: <art${n}@inn.test>`,
      '',
      body,
    ].join('\r\n'),
    'latin1',
  );
}

const ARTICLES = [
  article(1, 't.one', 'plain body\r\n'),
  article(2, 't.one,t.two', 'crossposted\r\n'),
  article(3, 't.one', '.starts with a dot\r\n..two dots\r\n'),
  article(4, 't.one', '8-bit \xe9\xe8\xff bytes\r\n'),
];

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/**
 * A TCP relay in front of an INN, so the test can make that upstream really go
 * away (connections reset, new ones refused) while INN itself keeps running.
 */
class Relay {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;
  constructor(target: InnServer) {
    this.server = createServer((client) => {
      const upstream = createConnection({ host: target.host, port: target.port });
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
  }
  async listen(): Promise<void> {
    await new Promise<void>((res) => this.server.listen(0, '127.0.0.1', res));
    this.port = (this.server.address() as { port: number }).port;
  }
  /** Refuse new connections and reset the open ones. */
  async down(): Promise<void> {
    const closed = new Promise<void>((res) => this.server.close(() => res()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

const up = (inn: InnServer) => ({ url: `nntp://${inn.host}:${inn.port}`, poolSize: 2, pipelineWindow: 50, starttls: false });

let a: InnServer | undefined;
let b: InnServer | undefined;
beforeAll(async () => {
  [a, b] = await Promise.all([
    startInn({ groups: ['t.one', 't.two'], articles: ARTICLES }),
    // b carries t.one with other numbering: an extra article first.
    startInn({ groups: ['t.one', 't.three'], articles: [article(9, 't.one', 'only on b\r\n'), ...ARTICLES] }),
  ]);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('NntpSource against INN', () => {
  it('lists groups and serves exact article bytes, head and overview', async () => {
    const s = new NntpSource({ upstream: up(a!), logger: silentLogger() });
    try {
      const groups = await s.listGroups();
      expect(groups.map((g) => g.name)).toEqual(expect.arrayContaining(['t.one', 't.two']));
      const info = await s.groupInfo('t.one');
      expect([info.count, info.low, info.high]).toEqual([4, 1, 4]);
      expect(await s.articleNumbers('t.one', 2, 3)).toEqual([2, 3]);
      const ov = [];
      for await (const r of s.overview('t.one', 1, 4)) ov.push(r);
      expect(ov.map((r) => r.messageId)).toEqual(['<art1@inn.test>', '<art2@inn.test>', '<art3@inn.test>', '<art4@inn.test>']);
      for (const [i, r] of ov.entries()) {
        const bytes = await readAll(await s.article('t.one', r.number));
        expect(bytes.equals(await a!.storedArticle(`<art${i + 1}@inn.test>`))).toBe(true);
        const head = await s.head('t.one', r.number);
        expect(head.equals(bytes.subarray(0, bytes.indexOf('\r\n\r\n') + 4))).toBe(true);
      }
      expect(ov[1]!.xref).toMatch(/t\.one:2/);
      await expect(s.groupInfo('no.such.group')).rejects.toMatchObject({ code: 'NO_SUCH_GROUP' });
      await expect(s.article('t.one', 999)).rejects.toMatchObject({ code: 'NO_SUCH_ARTICLE' });
    } finally {
      await s.close();
    }
  });

  it('sees articles that arrived after a connection last selected the group (OVER and HDR)', async () => {
    // One connection: it selects t.two now; INN then answers OVER/HDR only up to that
    // GROUP's high mark unless the source selects the group again.
    const s = new NntpSource({ upstream: { ...up(a!), poolSize: 1 }, logger: silentLogger() });
    try {
      const before = await s.groupInfo('t.two');
      for await (const r of s.overview('t.two', 1, before.high)) expect(r.number).toBeLessThanOrEqual(before.high);
      await a!.post(Buffer.from(['Path: x!y', 'From: a@b.example', 'Newsgroups: t.two', 'Subject: late', 'Date: Mon, 01 Jan 2024 00:00:00 +0000', 'Message-ID: <late@inn.test>', 'In-Reply-To: <art2@inn.test>', '', 'late body', ''].join('\r\n')));
      const ov = [];
      for await (const r of s.overview('t.two', before.high + 1, before.high + 5)) ov.push(r.messageId);
      expect(ov).toEqual(['<late@inn.test>']);
      const irt = [];
      for await (const v of s.headerValues('t.two', 'In-Reply-To', 1, before.high + 5)) irt.push([v.number, v.value.toString()]);
      expect(irt).toEqual([[before.high + 1, '<art2@inn.test>']]);
    } finally {
      await s.close();
    }
  });

  it('MultiSource fails over to the second upstream when the primary goes away', async () => {
    const relay = new Relay(a!);
    await relay.listen();
    const sa = new NntpSource({ upstream: { ...up(a!), url: `nntp://127.0.0.1:${relay.port}` }, logger: silentLogger() });
    const sb = new NntpSource({ upstream: up(b!), logger: silentLogger() });
    const m = new MultiSource([sa, sb], { logger: silentLogger() });
    const dir = await mkdtemp(join(tmpdir(), 'nf-inn-export-'));
    const store = new MemoryUidMapStore();
    try {
      const names = (await m.listGroups()).map((g) => g.name);
      expect(names).toEqual(expect.arrayContaining(['t.one', 't.two', 't.three']));
      expect(m.primaryOf('t.one')).toBe(sa.id);
      expect(m.primaryOf('t.three')).toBe(sb.id);

      // openExport over both: UIDs of t.one are a's article numbers.
      const ctx = await openExport(testConfig({ upstreams: [up(a!), up(b!)], data: dir }), silentLogger(), { uidmaps: store });
      const one = ctx.groups.get('t.one')!;
      expect(one.primary).toBe(`nntp://${a!.host}:${a!.port}`);
      expect(one.uidMap.uidOf('<art3@inn.test>')).toBe(3);
      await ctx.close();

      await relay.down();
      const [served, primary, high] = await m.withFailover('t.one', async (s, p) => [s.id, p, (await s.groupInfo('t.one')).high] as const);
      expect([served, primary, high]).toEqual([sb.id, false, 5]);
      const first = await readAll(await m.article('t.one', 1));
      expect(first.toString('latin1')).toContain('<art9@inn.test>');
    } finally {
      await relay.down().catch(() => undefined);
      await m.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
