/**
 * Slow and greedy clients, many at once (DESIGN invariants 7 and 8):
 *  - 400 connections that each send 60 KiB of a command line without its
 *    CRLF and then stall (just under the 64 KiB line limit), before login;
 *  - 200 logged-in connections that each announce a 64 KiB literal, get
 *    `+`, send half of it and stall;
 * the server's RSS grows by no more than the bytes held (plus per-connection
 * overhead), another client is served meanwhile, and once the stallers go
 * away the server holds no connection. newsfront runs in a child process
 * (sample archive); its RSS comes from /proc and its connection count from
 * its STATS lines.
 */
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, tagged } from '../imap/raw-client.js';
import { spawnServer, type ChildServer } from '../harness/child-server.js';

const PARTIAL_LINES = 400;
const PARTIAL_BYTES = 60 * 1024;
const HALF_LITERALS = 200;
const LITERAL = 64 * 1024;
/** Held bytes (~31 MB) plus generous per-connection overhead (64 KiB each). */
const RSS_BOUND = PARTIAL_LINES * PARTIAL_BYTES + HALF_LITERALS * LITERAL + (PARTIAL_LINES + HALF_LITERALS) * 64 * 1024;

const rssOf = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

describe('slow and greedy clients', () => {
  let dir: string;
  let nf: ChildServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nf-slow-'));
    writeFileSync(join(dir, 'users'), 'alice:{PLAIN}secret\n');
    nf = await spawnServer({ data: join(dir, 'data'), listen: { host: '127.0.0.1', port: 0 }, users: join(dir, 'users') });
  }, 120_000);
  afterAll(async () => {
    await nf?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`${PARTIAL_LINES} partial lines and ${HALF_LITERALS} half literals held open: bounded memory, others served, nothing left after`, async () => {
    await sleep(1500);
    const rss0 = rssOf(nf.pid);
    const socks: Socket[] = [];
    try {
      const line = Buffer.alloc(PARTIAL_BYTES, 0x61);
      line.write('a LOGIN alice "', 'latin1');
      for (let i = 0; i < PARTIAL_LINES; i++) {
        const s = await open(nf.port);
        s.on('error', () => undefined);
        s.on('data', () => undefined);
        s.write(line);
        socks.push(s);
      }
      for (let i = 0; i < HALF_LITERALS; i++) {
        const c = await RawClient.connect(nf.port);
        await c.cmd('l', 'LOGIN alice secret');
        c.write(`s SEARCH TEXT {${LITERAL}}\r\n`);
        await c.until((t) => t.includes('+'));
        c.write(Buffer.alloc(LITERAL / 2, 0x62));
        socks.push(c.socket);
      }
      await sleep(2000);
      const rss1 = rssOf(nf.pid);
      const other = await RawClient.connect(nf.port);
      expect(tagged(await other.cmd('a', 'LOGIN alice secret', 20_000), 'a')).toMatch(/^a OK/);
      expect(tagged(await other.cmd('b', 'EXAMINE sample.discuss', 20_000), 'b')).toMatch(/^b OK/);
      other.close();
      console.log(
        `[slowloris] ${socks.length} stalled connections: server RSS ${Math.round(rss0 / 1048576)} → ${Math.round(rss1 / 1048576)} MB ` +
          `(bound +${Math.round(RSS_BOUND / 1048576)} MB); STATS connections ${nf.lastStats?.connections}`,
      );
      expect(rss1 - rss0).toBeLessThan(RSS_BOUND);
    } finally {
      for (const s of socks) s.destroy();
    }
    let left = -1;
    for (let i = 0; i < 40; i++) {
      await sleep(500);
      left = nf.lastStats?.connections ?? -1;
      if (left === 0) break;
    }
    expect(left).toBe(0);
    expect(nf.crashed).toBeNull();
  }, 120_000);
});
