/**
 * Hostile input through COMPRESS=DEFLATE (RFC 4978): after `COMPRESS
 * DEFLATE`, a client sends a tiny deflate stream that inflates to 256 MB —
 * once as one endless line (no CRLF), once as 256 MB of pipelined NOOPs it
 * never reads the answers to — and once plain garbage that is not deflate
 * data at all. The server must end or throttle such a session with bounded
 * memory (the line limit is 64 KiB; pipelining is bounded) and keep serving
 * others. newsfront runs in a child process (sample archive) so its RSS can
 * be read from /proc and an OOM would not take the runner down.
 */
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { createDeflateRaw, constants as zc } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, tagged } from '../imap/raw-client.js';
import { spawnServer, type ChildServer } from '../harness/child-server.js';

const BOMB_BYTES = 256 * 1024 * 1024;
const CHUNK = 1024 * 1024;
/** What a bounded server may grow by while inflating: buffers, not the bomb. */
const RSS_BOUND = 96 * 1024 * 1024;

const rssOf = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

/** Logged in, COMPRESS DEFLATE accepted; returns the raw socket (reading nothing further). */
async function compressed(port: number): Promise<Socket> {
  const c = await RawClient.connect(port);
  expect(tagged(await c.cmd('a', 'LOGIN alice secret'), 'a')).toMatch(/^a OK/);
  expect(tagged(await c.cmd('z', 'COMPRESS DEFLATE'), 'z')).toMatch(/^z OK/);
  c.socket.removeAllListeners('data');
  return c.socket;
}

/** Deflates `total` bytes made by `fill` into the socket, with backpressure; stops when the socket closes. */
async function sendBomb(s: Socket, total: number, fill: (chunk: Buffer) => void, pid: number): Promise<{ sent: number; maxRss: number }> {
  const d = createDeflateRaw({ level: 9 });
  let sent = 0;
  let maxRss = rssOf(pid);
  d.on('data', (b: Buffer) => {
    sent += b.length;
    if (!s.destroyed) s.write(b);
  });
  const chunk = Buffer.alloc(CHUNK);
  fill(chunk);
  for (let n = 0; n < total && !s.destroyed; n += CHUNK) {
    if (!d.write(chunk)) await new Promise((r) => d.once('drain', r));
    if (s.writableLength > 4 * CHUNK) await new Promise((r) => setTimeout(r, 5));
    if ((n / CHUNK) % 16 === 0) maxRss = Math.max(maxRss, rssOf(pid));
  }
  d.flush(zc.Z_SYNC_FLUSH);
  await new Promise((r) => setTimeout(r, 500));
  maxRss = Math.max(maxRss, rssOf(pid));
  d.destroy();
  return { sent, maxRss };
}

describe('COMPRESS=DEFLATE bombs', () => {
  let dir: string;
  let nf: ChildServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nf-bomb-'));
    writeFileSync(join(dir, 'users'), 'alice:{PLAIN}secret\n');
    nf = await spawnServer({ data: join(dir, 'data'), listen: { host: '127.0.0.1', port: 0 }, users: join(dir, 'users') });
  }, 120_000);
  afterAll(async () => {
    await nf?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const stillServing = async (): Promise<void> => {
    const c = await RawClient.connect(nf.port);
    expect(tagged(await c.cmd('a', 'LOGIN alice secret'), 'a')).toMatch(/^a OK/);
    expect(tagged(await c.cmd('b', 'EXAMINE sample.discuss'), 'b')).toMatch(/^b OK/);
    c.close();
    expect(nf.crashed).toBeNull();
  };

  it('256 MB of one line without CRLF: memory bounded, others served', async () => {
    const rss0 = rssOf(nf.pid);
    const s = await compressed(nf.port);
    const r = await sendBomb(s, BOMB_BYTES, (b) => b.fill(0x61), nf.pid);
    s.destroy();
    console.log(`[bomb] endless line: ${r.sent} B deflated sent, server RSS ${Math.round(rss0 / 1048576)} → max ${Math.round(r.maxRss / 1048576)} MB`);
    expect(r.maxRss - rss0).toBeLessThan(RSS_BOUND);
    await stillServing();
  }, 120_000);

  it('256 MB of pipelined NOOPs never read: memory bounded, others served', async () => {
    const rss0 = rssOf(nf.pid);
    const s = await compressed(nf.port);
    s.pause();
    const line = Buffer.from('n NOOP\r\n');
    const r = await sendBomb(s, BOMB_BYTES, (b) => {
      for (let i = 0; i + line.length <= b.length; i += line.length) line.copy(b, i);
      b.fill(0x20, b.length - (b.length % line.length));
    }, nf.pid);
    s.destroy();
    console.log(`[bomb] pipelined NOOPs: ${r.sent} B deflated sent, server RSS ${Math.round(rss0 / 1048576)} → max ${Math.round(r.maxRss / 1048576)} MB`);
    expect(r.maxRss - rss0).toBeLessThan(RSS_BOUND);
    await stillServing();
  }, 120_000);

  it('bytes that are not deflate data end the session, nothing else', async () => {
    const s = await compressed(nf.port);
    const closed = new Promise<void>((r) => s.on('close', () => r()));
    s.resume();
    s.write(Buffer.from('this is not a deflate stream \x00\xff\x13\x37'.repeat(100), 'latin1'));
    await Promise.race([closed, new Promise((r) => setTimeout(r, 10_000))]);
    expect(s.destroyed || s.readableEnded).toBe(true);
    s.destroy();
    await stillServing();
  });
});

