/**
 * The PROXY protocol on the IMAP listeners over real TCP (server.ts,
 * proxy-protocol.ts): a trusted peer's header decides the address that
 * admission, the per-address cap and the login limiter see; an untrusted
 * peer's header is plain (bad) IMAP; a trusted peer without a valid header is
 * closed without a greeting; LOCAL keeps the peer's own address; bytes sent
 * with the header reach IMAP; the implicit-TLS port reads the header before
 * the handshake. Sources are distinct loopback addresses (127.0.0.x); the
 * trusted "balancer" is 127.0.0.1.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ImapServer, type ImapServerOptions } from '../../src/imap/server.js';
import { RenderCache } from '../../src/imap/render/cache.js';
import { tlsMaterial, type Authenticator, type ServerContext, type TlsMaterial } from '../../src/imap/context.js';
import type { AdmissionLimits } from '../../src/imap/admission.js';
import { SessionFlagStore } from '../../src/stateagent/stores/session.js';
import { silentLogger } from '../../src/util/log.js';
import { FixtureBackend } from './fixture-backend.js';

const SIG = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** A v2 PROXY (or LOCAL) header for TCP over IPv4 from `src`. */
function v2(src: string, cmd: 'proxy' | 'local' = 'proxy'): Buffer {
  const h = Buffer.alloc(28);
  SIG.copy(h);
  h[12] = cmd === 'proxy' ? 0x21 : 0x20;
  h[13] = 0x11;
  h.writeUInt16BE(12, 14);
  Buffer.from(src.split('.').map(Number)).copy(h, 16);
  Buffer.from([198, 51, 100, 1]).copy(h, 20);
  h.writeUInt16BE(40000, 24);
  h.writeUInt16BE(143, 26);
  return h;
}

