import { afterEach, describe, expect, it } from 'vitest';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NntpClient } from '../../src/nntp/client.js';
import { NntpError } from '../../src/nntp/errors.js';
import { fakeNntpServer, makeArticle, startFakePeer, type FakePeer, type FakeGroup } from './fake-peer.js';

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

function group(arts: Array<[number, Buffer]>): FakeGroup {
  return { articles: new Map(arts) };
}

const tricky = makeArticle(
  '<t@x>',
  'tricky',
  Buffer.concat([Buffer.from('.starts with dot\r\n..two dots\r\n.\r\nlatin1 \xe9\xff\r\nbare\rcr\r\n', 'latin1'), Buffer.from([0x80, 0x0d, 0x0a])]),
);
const groups = () => ({
  'misc.test': group([
    [1, makeArticle('<a1@x>', 'one', 'body one\r\n')],
    [2, tricky],
    [5, makeArticle('<a5@x>', 'five', '')],
  ]),
  'alt.other': group([[10, makeArticle('<o10@x>', 'ten', 'ten\r\n')]]),
});

let peer: FakePeer | undefined;
let client: NntpClient | undefined;
afterEach(async () => {
  client?.destroy();
  client = undefined;
  await peer?.close();
  peer = undefined;
});

async function setup(opts: Parameters<typeof fakeNntpServer>[0] = { groups: groups() }, copts = {}): Promise<NntpClient> {
  peer = await startFakePeer(fakeNntpServer(opts));
  client = await NntpClient.connect({ host: '127.0.0.1', port: peer.port, commandTimeoutMs: 10_000, ackNudge: false, ...copts });
  return client;
}

