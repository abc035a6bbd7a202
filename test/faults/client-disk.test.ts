/**
 * Faults on the client side and on the disk, newsfront in this process over
 * a real INN (so `nf.imap.connectionCount` and /proc/self/fd can be read):
 *  - the disk cache directory (`<data>/cache`) deleted under a running
 *    server: cached and uncached bodies are still served, byte-exact;
 *  - clients that disconnect mid-literal (announce `{100}`, get `+`, send 10
 *    bytes, close) and mid-FETCH of a large article: afterwards the server
 *    holds no connection and no extra file descriptors;
 *  - clients that ask for a large article and stop reading: the server does
 *    not buffer the article for them (RSS grows far less than the bytes
 *    asked for; DESIGN invariant 7);
 *  - readers that abandon a large article while it is still downloading:
 *    no connection or descriptor left once the download ends, and the next
 *    reader gets the article byte-exact.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNewsfront } from '../../src/app/start.js';
import { startStack, type Stack } from '../harness/stack.js';
import { RawClient, bodyLiterals, tagged } from '../imap/raw-client.js';

const GROUP = 'faults.disk';
/** Decoded attachment; the article is ~1.37× this. */
const ATTACHMENT = 12 * 1024 * 1024;
const STALLED_CLIENTS = 5;
/** A stalled client may cost socket buffers and a read chunk or two, not the article. */
const STALLED_RSS_BOUND = 64 * 1024 * 1024;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const fds = (): number => readdirSync('/proc/self/fd').length;

/** This process's descriptors: `fd:target`, and for TCP sockets the remote ports (from /proc/net/tcp*). */
function openFds(): { what: string; peerPorts: number[] }[] {
  const peers = new Map<string, number[]>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const port = parseInt(f[2]!.split(':')[1]!, 16);
      peers.set(f[9]!, [...(peers.get(f[9]!) ?? []), port]);
    }
  }
  return readdirSync('/proc/self/fd').map((fd) => {
    let target = '';
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      // closed meanwhile
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    return { what: `${fd}:${target}`, peerPorts: inode ? (peers.get(inode) ?? []) : [] };
  });
}

async function waitFor(pred: () => boolean, ms = 20_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await sleep(50);
  }
  return pred();
}

