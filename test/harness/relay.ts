/**
 * A TCP relay for fault and model tests, put between newsfront and its NNTP
 * upstream (or any TCP service):
 *
 *     const relay = await startRelay(inn.port);
 *     // upstream url: nntp://127.0.0.1:${relay.port}
 *     relay.down            // bytes upstream → client so far (what newsfront fetched)
 *     relay.cut()           // destroy every open connection and refuse new ones
 *     relay.holdAfter(n)    // a slow upstream: after n more bytes keep what comes (nothing dropped) …
 *     relay.release()       // … and send it on
 *     relay.restore()       // accept (and relay) again
 *     await relay.close()
 *
 * Why a relay and not stopping INN: a stopped innd leaves its open nnrpd
 * connections answering, so only cutting the sockets shows newsfront a dead
 * upstream. While cut, new connections are accepted and destroyed at once
 * (the listener stays bound so the port is not lost to another process).
 *
 * Counting: `down` counts bytes the target sent, `up` bytes the client sent;
 * `mark()` returns the counters now so a test can take a difference.
 * Nothing here throws after start; socket errors just end the pair.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface Relay {
  readonly port: number;
  /** Bytes from the target to the clients so far. */
  readonly down: number;
  /** Bytes from the clients to the target so far. */
  readonly up: number;
  /** Client connections currently open through the relay. */
  readonly open: number;
  /** Connections accepted so far (including ones refused while cut). */
  readonly accepted: number;
  /** The last 64 KB the clients sent (commands, for NNTP), as latin1 text. */
  readonly sent: string;
  /** Lines sent by the clients, counted by their first word upper-cased (NNTP verbs). */
  verbs(): Record<string, number>;
  cut(): void;
  restore(): void;
  /** Point new connections at another target port (old ones stay). */
  retarget(port: number): void;
  /**
   * Stop forwarding target → client once `down` has grown by `bytes` more
   * (the held bytes are dropped): a stalled upstream, e.g. to cut it while a
   * FETCH is running. Resolves when the stall begins. `restore()` and `cut()` end it.
   */
  stallAfter(bytes: number): Promise<void>;
  /**
   * Stop forwarding target → client once `down` has grown by `bytes` more,
   * keeping what arrives (the targets are paused: nothing is dropped), e.g.
   * an article held mid-way. Resolves when the hold begins. `release()` sends
   * what was kept and relays on; `held` counts the bytes kept meanwhile.
   */
  holdAfter(bytes: number): Promise<void>;
  release(): void;
  readonly held: number;
  close(): Promise<void>;
}

export async function startRelay(targetPort: number, targetHost = '127.0.0.1'): Promise<Relay> {
  let down = 0;
  let up = 0;
  let accepted = 0;
  let sent = '';
  const verbCount: Record<string, number> = {};
  let isCut = false;
  let target = targetPort;
  let stallAt = Infinity;
  let onStall: (() => void) | null = null;
  let holdAt = Infinity;
  let onHold: (() => void) | null = null;
  const kept: Array<{ client: Socket; peer: Socket; d: Buffer }> = [];
  const pairs = new Set<Socket>();

  const server: Server = createServer((client) => {
    accepted++;
    if (isCut) {
      client.destroy();
      return;
    }
    const peer = connect(target, targetHost);
    peer.setNoDelay(true);
    client.setNoDelay(true);
    pairs.add(client);
    pairs.add(peer);
    const end = (): void => {
      client.destroy();
      peer.destroy();
      pairs.delete(client);
      pairs.delete(peer);
    };
    client.on('error', end);
    peer.on('error', end);
    client.on('close', end);
    peer.on('close', end);
    peer.on('data', (d: Buffer) => {
      if (down >= holdAt || kept.length > 0) {
        kept.push({ client, peer, d });
        peer.pause();
        onHold?.();
        onHold = null;
        return;
      }
      if (down >= stallAt) {
        onStall?.();
        onStall = null;
        return;
      }
      down += d.length;
      if (!client.write(d)) peer.pause();
    });
    client.on('drain', () => peer.resume());
    let partial = '';
    client.on('data', (d: Buffer) => {
      up += d.length;
      const text = d.toString('latin1');
      sent = (sent + text).slice(-65536);
      const lines = (partial + text).split('\r\n');
      partial = lines.pop()!.slice(-1024);
      for (const l of lines) {
        const v = /^\S*/.exec(l)![0].toUpperCase().slice(0, 16);
        verbCount[v] = (verbCount[v] ?? 0) + 1;
      }
      if (!peer.write(d)) client.pause();
    });
    peer.on('drain', () => client.resume());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    port,
    get down() {
      return down;
    },
    get up() {
      return up;
    },
    get open() {
      return pairs.size / 2;
    },
    get accepted() {
      return accepted;
    },
    get sent() {
      return sent;
    },
    verbs() {
      return { ...verbCount };
    },
    stallAfter(bytes: number) {
      stallAt = down + bytes;
      return new Promise<void>((r) => {
        onStall = r;
      });
    },
    holdAfter(bytes: number) {
      holdAt = down + bytes;
      return new Promise<void>((r) => {
        onHold = r;
      });
    },
    release() {
      holdAt = Infinity;
      onHold = null;
      const all = kept.splice(0);
      for (const { client, d } of all) {
        down += d.length;
        client.write(d);
      }
      for (const { peer } of all) peer.resume();
    },
    get held() {
      return kept.reduce((n, k) => n + k.d.length, 0);
    },
    cut() {
      stallAt = Infinity;
      onStall = null;
      isCut = true;
      for (const s of pairs) s.destroy();
      pairs.clear();
    },
    restore() {
      stallAt = Infinity;
      onStall = null;
      isCut = false;
    },
    retarget(p: number) {
      target = p;
    },
    async close() {
      isCut = true;
      for (const s of pairs) s.destroy();
      pairs.clear();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