describe('NntpClient basics', () => {
  it('reads greeting and capabilities', async () => {
    const c = await setup();
    expect(c.postingAllowed).toBe(true);
    expect(c.capabilities.get('VERSION')).toEqual(['2']);
    expect(c.capabilities.has('OVER')).toBe(true);
    expect(peer!.sessions[0]!.received).toEqual(['CAPABILITIES']);
  });

  it('GROUP, LISTGROUP, LIST ACTIVE/NEWSGROUPS/OVERVIEW.FMT, DATE', async () => {
    const c = await setup();
    expect(await c.group('misc.test')).toEqual({ name: 'misc.test', count: 3, low: 1, high: 5 });
    expect(await c.listGroup('misc.test')).toEqual([1, 2, 5]);
    expect(await c.listGroup('misc.test', [2, 9])).toEqual([2, 5]);
    const active = await c.listActive();
    expect(active).toContainEqual({ name: 'alt.other', high: 10, low: 10, status: 'y' });
    expect((await c.listNewsgroups()).get('misc.test')).toBe('The misc.test group');
    expect(await c.listOverviewFmt()).toContain('Xref:full');
    expect((await c.date()).toISOString()).toBe('2024-02-29T23:59:58.000Z');
  });

  it('ARTICLE is byte-exact (dot-unstuffed, 8-bit, CR kept)', async () => {
    const c = await setup();
    const h = await c.article('misc.test', 2);
    expect(h.number).toBe(2);
    expect(h.messageId).toBe('<t@x>');
    expect((await readAll(h.stream)).equals(tricky)).toBe(true);
    const byId = await c.articleById('<t@x>');
    expect((await readAll(byId.stream)).equals(tricky)).toBe(true);
  });

  it('articleInto: byte-exact to the sink; a refused Message-ID or a throwing sink fails only that call', async () => {
    const c = await setup();
    const parts: Buffer[] = [];
    const r = await c.articleInto('misc.test', 2, (b) => parts.push(Buffer.from(b)));
    expect(r).toEqual({ number: 2, messageId: '<t@x>', accepted: true });
    expect(Buffer.concat(parts).equals(tricky)).toBe(true);
    const refused = await c.articleInto('misc.test', 1, () => expect.fail('data after a refusal'), (id) => id === '<nope@x>');
    expect(refused).toEqual({ number: 1, messageId: '<a1@x>', accepted: false });
    await expect(c.articleInto('misc.test', 2, () => { throw new Error('sink broke'); })).rejects.toThrow('sink broke');
    // the connection read the rest of that article and still answers in order
    const after: Buffer[] = [];
    await c.articleInto(undefined, '<a5@x>', (b) => after.push(Buffer.from(b)));
    expect(Buffer.concat(after).toString('latin1')).toContain('Subject: five');
    expect(c.closed).toBe(false);
  });

  it('HEAD, BODY, STAT', async () => {
    const c = await setup();
    const head = await c.head('misc.test', 2);
    const split = tricky.indexOf('\r\n\r\n');
    expect(head.head.equals(tricky.subarray(0, split + 2))).toBe(true);
    const body = await c.body('misc.test', 2);
    expect((await readAll(body.stream)).equals(tricky.subarray(split + 4))).toBe(true);
    expect(await c.stat('misc.test', 5)).toEqual({ number: 5, messageId: '<a5@x>' });
    const empty = await c.body('misc.test', 5);
    expect((await readAll(empty.stream)).length).toBe(0);
    expect((await c.headById('<a1@x>')).messageId).toBe('<a1@x>');
  });

  it('OVER parses fields, xref and raw; empty range yields nothing', async () => {
    const c = await setup();
    const recs = [];
    for await (const r of c.over('misc.test', [1, 5])) recs.push(r);
    expect(recs.map((r) => r.number)).toEqual([1, 2, 5]);
    expect(recs[0]).toMatchObject({ subject: 'one', messageId: '<a1@x>', xref: 'fake misc.test:1' });
    expect(recs[0]!.raw[0]!.toString()).toBe('one');
    const none = [];
    for await (const r of c.over('misc.test', [100, 200])) none.push(r);
    expect(none).toEqual([]);
  });

  it('overRecords: the records over() gives, without raw; 423 and an empty range give []', async () => {
    const c = await setup();
    const lines = [];
    for await (const r of c.over('misc.test', [1, 5])) lines.push(r);
    const recs = await c.overRecords('misc.test', [1, 5]);
    expect(recs).toStrictEqual(lines.map(({ raw: _raw, ...r }) => r));
    expect(recs[1]).toMatchObject({ number: 2, subject: 'tricky', xref: 'fake misc.test:2' });
    expect(await c.overRecords('misc.test', [100, 200])).toEqual([]);
    expect(await c.overRecords('misc.test', [3, 2])).toEqual([]);
    // In-Reply-To by field index: here the 8th field (Xref: …) stands in for it
    expect((await c.overRecords('misc.test', [1, 1], 7))[0]!.inReplyTo).toBe('Xref: fake misc.test:1');
    expect((await c.overRecords('misc.test', [1, 1], 9))[0]!.inReplyTo).toBe('');
  });

  it('falls back to XOVER/XHDR without OVER/HDR capability', async () => {
    const c = await setup({ groups: groups(), capabilities: ['VERSION 2', 'READER'] });
    const nums = [];
    for await (const r of c.over('misc.test', [1, 2])) nums.push(r.number);
    expect(nums).toEqual([1, 2]);
    expect((await c.overRecords('misc.test', [5, 5])).map((r) => r.number)).toEqual([5]);
    const hs = [];
    for await (const h of c.hdr('misc.test', 'Subject', [1, 5])) hs.push(`${h.number}=${h.value.toString()}`);
    expect(hs).toEqual(['1=one', '2=tricky', '5=five']);
    expect(peer!.sessions[0]!.received).toContain('XOVER 1-2');
    expect(peer!.sessions[0]!.received).toContain('XOVER 5-5');
    expect(peer!.sessions[0]!.received).toContain('XHDR Subject 1-5');
  });

  it('NO_SUCH_ARTICLE for 423 and 430, connection stays usable', async () => {
    const c = await setup();
    await expect(c.article('misc.test', 3)).rejects.toMatchObject({ code: 'NO_SUCH_ARTICLE', status: 423 });
    await expect(c.articleById('<none@x>')).rejects.toMatchObject({ code: 'NO_SUCH_ARTICLE', status: 430 });
    expect((await c.stat('misc.test', 1)).messageId).toBe('<a1@x>');
  });

  it('rejects invalid arguments before sending anything', async () => {
    const c = await setup();
    await expect(c.group('bad name')).rejects.toMatchObject({ code: 'PROTOCOL' });
    await expect(c.articleById('no-brackets')).rejects.toMatchObject({ code: 'PROTOCOL' });
    await expect(c.group('x\r\nQUIT')).rejects.toBeInstanceOf(NntpError);
    expect(peer!.sessions[0]!.received).toEqual(['CAPABILITIES']);
  });
});

