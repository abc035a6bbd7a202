/**
 * Opening an NNTP session (RFC 3977 §5.1, §5.2, §5.3): the socket (plain or
 * implicit TLS), then greeting, CAPABILITIES, MODE READER when the server is
 * not a reader yet, STARTTLS (RFC 4642), AUTHINFO USER/PASS (RFC 4643) and
 * COMPRESS DEFLATE (RFC 8054), re-reading CAPABILITIES where the RFCs say they
 * may change. Used by `NntpClient.connect` (./client.ts) only.
 *
 *   S: 200 news.example.org ready      C: CAPABILITIES
 *   S: 101 Capability list: ... .      C: AUTHINFO USER alice
 *   S: 381 Password required           C: AUTHINFO PASS [redacted]
 *   S: 281 Authentication accepted
 *
 * Errors: TIMEOUT (no greeting), UNAVAILABLE (400/502 greeting), TLS,
 * AUTH_FAILED, CLOSED or PROTOCOL, all `NntpError`; the caller closes the
 * connection on failure.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Logger } from 'pino';
import { linesConsumer, type CommandSpec, type Consumer, type StatusResult } from './command.js';
import type { NntpConnection } from './connection.js';
import { NntpError, errorForStatus } from './errors.js';
import { checkCommandLine } from './args.js';
import * as L from './limits.js';
import type { NntpClientOptions } from './types.js';

/** What set-up needs of the client: its connection and its way of running commands. */
export interface SetupIo {
  readonly conn: NntpConnection;
  readonly log: Logger;
  readonly maxLineBytes: number;
  send(spec: CommandSpec, consumer: Consumer): void;
  run(spec: CommandSpec): Promise<StatusResult>;
}

/** The session as set up: capabilities (label upper case → arguments) and whether posting is allowed. */
export interface SessionState {
  caps: Map<string, string[]>;
  posting: boolean;
}

/**
 * The socket to the server, TLS from the first byte when `opts.tls`.
 * `onHandshakeError` hears a failed TLS handshake (as a TLS error) before any
 * other handler sees the socket's 'error'.
 */
export function openSocket(opts: NntpClientOptions, onHandshakeError: (err: NntpError) => void): net.Socket {
  let socket: net.Socket;
  if (opts.tls) {
    const servername = net.isIP(opts.host) ? undefined : opts.host;
    const secure = tls.connect({ host: opts.host, port: opts.port, ...(servername ? { servername } : {}), ...opts.tlsOptions });
    let handshaken = false;
    secure.once('secureConnect', () => (handshaken = true));
    secure.on('error', (err) => {
      if (!handshaken) onHandshakeError(new NntpError('TLS', `TLS handshake failed: ${err.message}`, { cause: err }));
    });
    socket = secure;
  } else {
    socket = net.connect({ host: opts.host, port: opts.port });
  }
  socket.setNoDelay(true);
  return socket;
}

/** Runs the set-up exchange on a fresh connection; resolves with the session state. */
export async function setUpSession(io: SetupIo, opts: NntpClientOptions, greetingTimeoutMs: number): Promise<SessionState> {
  const g = await io.run({ line: null, okCodes: [200, 201], timeoutMs: greetingTimeoutMs });
  const s: SessionState = { caps: await loadCapabilities(io), posting: g.code === 200 };
  if (s.caps.size === 0 || (s.caps.has('MODE-READER') && !s.caps.has('READER'))) {
    const legacy = s.caps.size === 0;
    const m = await io.run({ line: 'MODE READER', okCodes: [200, 201] }).catch((e: unknown) => {
      if (legacy) return undefined; // legacy server without CAPABILITIES: MODE READER is optional
      throw e;
    });
    if (m) {
      s.posting = m.code === 200;
      s.caps = await loadCapabilities(io);
    }
  }
  const starttls = opts.starttls ?? 'auto';
  if (!opts.tls && starttls !== 'never') {
    if (s.caps.has('STARTTLS')) {
      const caps = await startTls(io, opts, starttls === 'require');
      if (caps !== undefined) s.caps = caps;
    } else if (starttls === 'require') throw new NntpError('TLS', 'server does not offer STARTTLS');
  }
  if (opts.user !== undefined) s.caps = await authenticate(io, opts.user, opts.password);
  if (opts.compress && (s.caps.get('COMPRESS') ?? []).some((a) => a.toUpperCase() === 'DEFLATE')) {
    const st = await io.run({ line: 'COMPRESS DEFLATE', okCodes: [206], haltAfterStatus: true }).catch((e: unknown) => {
      io.log.warn({ err: (e as Error).message }, 'COMPRESS DEFLATE refused; continuing uncompressed');
      return undefined;
    });
    if (st) io.conn.startCompression();
    else if (!io.conn.closed) io.conn.resumeParsing();
  }
  io.conn.enableAckNudge(opts.ackNudge ?? L.ACK_NUDGE);
  return s;
}

