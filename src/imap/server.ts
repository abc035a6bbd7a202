/**
 * The IMAP listener(s): plain TCP (with STARTTLS when a certificate is
 * configured) and, optionally, implicit TLS. Owns the connections it accepted
 * and closes them on `close()`.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Connection } from './connection.js';
import { commands } from './commands/index.js';
import type { ServerContext } from './context.js';

export interface ListenOptions {
  host: string;
  port: number;
  /** Implicit-TLS listener (imaps), when a certificate is configured. */
  tlsPort?: number;
  tlsHost?: string;
}

export class ImapServer {
  private readonly connections = new Set<Connection>();
  private readonly servers: Server[] = [];
  private nextId = 1;

  constructor(
    private readonly ctx: ServerContext,
    private readonly log: Logger,
  ) {}

  private accept(socket: Socket, secure: boolean): void {
    const cid = (this.nextId++).toString(36);
    const log = this.log.child({ cid });
    log.debug({ remote: socket.remoteAddress, secure }, 'connection');
    const conn = new Connection(socket, this.ctx, commands, log, secure);
    this.connections.add(conn);
    socket.on('close', () => {
      this.connections.delete(conn);
      log.debug('closed');
    });
    conn.start().catch((err) => log.debug({ err }, 'greeting failed'));
  }

  /** Start listening; resolves with the bound addresses (port 0 ⇒ a free port). */
  async listen(opts: ListenOptions): Promise<{ port: number; tlsPort?: number }> {
    const plain = createServer((s) => this.accept(s, false));
    const port = await bind(plain, opts.host, opts.port);
    this.servers.push(plain);
    let tlsPort: number | undefined;
    if (opts.tlsPort !== undefined && this.ctx.tls) {
      const { cert, key } = this.ctx.tls;
      const secure = createTlsServer({ cert, key }, (s: TLSSocket) => this.accept(s, true));
      secure.on('tlsClientError', (err) => this.log.debug({ err }, 'TLS handshake failed'));
      tlsPort = await bind(secure, opts.tlsHost ?? opts.host, opts.tlsPort);
      this.servers.push(secure);
    }
    this.log.info({ host: opts.host, port, tlsPort }, 'IMAP listening');
    return { port, tlsPort };
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async close(): Promise<void> {
    for (const s of this.servers) s.close();
    await Promise.all([...this.connections].map((c) => c.shutdown()));
    this.connections.clear();
  }
}

function bind(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
