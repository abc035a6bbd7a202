/**
 * The IMAP listener(s): plain TCP (with STARTTLS when a certificate is
 * configured) and, optionally, implicit TLS. Owns the connections it accepted
 * and closes them on `close()`.
 *
 * Every TCP connection passes admission first (admission.ts), before any TLS
 * handshake: over the total or per-source cap a plain socket is greeted
 * `* BYE [UNAVAILABLE] …` (RFC 9051 §7.1.5) and closed without a session (an
 * implicit-TLS socket is closed at once: no handshake is spent on it). An
 * admitted one holds its slot until the socket closes, and must log in within
 * the pre-auth deadline counted from connect (the TLS handshake included).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Connection } from './connection.js';
import { commands } from './commands/index.js';
import type { ServerContext } from './context.js';
import { Admission, DEFAULT_ADMISSION, preAuthCommandGuard, type Admitted, type AdmissionLimits } from './admission.js';
import { BYE_GRACE_MS, REFUSAL_LOG_INTERVAL_MS } from './limits.js';

export interface ListenOptions {
  host: string;
  port: number;
  /** Implicit-TLS listener (imaps), when a certificate is configured. */
  tlsPort?: number;
  tlsHost?: string;
}

/** One admitted TCP connection: its slot, its deadline, and its session once it has one. */
interface Entry {
  slot: Admitted;
  deadline: NodeJS.Timeout;
  conn?: Connection;
}

export class ImapServer {
  private readonly connections = new Set<Connection>();
  private readonly servers: Server[] = [];
  private nextId = 1;
  private readonly admission: Admission;
  /** Implicit-TLS connections admitted and still in their handshake, by `address|port`. */
  private readonly handshaking = new Map<string, Entry>();
  private refusals = new Map<string, number>();
  private refusalLogAt = 0;

  /** `limits` overrides the admission defaults of limits.ts (config `limits.*`). */
  constructor(
    private readonly ctx: ServerContext,
    private readonly log: Logger,
    limits: Partial<AdmissionLimits> = {},
  ) {
    this.admission = new Admission({ ...DEFAULT_ADMISSION, ...limits });
  }

  /**
   * Admit a new TCP socket: its slot is released when it closes, and its
   * pre-auth deadline runs from now. Undefined when refused (the socket is
   * then being closed: with a BYE if `greet`).
   */
  private admit(raw: Socket, greet: boolean): Entry | undefined {
    const slot = this.admission.admit(raw.remoteAddress);
    if (typeof slot === 'string') {
      this.refuse(raw, slot, greet);
      return undefined;
    }
    const ms = this.admission.limits.preAuthDeadlineMs;
    const entry: Entry = {
      slot,
      deadline: setTimeout(() => {
        const conn = entry.conn;
        if (!conn) raw.destroy(); // still in the TLS handshake
        else if (conn.session.state === 'notauth') {
          void conn
            .shutdown(`Autologout: no login within ${Math.round(ms / 1000)} s`)
            .finally(() => setTimeout(() => raw.destroy(), BYE_GRACE_MS).unref());
        }
      }, ms).unref(),
    };
    raw.once('close', () => {
      clearTimeout(entry.deadline);
      slot.release();
    });
    return entry;
  }

  private accept(socket: Socket, secure: boolean, entry: Entry): void {
    const cid = (this.nextId++).toString(36);
    const log = this.log.child({ cid });
    log.debug({ remote: socket.remoteAddress, secure }, 'connection');
    const guard = preAuthCommandGuard(this.admission.limits.maxPreAuthCommands);
    const conn = new Connection(socket, this.ctx, commands, log, secure, guard);
    conn.session.sourceKey = entry.slot.sourceKey;
    entry.conn = conn;
    this.connections.add(conn);
    socket.on('close', () => {
      this.connections.delete(conn);
      log.debug('closed');
    });
    conn.start().catch((err) => log.debug({ err }, 'greeting failed'));
  }

  /** Greet with BYE (or, before TLS, just close); the socket holds no session. */
  private refuse(socket: Socket, text: string, greet: boolean): void {
    socket.on('error', () => undefined);
    if (greet) {
      socket.end(`* BYE [UNAVAILABLE] ${text}\r\n`);
      // once the BYE is with the kernel the descriptor goes, whether or not the peer closes its side
      socket.once('finish', () => socket.destroy());
      setTimeout(() => socket.destroy(), BYE_GRACE_MS).unref();
    } else socket.destroy();
    this.refusals.set(text, (this.refusals.get(text) ?? 0) + 1);
    const now = Date.now();
    if (now - this.refusalLogAt >= REFUSAL_LOG_INTERVAL_MS) {
      this.log.warn({ refused: Object.fromEntries(this.refusals), open: this.admission.open }, 'connections refused');
      this.refusals = new Map();
      this.refusalLogAt = now;
    }
  }

  /** Start listening; resolves with the bound addresses (port 0 ⇒ a free port). */
  async listen(opts: ListenOptions): Promise<{ port: number; tlsPort?: number }> {
    const plain = createServer((s) => {
      const entry = this.admit(s, true);
      if (entry) this.accept(s, false, entry);
    });
    const port = await bind(plain, opts.host, opts.port);
    this.servers.push(plain);
    let tlsPort: number | undefined;
    if (opts.tlsPort !== undefined && this.ctx.tls) {
      const { cert, key } = this.ctx.tls;
      const secure = createTlsServer({ cert, key }, (s: TLSSocket) => {
        const id = `${s.remoteAddress}|${s.remotePort}`;
        const entry = this.handshaking.get(id);
        this.handshaking.delete(id);
        if (entry) this.accept(s, true, entry);
        else s.destroy();
      });
      // admission before the handshake, on the TCP socket the TLS socket wraps
      secure.on('connection', (raw: Socket) => {
        const entry = this.admit(raw, false);
        if (!entry) return;
        const id = `${raw.remoteAddress}|${raw.remotePort}`;
        this.handshaking.set(id, entry);
        raw.once('close', () => {
          if (this.handshaking.get(id) === entry) this.handshaking.delete(id);
        });
      });
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
