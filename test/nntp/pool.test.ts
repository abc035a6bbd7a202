import { afterEach, describe, expect, it, vi } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { NntpPool } from '../../src/nntp/pool.js';
import { fakeNntpServer, makeArticle, startFakePeer, type FakePeer } from './fake-peer.js';

let peer: FakePeer | undefined;
let pool: NntpPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
  await peer?.close();
  peer = undefined;
});

const groups = () => ({
  g: { articles: new Map([[1, makeArticle('<p1@x>', 'one', 'x\r\n')], [2, makeArticle('<p2@x>', 'two', 'y\r\n')]]) },
});

function capturingLogger(): { logger: pino.Logger; lines: Array<{ msg: string }> } {
  const lines: Array<{ msg: string }> = [];
  const dest = new Writable({
    write(chunk: Buffer, _e, cb) {
      lines.push(JSON.parse(chunk.toString()));
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, dest), lines };
}

describe('NntpPool', () => {
  it('connects lazily and at most `size` clients; spreads concurrent work', async () => {
    peer = await startFakePeer(fakeNntpServer({ groups: groups() }));
    pool = new NntpPool({ host: '127.0.0.1', port: peer.port, size: 2 });
    expect(peer.accepted).toBe(0);
    expect(await pool.use((c) => c.stat('g', 1))).toMatchObject({ messageId: '<p1@x>' });
    expect(peer.accepted).toBe(1);
    // Sequential uses reuse the idle client.
    await pool.use((c) => c.stat('g', 2));
    expect(peer.accepted).toBe(1);
    // Concurrent uses open the second client, never a third.
    const seen = new Set<unknown>();
    await Promise.all(
      Array.from({ length: 6 }, () =>
        pool!.use(async (c) => {
          seen.add(c);
          await new Promise((r) => setTimeout(r, 10));
          return c.stat('g', 1);
        }),
      ),
    );
    expect(seen.size).toBe(2);
    expect(peer.accepted).toBe(2);
  });

  it('warm(n) opens n connections (at most `size`) before any use, and later uses find them', async () => {
    peer = await startFakePeer(fakeNntpServer({ groups: groups() }));
    pool = new NntpPool({ host: '127.0.0.1', port: peer.port, size: 2 });
    await pool.warm(3);
    expect(peer.accepted).toBe(2);
    expect(pool.connections).toBe(2);
    await Promise.all([pool.use((c) => c.stat('g', 1)), pool.use((c) => c.stat('g', 2))]);
    expect(peer.accepted).toBe(2);
  });

  it('warm resolves when connecting fails (the next use connects again)', async () => {
    peer = await startFakePeer(fakeNntpServer({ groups: groups() }));
    const port = peer.port;
    await peer.close();
    peer = undefined;
    pool = new NntpPool({ host: '127.0.0.1', port, size: 2 });
    await expect(pool.warm(2)).resolves.toBeUndefined();
    expect(pool.connections).toBe(0);
  });

  it('bulk uses fill one client up to its pipeline window before the next; single uses still go to the least busy', async () => {
    peer = await startFakePeer(fakeNntpServer({ groups: groups() }));
    pool = new NntpPool({ host: '127.0.0.1', port: peer.port, size: 3, pipelineWindow: 4 });
    await pool.use((c) => c.stat('g', 1)); // one connected client
    const clients: unknown[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const held = (bulk: boolean) =>
      pool!.use(async (c) => {
        clients.push(c);
        await gate;
        return c.stat('g', 1);
      }, bulk);
    const bulk = Array.from({ length: 6 }, () => held(true));
    await new Promise((r) => setTimeout(r, 50));
    expect(new Set(clients.slice(0, 4)).size).toBe(1); // the first 4 share the first client
    expect(clients[4]).not.toBe(clients[0]); // the window is full: the fifth goes on
    expect(clients[5]).toBe(clients[4]);
    const single = held(false); // least busy: neither of the two (4 and 2 in progress) but a third client
    await new Promise((r) => setTimeout(r, 50));
    expect(clients[6]).not.toBe(clients[0]);
    expect(clients[6]).not.toBe(clients[4]);
    release();
    await Promise.all([...bulk, single]);
    expect(peer.accepted).toBe(3);
  });

  it('background uses keep off one connection; client uses (bulk or single) go first to a connection without background work', async () => {
    peer = await startFakePeer(fakeNntpServer({ groups: groups() }));
    pool = new NntpPool({ host: '127.0.0.1', port: peer.port, size: 3, pipelineWindow: 100 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const held = (mode: boolean | 'background', into: unknown[]) =>
      pool!.use(async (c) => {
        into.push(c);
        await gate;
        return c.stat('g', 1);
      }, mode);
    const bg: unknown[] = [];
    const background = Array.from({ length: 7 }, () => held('background', bg));
    await vi.waitFor(() => expect(bg).toHaveLength(7), { timeout: 5000 });
    expect(new Set(bg).size).toBe(2); // size - 1 connections at most
    const fg: unknown[] = [];
    const bulk = Array.from({ length: 5 }, () => held(true, fg));
    const single = held(false, fg);
    await vi.waitFor(() => expect(fg).toHaveLength(6), { timeout: 5000 });
    expect(new Set(fg).size).toBe(1); // all on the third connection, even the single one (it is busy, but the pool is full)
    expect(bg).not.toContain(fg[0]);
    release();
    await Promise.all([...background, ...bulk, single]);
    expect(peer.accepted).toBe(3);
    // once the background work is over, client uses may go anywhere again
    const after: unknown[] = [];
    await Promise.all([held(false, after), held(false, after), held(false, after)]);
    expect(new Set(after).size).toBe(3);
  });

  it('with one connection, background and client uses share it', async () => {
    peer = await startFakePeer(fakeNntpServer({ groups: groups() }));
    pool = new NntpPool({ host: '127.0.0.1', port: peer.port, size: 1 });
    const seen = new Set<unknown>();
    await Promise.all([
      pool.use(async (c) => (seen.add(c), c.stat('g', 1)), 'background'),
      pool.use(async (c) => (seen.add(c), c.stat('g', 2)), true),
      pool.use(async (c) => (seen.add(c), c.stat('g', 2))),
    ]);
    expect(seen.size).toBe(1);
    expect(peer.accepted).toBe(1);
  });

  it('peer closes a connection: the next use reconnects and logs it', async () => {
    peer = await startFakePeer(fakeNntpServer({ groups: groups() }));
    const { logger, lines } = capturingLogger();
    pool = new NntpPool({ host: '127.0.0.1', port: peer.port, size: 1, logger });
    await pool.use((c) => c.stat('g', 1));
    const first = await pool.use(async (c) => c);
    const closed = new Promise((r) => first.on('close', () => r(undefined)));
    peer.sessions[0]!.destroy();
    await closed;
    expect(await pool.use((c) => c.stat('g', 2))).toMatchObject({ number: 2 });
    expect(peer.accepted).toBe(2);
    expect(lines.some((l) => /reconnect/.test(l.msg))).toBe(true);
  });

  it('retries once when the connection dies before any data reached the caller', async () => {
    let conns = 0;
    const normal = fakeNntpServer({ groups: groups() });
    peer = await startFakePeer(async (s) => {
      conns++;
      if (conns === 1) {
        // First connection: fine handshake, then dies on the first real command.
        s.status('200 hi');
        await s.readLine();
        s.status('101 caps');
        s.block('VERSION 2\r\nREADER\r\n');
        await s.readLine();
        s.destroy();
        return;
      }
      await normal(s);
    });
    pool = new NntpPool({ host: '127.0.0.1', port: peer.port, size: 1 });
    expect(await pool.use((c) => c.stat('g', 1))).toMatchObject({ number: 1 });
    expect(conns).toBe(2);
  });

  it('does not retry forever: a second failure is rethrown', async () => {
    peer = await startFakePeer((s) => s.status('400 go away'));
    pool = new NntpPool({ host: '127.0.0.1', port: peer.port, size: 1 });
    await expect(pool.use((c) => c.date())).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(peer.accepted).toBe(2);
  });

  it('does not retry after data was delivered to the caller', async () => {
    peer = await startFakePeer(async (s) => {
      s.status('200 hi');
      await s.readLine();
      s.status('101 caps');
      s.block('VERSION 2\r\nREADER\r\nOVER\r\n');
      await s.readLine(); // GROUP
      s.status('211 2 1 2 g');
      await s.readLine(); // OVER
      s.status('224 ov');
      s.write('1\ta\tb\tc\t<m@x>\t\t1\t1\r\n');
      setTimeout(() => s.destroy(), 20);
    });
    pool = new NntpPool({ host: '127.0.0.1', port: peer.port, size: 1 });
    const got: number[] = [];
    await expect(
      pool.use(async (c) => {
        for await (const r of c.over('g', [1, 2])) got.push(r.number);
      }),
    ).rejects.toMatchObject({ code: 'CLOSED' });
    expect(got).toEqual([1]);
    expect(peer.accepted).toBe(1);
  });

  it('non-retryable errors pass through; close() quits and later uses fail', async () => {
    peer = await startFakePeer(fakeNntpServer({ groups: groups() }));
    pool = new NntpPool({ host: '127.0.0.1', port: peer.port });
    await expect(pool.use((c) => c.stat('nope', 1))).rejects.toMatchObject({ code: 'NO_SUCH_GROUP' });
    await pool.close();
    expect(peer.sessions[0]!.received).toContain('QUIT');
    await expect(pool.use((c) => c.date())).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