async function bodies(c: RawClient, tag: string, range: string): Promise<Map<number, Buffer>> {
  c.write(`${tag} UID FETCH ${range} (UID BODY.PEEK[])\r\n`);
  await c.until((t) => new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`).test(t), 60_000);
  const buf = c.takeBuffer();
  const text = buf.toString('latin1');
  expect(tagged(text, tag)).toMatch(new RegExp(`^${tag} OK`));
  return bodyLiterals(buf);
}

/** A raw socket logged in with the group selected (greeting and replies skipped). */
async function rawSession(port: number): Promise<Socket> {
  const c = await RawClient.connect(port);
  await c.cmd('a', 'LOGIN alice secret');
  await c.cmd('b', `EXAMINE ${GROUP}`);
  c.socket.removeAllListeners('data');
  return c.socket;
}

describe('client and disk faults', () => {
  let stack: Stack;
  // Idle NNTP pool connections (at most poolSize, kept for reuse) are not a leak:
  // only descriptors other than sockets to INN must come back to where they were.
  const ownFds = (): string[] => openFds().filter((d) => !d.peerPorts.includes(stack.inn.port)).map((d) => d.what);
  /** The stack's in-process front-end (replaced by the last test). */
  let nf: RunningNewsfront;
  let stored: Buffer[];
  let largeUid: number;
  let largeSize: number;

  beforeAll(async () => {
    stack = await startStack({ corpus: { seed: 909, groups: [GROUP], perGroup: 40, largeAttachmentBytes: ATTACHMENT } });
    nf = stack.nf;
    const corpus = stack.corpus;
    stored = await stack.inn.storedArticles(corpus.map((a) => a.messageId));
    const large = corpus.reduce((a, b) => (b.bytes.length > a.bytes.length ? b : a));
    largeUid = corpus.indexOf(large) + 1;
    largeSize = stored[largeUid - 1]!.length;
  }, 180_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('serves cached and uncached bodies after <data>/cache was deleted', async () => {
    const c = await RawClient.connect(nf.port);
    try {
      await c.cmd('a', 'LOGIN alice secret');
      await c.cmd('b', `EXAMINE ${GROUP}`);
      const first = await bodies(c, 'c', '1:10');
      expect(first.size).toBe(10);
      const cache = join(stack.dir, 'data', 'cache');
      expect(existsSync(cache)).toBe(true);
      rmSync(cache, { recursive: true, force: true });
      expect(largeUid).toBeGreaterThan(20);
      const again = await bodies(c, 'd', '1:20');
      expect(again.size).toBe(20);
      for (let uid = 1; uid <= 20; uid++) expect(again.get(uid)?.equals(stored[uid - 1]!), `UID ${uid}`).toBe(true);
      // and it caches again: a third read of fresh articles works too
      const small = Array.from({ length: 10 }, (_, i) => 21 + i).map((u) => (u >= largeUid ? u + 1 : u));
      const third = await bodies(c, 'e', small.join(','));
      expect(third.size).toBe(small.length);
      for (const uid of small) expect(third.get(uid)?.equals(stored[uid - 1]!), `UID ${uid}`).toBe(true);
    } finally {
      c.close();
    }
  });

  it('clients that vanish mid-literal or mid-FETCH leave no connection or descriptor behind', async () => {
    // warm up: the large article cached, pools connected, one session seen through
    const w = await RawClient.connect(nf.port);
    await w.cmd('a', 'LOGIN alice secret');
    await w.cmd('b', `EXAMINE ${GROUP}`);
    expect(tagged(await w.cmd('c', `UID FETCH ${largeUid} (RFC822.SIZE BODY.PEEK[]<0.10>)`, 60_000), 'c')).toMatch(/^c OK/);
    w.close();
    expect(await waitFor(() => nf.imap.connectionCount === 0)).toBe(true);
    const fd0 = fds();
    const own0 = ownFds();

    for (let i = 0; i < 20; i++) {
      const c = await RawClient.connect(nf.port);
      await c.cmd('a', 'LOGIN alice secret');
      c.write('s SEARCH TEXT {100}\r\n');
      await c.until((t) => t.startsWith('+'));
      c.write('0123456789');
      c.close();
    }
    for (let i = 0; i < 10; i++) {
      const s = await rawSession(nf.port);
      let got = 0;
      await new Promise<void>((resolve) => {
        s.on('data', (d: Buffer) => {
          got += d.length;
          if (got > 1024 * 1024) {
            s.destroy();
            resolve();
          }
        });
        s.on('close', () => resolve());
        s.write(`f UID FETCH ${largeUid} (BODY.PEEK[])\r\n`);
      });
    }
    const drained = await waitFor(() => nf.imap.connectionCount === 0);
    expect(drained, `connections left: ${nf.imap.connectionCount}`).toBe(true);
    const left = (): string[] => ownFds().filter((x) => !own0.includes(x));
    expect(await waitFor(() => left().length <= 2), `descriptors left: ${left().join(' ')}`).toBe(true);
    console.log(`[client-faults] fds before ${fd0}, after ${fds()}; connections ${nf.imap.connectionCount}`);

    // still serving
    const c = await RawClient.connect(nf.port);
    expect(tagged(await c.cmd('a', 'LOGIN alice secret'), 'a')).toMatch(/^a OK/);
    c.close();
  });

  it(`${STALLED_CLIENTS} clients that stop reading a large article do not make the server buffer it`, async () => {
    const rss0 = process.memoryUsage().rss;
    const socks: Socket[] = [];
    for (let i = 0; i < STALLED_CLIENTS; i++) {
      const s = await rawSession(nf.port);
      s.pause();
      s.write(`f UID FETCH ${largeUid} (BODY.PEEK[])\r\n`);
      socks.push(s);
    }
    // let the server push what it will
    await sleep(3000);
    const rss1 = process.memoryUsage().rss;
    for (const s of socks) s.destroy();
    const grown = rss1 - rss0;
    console.log(`[client-faults] ${STALLED_CLIENTS} stalled FETCHes of ${largeSize} B: RSS +${Math.round(grown / 1048576)} MB (bound ${STALLED_RSS_BOUND / 1048576} MB; all buffered would be ${Math.round((STALLED_CLIENTS * largeSize) / 1048576)} MB)`);
    expect(grown).toBeLessThan(STALLED_RSS_BOUND);
    expect(await waitFor(() => nf.imap.connectionCount === 0)).toBe(true);
  });

  it('readers that abandon a large article while it downloads leave nothing behind; the next reader gets it whole', async () => {
    // a fresh server: the large article is not cached yet
    nf = await stack.restartFrontend({ data: join(stack.dir, 'data-fresh') });
    const warm = await RawClient.connect(nf.port);
    await warm.cmd('a', 'LOGIN alice secret');
    await warm.cmd('b', `EXAMINE ${GROUP}`);
    await warm.cmd('c', 'UID FETCH 1 (BODY.PEEK[])');
    warm.close();
    expect(await waitFor(() => nf.imap.connectionCount === 0)).toBe(true);
    const before = ownFds();
    await Promise.all(
      Array.from({ length: 5 }, async (_, i) => {
        const s = await rawSession(nf.port);
        let got = 0;
        await new Promise<void>((resolve) => {
          // some leave while the server still waits for the download, some once bytes flow
          if (i % 2 === 0) {
            setTimeout(() => {
              s.destroy();
              resolve();
            }, 5 + i * 10);
          }
          s.on('data', (d: Buffer) => {
            got += d.length;
            if (got > 256 * 1024) {
              s.destroy();
              resolve();
            }
          });
          s.on('close', () => resolve());
          s.write(`f UID FETCH ${largeUid} (BODY.PEEK[])\r\n`);
        });
      }),
    );
    expect(await waitFor(() => nf.imap.connectionCount === 0)).toBe(true);
    // the download may finish in the background; its file handle must close then
    const leaked = (): string[] => ownFds().filter((x) => !before.includes(x));
    expect(await waitFor(() => leaked().length <= 2, 30_000), `descriptors left: ${leaked().join(' ')}`).toBe(true);
    const c = await RawClient.connect(nf.port);
    try {
      await c.cmd('a', 'LOGIN alice secret');
      await c.cmd('b', `EXAMINE ${GROUP}`);
      c.write(`g UID FETCH ${largeUid} (BODY.PEEK[])\r\n`);
      // hash the literal as it streams (RawClient would buffer 17 MB by concatenation)
      c.socket.removeAllListeners('data');
      const sha = createHash('sha256');
      let head = Buffer.alloc(0);
      let left = -1;
      let tail = '';
      await new Promise<void>((resolve, reject) => {
        c.socket.on('data', (d: Buffer) => {
          if (left < 0) {
            head = Buffer.concat([head, d]);
            const m = /BODY\[\] \{(\d+)\}\r\n/.exec(head.toString('latin1'));
            if (!m) return;
            left = Number(m[1]);
            d = head.subarray(m.index + m[0].length);
          }
          const take = Math.min(left, d.length);
          sha.update(d.subarray(0, take));
          left -= take;
          tail += d.subarray(take).toString('latin1');
          if (left === 0 && /\r\ng (OK|NO|BAD)/.test(tail)) resolve();
        });
        c.socket.on('close', () => reject(new Error('closed')));
      });
      expect(tail).toMatch(/\r\ng OK/);
      expect(sha.digest('hex')).toBe(createHash('sha256').update(stored[largeUid - 1]!).digest('hex'));
    } finally {
      c.close();
    }
  }, 120_000);
});