/** STARTTLS; resolves with the capabilities re-read over TLS, or undefined when refused and not required. */
async function startTls(io: SetupIo, opts: NntpClientOptions, required: boolean): Promise<Map<string, string[]> | undefined> {
  try {
    await io.run({ line: 'STARTTLS', okCodes: [382], haltAfterStatus: true });
  } catch (err) {
    if (io.conn.closed) throw err;
    io.conn.resumeParsing();
    if (required) throw new NntpError('TLS', `STARTTLS refused: ${(err as Error).message}`, { cause: err });
    io.log.warn({ err: (err as Error).message }, 'STARTTLS refused; continuing without TLS');
    return undefined;
  }
  const servername = net.isIP(opts.host) ? undefined : opts.host;
  await io.conn.startTls({ ...(servername ? { servername } : {}), ...opts.tlsOptions });
  io.log.debug('STARTTLS done');
  return loadCapabilities(io); // RFC 4642 §2.2.2: capabilities must be re-read
}

/** AUTHINFO USER/PASS; resolves with the capabilities re-read afterwards. */
async function authenticate(io: SetupIo, user: string, password: string | undefined): Promise<Map<string, string[]>> {
  const authErr = (code: number, text: string) =>
    code === 480 || code === 481 || code === 482 || code === 483 || code === 502
      ? new NntpError('AUTH_FAILED', `AUTHINFO: ${code} ${text}`, { status: code })
      : errorForStatus(code, text, 'AUTHINFO');
  const u = await io.run({ line: checkCommandLine(`AUTHINFO USER ${user}`), label: 'AUTHINFO USER', okCodes: [281, 381], mapError: authErr });
  if (u.code === 381) {
    if (password === undefined) throw new NntpError('AUTH_FAILED', 'server wants a password and none is configured', { status: 381 });
    await io.run({ line: checkCommandLine(`AUTHINFO PASS ${password}`), label: 'AUTHINFO PASS', okCodes: [281], mapError: authErr });
  }
  return loadCapabilities(io); // RFC 4643 §2.2: capabilities may change after authentication
}

/** CAPABILITIES; an empty map from a pre-RFC 3977 server that answers 500/501 (then XOVER, XHDR are used). */
async function loadCapabilities(io: SetupIo): Promise<Map<string, string[]>> {
  const { consumer, result } = linesConsumer(io.maxLineBytes);
  io.send({ line: 'CAPABILITIES', okCodes: [101], dataCodes: [101] }, consumer);
  const caps = new Map<string, string[]>();
  try {
    const { lines } = await result;
    for (const l of lines) {
      const words = l.toString('utf8').trim().split(/\s+/).filter(Boolean);
      if (words.length > 0) caps.set(words[0]!.toUpperCase(), words.slice(1));
    }
  } catch (err) {
    if (!(err instanceof NntpError && err.code === 'UNEXPECTED_STATUS' && (err.status === 500 || err.status === 501))) throw err;
  }
  return caps;
}