describe('implicit pipelined group selection', () => {
  it('sends GROUP only when the group changes, all without waiting', async () => {
    const c = await setup();
    const results = await Promise.all([
      c.stat('misc.test', 1),
      c.stat('misc.test', 2),
      c.stat('alt.other', 10),
      c.stat('misc.test', 5),
    ]);
    expect(results.map((r) => r.messageId)).toEqual(['<a1@x>', '<t@x>', '<o10@x>', '<a5@x>']);
    expect(peer!.sessions[0]!.received.slice(1)).toEqual([
      'GROUP misc.test',
      'STAT 1',
      'STAT 2',
      'GROUP alt.other',
      'STAT 10',
      'GROUP misc.test',
      'STAT 5',
    ]);
  });

  it('a failed GROUP fails the commands queued behind it even if the server answered them', async () => {
    const c = await setup();
    // Server-side the current group stays misc.test after the failed GROUP, so
    // "ARTICLE 1" would return misc.test's article 1: it must be drained and rejected.
    await c.group('misc.test');
    const p1 = c.article('no.such', 1);
    const p2 = c.stat('no.such', 2);
    const p3 = c.stat('misc.test', 1);
    await expect(p1).rejects.toMatchObject({ code: 'NO_SUCH_GROUP' });
    await expect(p2).rejects.toMatchObject({ code: 'NO_SUCH_GROUP' });
    expect((await p3).messageId).toBe('<a1@x>');
    expect(peer!.sessions[0]!.received.slice(1)).toEqual([
      'GROUP misc.test',
      'GROUP no.such',
      'ARTICLE 1',
      'STAT 2',
      'GROUP misc.test',
      'STAT 1',
    ]);
  });

  it('many commands are written before the first answer arrives (pipelining window)', async () => {
    let answered = false;
    let sawAllBeforeAnswer = false;
    const ps: Promise<unknown>[] = [];
    peer = await startFakePeer(async (s) => {
      s.status('200 ready');
      const caps = await s.readLine();
      s.status('101 caps');
      s.block('VERSION 2\r\nREADER\r\n');
      void caps;
      const lines: string[] = [];
      for (let i = 0; i < 11; i++) lines.push((await s.readLine())!);
      sawAllBeforeAnswer = !answered;
      s.status('211 10 1 10 g');
      for (let i = 1; i <= 10; i++) s.status(`223 ${i} <${i}@x>`);
      answered = true;
    });
    client = await NntpClient.connect({ host: '127.0.0.1', port: peer.port, pipelineWindow: 50, ackNudge: false });
    for (let i = 1; i <= 10; i++) ps.push(client.stat('g', i));
    const r = (await Promise.all(ps)) as Array<{ number: number }>;
    expect(r.map((x) => x.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(sawAllBeforeAnswer).toBe(true);
  });

  it('the window bounds commands in flight', async () => {
    let maxUnanswered = 0;
    peer = await startFakePeer(async (s) => {
      s.status('200 ready');
      await s.readLine();
      s.status('101 caps');
      s.block('VERSION 2\r\nREADER\r\n');
      // Read whatever arrives; answer one command per 5 ms, tracking how many were unanswered.
      let got = 0;
      let answered = 0;
      const reader = (async () => {
        while ((await s.readLine()) !== null) {
          got++;
          maxUnanswered = Math.max(maxUnanswered, got - answered);
        }
      })();
      while (answered < 20) {
        await new Promise((r) => setTimeout(r, 5));
        if (got > answered) {
          answered++;
          s.status('111 20240101000000');
        }
      }
      await reader;
    });
    client = await NntpClient.connect({ host: '127.0.0.1', port: peer.port, pipelineWindow: 3, ackNudge: false });
    await Promise.all(Array.from({ length: 20 }, () => client!.date()));
    expect(maxUnanswered).toBeLessThanOrEqual(3);
    expect(maxUnanswered).toBeGreaterThan(1);
  });
});

describe('streaming and backpressure', () => {
  it('an early-destroyed article stream is drained; the next response is intact', async () => {
    const big = makeArticle('<big@x>', 'big', Buffer.alloc(3 * 1024 * 1024, 'a\r\n'));
    const c = await setup({ groups: { g: group([[1, big], [2, makeArticle('<s@x>', 'small', 'hi\r\n')]]) } });
    const h1 = await c.article('g', 1);
    const p2 = c.article('g', 2);
    // read one chunk then abandon
    await new Promise<void>((resolve) => h1.stream.once('data', () => resolve()));
    h1.stream.destroy();
    const h2 = await p2;
    expect((await readAll(h2.stream)).toString('latin1')).toContain('Message-ID: <s@x>');
    expect(h2.messageId).toBe('<s@x>');
  });

  it('a slow reader pauses the socket: chunks flow before the end, the peer is held back', async () => {
    // 40 MB written by the peer, honouring TCP backpressure; we track how far it gets ahead of the reader.
    const total = 40 * 1024 * 1024;
    let peerSent = 0;
    let peerDone = false;
    peer = await startFakePeer(async (s) => {
      s.status('200 ready');
      await s.readLine();
      s.status('101 caps');
      s.block('VERSION 2\r\nREADER\r\n');
      await s.readLine(); // GROUP
      s.status('211 1 1 1 g');
      await s.readLine(); // ARTICLE 1
      s.status('220 1 <huge@x>');
      const line = Buffer.alloc(1024, 'x');
      line[1022] = 0x0d;
      line[1023] = 0x0a;
      const chunk = Buffer.concat(Array.from({ length: 64 }, () => line));
      while (peerSent < total) {
        peerSent += chunk.length;
        if (!s.socket.write(chunk)) await new Promise((r) => s.socket.once('drain', r));
      }
      s.write('.\r\n');
      peerDone = true;
    });
    client = await NntpClient.connect({ host: '127.0.0.1', port: peer.port });
    const h = await client.article('g', 1);
    let got = 0;
    let maxLead = 0;
    let doneAtFirstMiB: boolean | undefined;
    // A slow sink: 1 ms per 64 KiB write, small buffer of its own.
    const sink = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _enc, cb) {
        got += chunk.length;
        if (doneAtFirstMiB === undefined && got >= 1024 * 1024) doneAtFirstMiB = peerDone;
        maxLead = Math.max(maxLead, peerSent - got);
        setTimeout(cb, 1);
      },
    });
    await pipeline(h.stream, sink);
    expect(got).toBe(total);
    expect(doneAtFirstMiB).toBe(false);
    // Without backpressure the peer would run ~40 MB ahead; socket buffers allow a few MB.
    expect(maxLead).toBeLessThan(12 * 1024 * 1024);
  });

  it('a HEAD over maxHeadBytes rejects but the connection stays usable', async () => {
    const c = await setup({ groups: groups() }, { maxHeadBytes: 50 });
    await expect(c.head('misc.test', 2)).rejects.toMatchObject({ code: 'PROTOCOL' });
    expect((await c.stat('misc.test', 1)).number).toBe(1);
    expect(c.closed).toBe(false);
  });

  it('breaking out of an OVER iteration drains the rest', async () => {
    const arts: Array<[number, Buffer]> = [];
    for (let i = 1; i <= 5000; i++) arts.push([i, makeArticle(`<m${i}@x>`, `s${i}`, 'b\r\n')]);
    const c = await setup({ groups: { g: group(arts) } });
    let n = 0;
    for await (const r of c.over('g', [1, 5000])) {
      n++;
      if (r.number === 3) break;
    }
    expect(n).toBe(3);
    expect((await c.stat('g', 4999)).messageId).toBe('<m4999@x>');
  });

  it('a slow OVER consumer still gets every line in order', async () => {
    const arts: Array<[number, Buffer]> = [];
    for (let i = 1; i <= 6000; i++) arts.push([i, makeArticle(`<m${i}@x>`, `s${i}`, 'b\r\n')]);
    const c = await setup({ groups: { g: group(arts) } });
    let expectNext = 1;
    for await (const r of c.over('g', [1, 6000])) {
      expect(r.number).toBe(expectNext++);
      if (r.number % 1000 === 0) await new Promise((res) => setTimeout(res, 5));
    }
    expect(expectNext).toBe(6001);
  });
});

