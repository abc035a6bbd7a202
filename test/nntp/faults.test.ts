/**
 * Fault tests: a scripted peer misbehaves; each case must end in a typed
 * NntpError, without a crash, an unhandled rejection, or a hang (short timeouts
 * in client options, not long test timeouts).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as net from 'node:net';
import { NntpClient } from '../../src/nntp/client.js';
import { startFakePeer, type FakePeer, type FakeSession } from './fake-peer.js';

const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);
beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUnhandled);
});

let peer: FakePeer | undefined;
let client: NntpClient | undefined;
afterEach(async () => {
  client?.destroy();
  client = undefined;
  await peer?.close();
  peer = undefined;
  // let any stray rejection surface before checking
  await new Promise((r) => setTimeout(r, 20));
  expect(unhandled.splice(0)).toEqual([]);
});

/** Short enough to keep tests quick, long enough for a loaded 2-core box; timeout tests set their own. */
const FAST = { greetingTimeoutMs: 3000, commandTimeoutMs: 3000, ackNudge: false };

/** Greeting and CAPABILITIES, then `script` takes over. */
function afterHello(script: (s: FakeSession) => Promise<void>) {
  return async (s: FakeSession) => {
    s.status('200 hi');
    await s.readLine();
    s.status('101 caps');
    s.block('VERSION 2\r\nREADER\r\nOVER\r\n');
    await script(s);
  };
}

async function connect(onConn: (s: FakeSession) => void | Promise<void>, extra = {}): Promise<NntpClient> {
  peer = await startFakePeer(onConn);
  client = await NntpClient.connect({ host: '127.0.0.1', port: peer.port, ...FAST, ...extra });
  return client;
}

function connectOnly(onConn: (s: FakeSession) => void | Promise<void>, extra = {}) {
  return startFakePeer(onConn).then((p) => {
    peer = p;
    return NntpClient.connect({ host: '127.0.0.1', port: p.port, ...FAST, ...extra });
  });
}

