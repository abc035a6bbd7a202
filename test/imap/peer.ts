/**
 * Test helpers for admission tests: a raw client bound to a chosen loopback
 * source address (Linux routes all of 127.0.0.0/8 to lo), and an ImapServer
 * with given admission limits and authenticator.
 */
import { connect, type Socket } from 'node:net';
import { ImapServer } from '../../src/imap/server.js';
import { RenderCache } from '../../src/imap/render/cache.js';
import type { AdmissionLimits } from '../../src/imap/admission.js';
import type { Authenticator, ServerContext, TlsMaterial } from '../../src/imap/context.js';
import { SessionFlagStore } from '../../src/stateagent/stores/session.js';
import { Users } from '../../src/app/auth/users.js';
import { silentLogger } from '../../src/util/log.js';
import { FixtureBackend } from './fixture-backend.js';

export class Peer {
  text = '';
  closed = false;
  private wake: (() => void) | undefined;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.text += d;
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on('error', () => undefined);
  }

  /** Connect from `localAddress` and wait for the first line (greeting or BYE). */
  static async open(port: number, localAddress = '127.0.0.1'): Promise<Peer> {
    const p = new Peer(connect({ port, host: '127.0.0.1', localAddress }));
    await p.until((t) => t.includes('\r\n'));
    return p;
  }

  /** Wait until `pred(all text so far)`; rejects after `ms`. */
  async until(pred: (t: string) => boolean, ms = 10_000): Promise<string> {
    const deadline = Date.now() + ms;
    while (!pred(this.text)) {
      if (this.closed) throw new Error(`closed; got ${JSON.stringify(this.text.slice(-300))}`);
      if (Date.now() > deadline) throw new Error(`timeout; got ${JSON.stringify(this.text.slice(-300))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, deadline - Date.now()));
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
    return this.text;
  }

  /** Resolves when the server has closed the connection; rejects after `ms`. */
  async closedWithin(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error(`still open after ${ms} ms; got ${JSON.stringify(this.text.slice(-300))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, deadline - Date.now()));
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  }

  /** Send `tag text` and return the tagged status line (or a BYE line). */
  async cmd(tag: string, text: string, ms?: number): Promise<string> {
    const from = this.text.length;
    this.socket.write(`${tag} ${text}\r\n`);
    const re = new RegExp(`(?:^|\\r\\n)((?:${tag} (?:OK|NO|BAD)|\\* BYE)[^\\r\\n]*)\\r\\n`);
    const t = await this.until((all) => re.test(all.slice(from)), ms);
    return re.exec(t.slice(from))![1]!;
  }

  get firstLine(): string {
    return this.text.slice(0, this.text.indexOf('\r\n'));
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface LimitedServer {
  port: number;
  tlsPort?: number;
  server: ImapServer;
  close(): Promise<void>;
}

/** An ImapServer on a free loopback port with these admission limits and authenticator. */
export async function startLimited(
  limits: Partial<AdmissionLimits>,
  auth: Authenticator = Users.parse('alice:{PLAIN}secret\nbob:{PLAIN}hunter2\n'),
  tls?: TlsMaterial,
  overrides: Partial<ServerContext> = {},
): Promise<LimitedServer> {
  const ctx: ServerContext = {
    backend: new FixtureBackend(),
    renderCache: new RenderCache(),
    auth,
    flagStoreFor: () => new SessionFlagStore(),
    tls,
    options: {
      anonymous: false,
      allowPlaintextAuth: true,
      namespacePrefix: '',
      idleTimeoutMs: 30 * 60_000,
      loginFailureDelayMs: 10,
      compress: false,
      persistentFlags: false,
      crosspostSeen: true,
    },
    ...overrides,
  };
  const server = new ImapServer(ctx, silentLogger(), limits);
  const { port, tlsPort } = await server.listen({ host: '127.0.0.1', port: 0, tlsPort: tls ? 0 : undefined });
  return { port, tlsPort, server, close: () => server.close() };
}

/** Wait until the server holds `n` connections (a closed client is seen a moment later). */
export async function settle(server: ImapServer, n: number, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (server.connectionCount !== n) {
    if (Date.now() > deadline) throw new Error(`server holds ${server.connectionCount} connections, expected ${n}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