describe('ACK nudge', () => {
  it('sends DATE when a response is incomplete and nothing else is to be written; its answer is discarded in order', async () => {
    peer = await startFakePeer(async (s) => {
      s.status('200 ready');
      await s.readLine();
      s.status('101 caps');
      s.block('VERSION 2\r\nREADER\r\n');
      await s.readLine(); // GROUP
      await s.readLine(); // ARTICLE 1
      s.status('211 1 1 1 g');
      s.status('220 1 <n@x>');
      // Like nnrpd behind Nagle: the rest comes only after the client sends something.
      if ((await s.readLine()) !== 'DATE') return s.destroy();
      s.write('A: b\r\n\r\nbody\r\n.\r\n');
      s.status('111 20240101000000');
      for (;;) {
        const l = await s.readLine();
        if (l === null) return;
        s.status(l === 'DATE' ? '111 20240101000000' : '223 1 <n@x>');
      }
    });
    client = await NntpClient.connect({ host: '127.0.0.1', port: peer.port, commandTimeoutMs: 1000 });
    const h = await client.article('g', 1);
    expect((await readAll(h.stream)).toString()).toBe('A: b\r\n\r\nbody\r\n');
    expect(await client.stat('g', 1)).toEqual({ number: 1, messageId: '<n@x>' });
    const rec = peer.sessions[0]!.received;
    expect(rec.slice(0, 4)).toEqual(['CAPABILITIES', 'GROUP g', 'ARTICLE 1', 'DATE']);
    expect(rec.filter((l) => l !== 'DATE')).toEqual(['CAPABILITIES', 'GROUP g', 'ARTICLE 1', 'STAT 1']);
  });

  it('is off with ackNudge: false (the stalled peer then times out)', async () => {
    peer = await startFakePeer(async (s) => {
      s.status('200 ready');
      await s.readLine();
      s.status('101 caps');
      s.block('VERSION 2\r\nREADER\r\n');
      await s.readLine();
      await s.readLine();
      s.status('211 1 1 1 g');
      s.status('220 1 <n@x>');
      await s.readLine();
    });
    client = await NntpClient.connect({ host: '127.0.0.1', port: peer.port, commandTimeoutMs: 200, ackNudge: false });
    const h = await client.article('g', 1);
    await expect(readAll(h.stream)).rejects.toMatchObject({ code: 'TIMEOUT' });
  });
});

describe('QUIT', () => {
  it('quit() sends QUIT, closes, and later commands reject with CLOSED', async () => {
    const c = await setup();
    let closed = false;
    c.on('close', () => (closed = true));
    await c.quit();
    expect(closed).toBe(true);
    expect(c.closed).toBe(true);
    expect(peer!.sessions[0]!.received).toContain('QUIT');
    await expect(c.date()).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