describe('faults before the session', () => {
  it('close before greeting → CLOSED', async () => {
    await expect(connectOnly((s) => s.destroy())).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('400 greeting → UNAVAILABLE', async () => {
    await expect(connectOnly((s) => s.status('400 service temporarily unavailable'))).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      status: 400,
    });
  });

  it('502 greeting → UNAVAILABLE', async () => {
    await expect(connectOnly((s) => s.status('502 go away'))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('silent peer → TIMEOUT on the greeting', async () => {
    await expect(connectOnly(() => {}, { greetingTimeoutMs: 300 })).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('garbage greeting → PROTOCOL', async () => {
    await expect(connectOnly((s) => s.write('HELLO THERE\r\n'))).rejects.toMatchObject({ code: 'PROTOCOL' });
  });

  it('connection refused → CLOSED, not an exception', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    await expect(NntpClient.connect({ host: '127.0.0.1', port, ...FAST })).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('AUTHINFO rejected → AUTH_FAILED', async () => {
    const p = connectOnly(
      afterHello(async (s) => {
        await s.readLine();
        s.status('381 more');
        await s.readLine();
        s.status('481 no');
      }),
      { user: 'u', password: 'p' },
    );
    await expect(p).rejects.toMatchObject({ code: 'AUTH_FAILED', status: 481 });
    expect(peer!.sessions[0]!.received.slice(1)).toEqual(['AUTHINFO USER u', 'AUTHINFO PASS p']);
  });
});

describe('faults during a session', () => {
  it('garbage status line → PROTOCOL, connection destroyed, queued commands CLOSED', async () => {
    const c = await connect(
      afterHello(async (s) => {
        await s.readLine();
        s.write('\x00\x01garbage\r\n');
      }),
    );
    const p1 = c.date();
    const p2 = c.date();
    await expect(p1).rejects.toMatchObject({ code: 'PROTOCOL' });
    await expect(p2).rejects.toMatchObject({ code: 'CLOSED' });
    expect(c.closed).toBe(true);
  });

  it('unexpected status → UNEXPECTED_STATUS with the status, connection stays', async () => {
    const c = await connect(
      afterHello(async (s) => {
        await s.readLine();
        s.status('299 what is this');
        await s.readLine();
        s.status('111 20240101000000');
      }),
    );
    await expect(c.date()).rejects.toMatchObject({ code: 'UNEXPECTED_STATUS', status: 299 });
    expect((await c.date()).getUTCFullYear()).toBe(2024);
  });

  it('oversized status line → PROTOCOL', async () => {
    const c = await connect(
      afterHello(async (s) => {
        await s.readLine();
        s.write('111 ' + 'x'.repeat(5000));
      }),
      { maxLineBytes: 1024 },
    );
    await expect(c.date()).rejects.toMatchObject({ code: 'PROTOCOL' });
    expect(c.closed).toBe(true);
  });

  it('oversized overview line → PROTOCOL, iteration rejects', async () => {
    const c = await connect(
      afterHello(async (s) => {
        await s.readLine(); // GROUP
        s.status('211 1 1 1 g');
        await s.readLine(); // OVER
        s.status('224 ov');
        s.write('1\t' + 'y'.repeat(3000) + '\r\n.\r\n');
      }),
      { maxLineBytes: 1024 },
    );
    const it = c.over('g', [1, 1])[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toMatchObject({ code: 'PROTOCOL' });
    expect(c.closed).toBe(true);
  });

  it('early close mid-article → stream errors with CLOSED; pending commands CLOSED', async () => {
    const c = await connect(
      afterHello(async (s) => {
        await s.readLine(); // GROUP
        s.status('211 1 1 1 g');
        await s.readLine(); // ARTICLE
        s.status('220 1 <a@b>');
        s.write('Subject: half\r\n\r\nsome body');
        setTimeout(() => s.destroy(), 20);
      }),
    );
    const h = await c.article('g', 1);
    const p2 = c.stat('g', 1);
    const chunks: Buffer[] = [];
    const err = await new Promise<unknown>((resolve) => {
      h.stream.on('data', (d: Buffer) => chunks.push(d));
      h.stream.on('error', resolve);
      h.stream.on('end', () => resolve(undefined));
    });
    expect(err).toMatchObject({ code: 'CLOSED' });
    expect(Buffer.concat(chunks).toString()).toBe('Subject: half\r\n\r\nsome body');
    await expect(p2).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('close mid-article with nobody reading the stream does not crash', async () => {
    const c = await connect(
      afterHello(async (s) => {
        await s.readLine();
        s.status('211 1 1 1 g');
        await s.readLine();
        s.status('220 1 <a@b>');
        s.write('partial');
        setTimeout(() => s.destroy(), 10);
      }),
    );
    const h = await c.article('g', 1);
    await new Promise((r) => c.on('close', () => r(undefined)));
    expect(h.stream.destroyed).toBe(true);
  });

  it('slow drip (1 byte every 2 ms) is parsed correctly and does not time out', async () => {
    const wire = '211 1 1 1 g\r\n220 1 <d@x>\r\nA: b\r\n\r\n..dot\r\nx\r\n.\r\n';
    const c = await connect(
      afterHello(async (s) => {
        await s.readLine();
        await s.readLine();
        for (const ch of wire) {
          s.write(ch);
          await new Promise((r) => setTimeout(r, 2));
        }
      }),
      { commandTimeoutMs: 1000 },
    );
    const h = await c.article('g', 1);
    const parts: Buffer[] = [];
    for await (const d of h.stream) parts.push(d as Buffer);
    expect(Buffer.concat(parts).toString()).toBe('A: b\r\n\r\n.dot\r\nx\r\n');
  });

  it('silent peer after a command → TIMEOUT, connection destroyed, others CLOSED', async () => {
    const c = await connect(afterHello(async (s) => void (await s.readLine())), { commandTimeoutMs: 150 });
    const p1 = c.date();
    const p2 = c.date();
    await expect(p1).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(p2).rejects.toMatchObject({ code: 'CLOSED' });
    expect(c.closed).toBe(true);
  });

  it('an article that keeps coming for longer than the command timeout is not cut (the timer restarts per chunk)', async () => {
    const c = await connect(
      afterHello(async (s) => {
        await s.readLine();
        s.status('211 1 1 1 g');
        await s.readLine();
        s.status('220 1 <a@b>');
        for (let i = 0; i < 8; i++) {
          s.write(`Line-${i}: ${'y'.repeat(40)}\r\n`);
          await new Promise((r) => setTimeout(r, 60));
        }
        s.write('\r\nbody\r\n.\r\n');
      }),
      { commandTimeoutMs: 200 },
    );
    const h = await c.article('g', 1);
    const parts: Buffer[] = [];
    for await (const d of h.stream) parts.push(d as Buffer);
    expect(Buffer.concat(parts).toString()).toMatch(/^Line-0: y+\r\n[^]*\r\n\r\nbody\r\n$/);
    expect(c.closed).toBe(false);
  });

  it('peer stalls mid-article → stream errors with TIMEOUT', async () => {
    const c = await connect(
      afterHello(async (s) => {
        await s.readLine();
        s.status('211 1 1 1 g');
        await s.readLine();
        s.status('220 1 <a@b>');
        s.write('Subject: x\r\n');
      }),
      { commandTimeoutMs: 150 },
    );
    const h = await c.article('g', 1);
    const err = await new Promise<unknown>((resolve) => {
      h.stream.resume();
      h.stream.on('error', resolve);
      h.stream.on('end', () => resolve(undefined));
    });
    expect(err).toMatchObject({ code: 'TIMEOUT' });
  });

  it('a paused consumer does not trigger the command timeout', async () => {
    const c = await connect(
      afterHello(async (s) => {
        await s.readLine();
        s.status('211 1 1 1 g');
        await s.readLine();
        s.status('220 1 <a@b>');
        s.write(Buffer.alloc(2 * 1024 * 1024, 'z'));
        s.write('\r\n.\r\n');
      }),
      { commandTimeoutMs: 100 },
    );
    const h = await c.article('g', 1);
    await new Promise((r) => setTimeout(r, 400)); // consumer idle far longer than the timeout
    let n = 0;
    for await (const d of h.stream) n += (d as Buffer).length;
    expect(n).toBe(2 * 1024 * 1024 + 2);
    expect(c.closed).toBe(false);
  });

  it('destroy() rejects everything in flight with CLOSED', async () => {
    const c = await connect(afterHello(async (s) => void (await s.readLine())), { commandTimeoutMs: 5000 });
    const ps = [c.date(), c.stat('g', 1), c.listActive()];
    c.destroy(new Error('shutting down'));
    for (const p of ps) await expect(p).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('unsolicited 400 while idle (server timeout) → connection closed cleanly', async () => {
    const c = await connect(
      afterHello(async (s) => {
        await new Promise((r) => setTimeout(r, 50));
        s.status('400 idle timeout');
        s.end();
      }),
    );
    if (!c.closed) await new Promise((r) => c.on('close', () => r(undefined)));
    await expect(c.date()).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('peer closes while idle → close event, next command CLOSED', async () => {
    const c = await connect(afterHello(async (s) => s.end()));
    await new Promise((r) => c.on('close', () => r(undefined)));
    await expect(c.date()).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
