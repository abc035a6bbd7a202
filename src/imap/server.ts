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
 *
 * A peer in `proxyTrusted` (a load balancer) must open with a PROXY protocol
 * header (proxy-protocol.ts; on the implicit-TLS port too, before the
 * handshake): admission, limits, login throttling and logs then see the
 * client it names. A trusted peer without a valid header within the deadline
 * is closed without a word; an untrusted peer's bytes are IMAP, never a header.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Connection, type CommandObserver } from './connection.js';
import { commands } from './commands/index.js';
import type { ServerContext } from './context.js';
import { Admission, DEFAULT_ADMISSION, preAuthCommandGuard, type Admitted, type AdmissionLimits } from './admission.js';
import { BYE_GRACE_MS, REFUSAL_LOG_INTERVAL_MS } from './limits.js';
import { PROXY_HEADER_TIMEOUT_MS, addressMatcher, proxiedAddress, readProxyHeader, type ProxyHeader } from './proxy-protocol.js';

export interface ListenOptions {
  host: string;
  port: number;
  /** Implicit-TLS listener (imaps), when a certificate is configured. */
  tlsPort?: number;
  tlsHost?: string;
}

/** Hooks and the PROXY protocol: all optional, none by default. */
export interface ImapServerOptions {
  /** Peers (addresses, CIDR ranges) whose connections start with a PROXY protocol header. */
  proxyTrusted?: readonly string[];
  /** Time allowed for that header (default PROXY_HEADER_TIMEOUT_MS). */
  proxyTimeoutMs?: number;
  /** Told of each header from a trusted peer: its command, or `invalid` (refused, timed out). */
  onProxyHeader?: (outcome: 'proxy' | 'local' | 'invalid') => void;
  /** Told of each command a connection ran (connection.ts). */
  onCommand?: CommandObserver;
  /**
   * Told each command's registry name (`UID FETCH`) and work time (ms) once it
   * ran without error, before its tagged completion is sent: what runs here
   * delays that completion (start.ts: the leftover collector, after long
   * answering commands only). Must not throw.
   */
  afterCommand?: (name: string, ms: number) => void;
}

/** Who a connection is from: the client, and the trusted proxy that relayed it (if any). */
interface Peer {
  address: string | undefined;
  via?: string;
}

/** One admitted TCP connection: its slot, its deadline, its peer, and its session once it has one. */
interface Entry {
  slot: Admitted;
  deadline: NodeJS.Timeout;
  peer: Peer;
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

  private readonly trusted: (address: string | undefined) => boolean;

  /** `limits` overrides the admission defaults of limits.ts (config `limits.*`); `opts` config `proxy.*` and hooks. */
  constructor(
    private readonly ctx: ServerContext,
    private readonly log: Logger,
    limits: Partial<AdmissionLimits> = {},
    private readonly opts: ImapServerOptions = {},
  ) {
    this.admission = new Admission({ ...DEFAULT_ADMISSION, ...limits });
    this.trusted = addressMatcher(opts.proxyTrusted ?? []);
  }

  /**
   * Find out who `raw` is from, then `go`: at once for an untrusted peer; for
   * a trusted one after its PROXY header (the socket is then paused with the
   * bytes after the header put back; `go` resumes or hands it on). A bad or
   * missing header closes the socket.
   */
  private arrive(raw: Socket, go: (peer: Peer) => void): void {
    if (!this.trusted(raw.remoteAddress)) return go({ address: raw.remoteAddress });
    raw.on('error', () => undefined); // the connection's own handler comes later
    readProxyHeader(raw, this.opts.proxyTimeoutMs ?? PROXY_HEADER_TIMEOUT_MS).then(
      (h: ProxyHeader) => {
        this.opts.onProxyHeader?.(h.command);
        if (!raw.destroyed) go({ address: proxiedAddress(h) ?? raw.remoteAddress, via: raw.remoteAddress });
      },
      (err: unknown) => {
        this.opts.onProxyHeader?.('invalid');
        this.log.warn({ peer: raw.remoteAddress, err: (err as Error).message }, 'PROXY header refused; closing');
        raw.destroy();
      },
    );
  }

  /**
   * Admit a new TCP socket: its slot is released when it closes, and its
   * pre-auth deadline runs from now. Undefined when refused (the socket is
   * then being closed: with a BYE if `greet`).
   */
  private admit(raw: Socket, greet: boolean, peer: Peer): Entry | undefined {
    const slot = this.admission.admit(peer.address);
    if (typeof slot === 'string') {
      this.refuse(raw, slot, greet);
      return undefined;
    }
    const ms = this.admission.limits.preAuthDeadlineMs;
    const entry: Entry = {
      slot,
      peer,
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
    log.debug({ remote: entry.peer.address, via: entry.peer.via, secure }, 'connection');
    const guard = preAuthCommandGuard(this.admission.limits.maxPreAuthCommands);
    const conn = new Connection(socket, this.ctx, commands, log, secure, guard, this.opts.onCommand, this.opts.afterCommand);
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
    const plain = createServer((s) =>
      this.arrive(s, (peer) => {
        const entry = this.admit(s, true, peer);
        if (entry) this.accept(s, false, entry);
        s.resume(); // paused after a PROXY header
      }),
    );
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
      // A TCP listener in front: PROXY header and admission before the handshake,
      // then the TCP socket is handed to the TLS server (which never listens itself).
      const tcp = createServer((raw) =>
        this.arrive(raw, (peer) => {
          const entry = this.admit(raw, false, peer);
          if (!entry) return;
          const id = `${raw.remoteAddress}|${raw.remotePort}`;
          this.handshaking.set(id, entry);
          raw.once('close', () => {
            if (this.handshaking.get(id) === entry) this.handshaking.delete(id);
          });
          secure.emit('connection', raw);
        }),
      );
      secure.on('tlsClientError', (err) => this.log.debug({ err }, 'TLS handshake failed'));
      tlsPort = await bind(tcp, opts.tlsHost ?? opts.host, opts.tlsPort);
      this.servers.push(tcp);
    }
    this.log.info({ host: opts.host, port, tlsPort }, 'IMAP listening');
    return { port, tlsPort };
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Open sessions per state (`notauth`, `auth`, `selected`, `logout`), counted now. */
  sessionStates(): Map<string, number> {
    const out = new Map<string, number>();
    for (const c of this.connections) out.set(c.session.state, (out.get(c.session.state) ?? 0) + 1);
    return out;
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