/** A raw client collecting what the server sends. */
class Client {
  text = '';
  closed = false;
  private wake: (() => void) | undefined;
  constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.text += d.toString('latin1');
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on('error', () => undefined);
  }

  static async open(port: number, from: string): Promise<Client> {
    const s = connect({ port, host: '127.0.0.1', localAddress: from });
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    const c = new Client(s);
    clients.push(c);
    return c;
  }

  /** Write `parts` as separate writes, a moment apart, so the server sees them apart. */
  async send(...parts: Buffer[]): Promise<void> {
    for (const p of parts) {
      this.socket.write(p);
      await new Promise((r) => setTimeout(r, 15));
    }
  }

  /** Wait for `pred` on the text so far, or the close; the text (throws on timeout). */
  async until(pred: (t: string) => boolean, ms = 10_000): Promise<string> {
    const deadline = Date.now() + ms;
    while (!pred(this.text) && !this.closed) {
      if (Date.now() > deadline) throw new Error(`timeout; got ${JSON.stringify(this.text)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
    return this.text;
  }

  firstLine(): Promise<string> {
    return this.until((t) => t.includes('\r\n')).then((t) => (t.includes('\r\n') ? t.slice(0, t.indexOf('\r\n')) : 'closed'));
  }
}

const clients: Client[] = [];
let server: ImapServer | undefined;
const sources: Array<string | undefined> = [];
const headers: string[] = [];

/** Records the source each login is checked for (the login limiter's key). */
const auth: Authenticator = {
  verify: async (user, password, source) => {
    sources.push(source);
    return user === 'alice' && password === 'secret';
  },
};

async function start(limits: Partial<AdmissionLimits>, opts: ImapServerOptions, tls?: TlsMaterial): Promise<{ port: number; tlsPort?: number }> {
  const ctx: ServerContext = {
    backend: new FixtureBackend(),
    renderCache: new RenderCache(),
    auth,
    flagStoreFor: () => new SessionFlagStore(),
    tls,
    options: {
      anonymous: false, allowPlaintextAuth: true, namespacePrefix: '', idleTimeoutMs: 30 * 60_000,
      loginFailureDelayMs: 10, compress: false, persistentFlags: false, crosspostSeen: true,
    },
  };
  server = new ImapServer(ctx, silentLogger(), { exemptAddresses: [], ...limits }, { onProxyHeader: (o) => headers.push(o), ...opts });
  return server.listen({ host: '127.0.0.1', port: 0, tlsPort: tls ? 0 : undefined });
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.socket.destroy();
  await server?.close();
  server = undefined;
  sources.length = 0;
  headers.length = 0;
});

describe('PROXY protocol from a trusted peer', () => {
  it('counts the client the header names against the per-address cap, not the balancer', async () => {
    const { port } = await start({ maxConnectionsPerAddress: 1 }, { proxyTrusted: ['127.0.0.1'] });
    const a = await Client.open(port, '127.0.0.1');
    const h = v2('198.51.100.7');
    await a.send(h.subarray(0, 7), h.subarray(7, 20), h.subarray(20));
    expect(await a.firstLine()).toMatch(/^\* OK /);
    const again = await Client.open(port, '127.0.0.1');
    await again.send(v2('198.51.100.7'));
    expect(await again.firstLine()).toMatch(/^\* BYE \[UNAVAILABLE\] Too many connections from your address/);
    const other = await Client.open(port, '127.0.0.1');
    await other.send(v2('198.51.100.8'));
    expect(await other.firstLine()).toMatch(/^\* OK /);
    expect(headers).toEqual(['proxy', 'proxy', 'proxy']);
  });

  it('gives the login limiter the client address, and takes IMAP bytes sent with the header', async () => {
    const { port } = await start({}, { proxyTrusted: ['127.0.0.0/8'] });
    const c = await Client.open(port, '127.0.0.5');
    await c.send(Buffer.concat([v2('203.0.113.9'), Buffer.from('a1 LOGIN alice secret\r\na2 NOOP\r\n')]));
    const t = await c.until((x) => x.includes('a2 OK'));
    expect(t).toMatch(/^\* OK .*\r\na1 OK /s);
    expect(sources).toEqual(['203.0.113.9']);
  });

  it('keeps the peer address for LOCAL (a health check) and accepts v1 text headers', async () => {
    const { port } = await start({ maxConnectionsPerAddress: 1 }, { proxyTrusted: ['127.0.0.1'] });
    const check = await Client.open(port, '127.0.0.1');
    await check.send(v2('0.0.0.0', 'local'));
    expect(await check.firstLine()).toMatch(/^\* OK /);
    check.socket.write('a LOGIN alice secret\r\n');
    expect(await check.until((x) => x.includes('a OK'))).toContain('a OK');
    expect(sources).toEqual(['127.0.0.1']);
    // 127.0.0.1 holds its one slot now: a second LOCAL connection is over the cap, a relayed client is not
    const second = await Client.open(port, '127.0.0.1');
    await second.send(v2('0.0.0.0', 'local'));
    expect(await second.firstLine()).toMatch(/^\* BYE \[UNAVAILABLE\]/);
    const v1 = await Client.open(port, '127.0.0.1');
    await v1.send(Buffer.from('PROXY TCP4 192.0.2.44 198.51.100.1 5000 '), Buffer.from('143\r\n'));
    expect(await v1.firstLine()).toMatch(/^\* OK /);
    expect(headers).toEqual(['local', 'local', 'proxy']);
  });

  it('closes a trusted connection without a greeting when the header is missing, bad or late', async () => {
    const { port } = await start({}, { proxyTrusted: ['127.0.0.1'], proxyTimeoutMs: 400 });
    const plain = await Client.open(port, '127.0.0.1');
    await plain.send(Buffer.from('a1 CAPABILITY\r\n'));
    await plain.until(() => false, 5_000).catch(() => undefined);
    expect([plain.closed, plain.text]).toEqual([true, '']);
    const silent = await Client.open(port, '127.0.0.1');
    const t0 = Date.now();
    await silent.until(() => false, 5_000).catch(() => undefined);
    expect([silent.closed, silent.text]).toEqual([true, '']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    const half = await Client.open(port, '127.0.0.1');
    await half.send(v2('192.0.2.1').subarray(0, 20));
    await half.until(() => false, 5_000).catch(() => undefined);
    expect([half.closed, half.text]).toEqual([true, '']);
    expect(headers).toEqual(['invalid', 'invalid', 'invalid']);
    expect(server!.connectionCount).toBe(0);
  });
});

describe('PROXY protocol from an untrusted peer', () => {
  it('reads no header: the connection is greeted at once, counted by its own address, and the header is bad IMAP', async () => {
    const { port } = await start({ maxConnectionsPerAddress: 1 }, { proxyTrusted: ['127.0.0.1'] });
    const c = await Client.open(port, '127.0.0.2');
    expect(await c.firstLine()).toMatch(/^\* OK /); // before it sent anything
    await c.send(Buffer.concat([Buffer.from('PROXY TCP4 192.0.2.9 198.51.100.1 1 143\r\n')]));
    expect(await c.until((t) => /\r\n.*BAD/.test(t))).toMatch(/PROXY BAD/);
    const spoof = await Client.open(port, '127.0.0.2');
    expect(await spoof.firstLine()).toMatch(/^\* BYE \[UNAVAILABLE\] Too many connections from your address/);
    expect(headers).toEqual([]);
  });
});

describe('PROXY protocol on the implicit-TLS port', () => {
  let dir: string;
  let tls: TlsMaterial;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nf-proxy-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    tls = tlsMaterial(readFileSync(join(dir, 'cert.pem')), readFileSync(join(dir, 'key.pem')));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** TLS over a socket that first sent `header`; with `together`, header and ClientHello leave in one segment. */
  async function tlsAfterHeader(port: number, header: Buffer, together: boolean): Promise<string> {
    const raw = await Client.open(port, '127.0.0.1');
    raw.socket.removeAllListeners('data');
    if (together) raw.socket.cork();
    raw.socket.write(header);
    const s = tlsConnect({ socket: raw.socket, rejectUnauthorized: false });
    if (together) process.nextTick(() => raw.socket.uncork());
    s.on('error', () => undefined);
    return new Promise((resolve) => {
      let text = '';
      s.on('data', (d: Buffer) => {
        text += d.toString('latin1');
        if (text.includes('\r\n')) resolve(text.slice(0, text.indexOf('\r\n')));
      });
      s.on('close', () => resolve(text === '' ? 'closed' : text));
      setTimeout(() => resolve(`timeout; got ${JSON.stringify(text)}`), 10_000).unref();
    });
  }

  it('reads the header before the handshake, whether or not the ClientHello comes in the same segment', async () => {
    const { tlsPort } = await start({ maxConnectionsPerAddress: 1 }, { proxyTrusted: ['127.0.0.1'] }, tls);
    expect(await tlsAfterHeader(tlsPort!, v2('192.0.2.20'), false)).toMatch(/^\* OK /);
    expect(await tlsAfterHeader(tlsPort!, v2('192.0.2.21'), true)).toMatch(/^\* OK /);
    // the cap counts the relayed client: a second from 192.0.2.20 is closed before the handshake
    expect(await tlsAfterHeader(tlsPort!, v2('192.0.2.20'), false)).toBe('closed');
    expect(headers).toEqual(['proxy', 'proxy', 'proxy']);
  });
});
