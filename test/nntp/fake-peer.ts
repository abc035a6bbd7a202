/**
 * A scripted fake NNTP peer on 127.0.0.1, port 0, for unit and fault tests.
 *
 * `startFakePeer(onConnection)` calls `onConnection(session)` for each accepted
 * socket. A session reads CRLF command lines (`readLine`), writes raw bytes,
 * and can switch its transport to TLS (STARTTLS) or raw DEFLATE (COMPRESS).
 * `fakeNntpServer(data)` returns an onConnection that behaves like a small
 * reader server over in-memory groups, with per-command overrides.
 * `peer.close()` destroys every session and closes the listener.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import * as zlib from 'node:zlib';
import type { Duplex, Readable } from 'node:stream';

export class FakeSession {
  private buf = Buffer.alloc(0);
  private waiters: Array<(line: string | null) => void> = [];
  private ended = false;
  private input: Readable;
  private out: (b: Buffer) => void;
  private readonly onData = (c: Buffer) => {
    this.buf = Buffer.concat([this.buf, c]);
    this.flushLines();
  };
  /** Every command line received, in order. */
  readonly received: string[] = [];

  constructor(public socket: Duplex) {
    this.input = socket;
    this.out = (b) => {
      socket.write(b);
    };
    socket.on('data', this.onData);
    socket.on('error', () => {});
    socket.on('close', () => {
      this.ended = true;
      this.flushLines();
    });
  }

  private flushLines(): void {
    while (this.waiters.length > 0) {
      const lf = this.buf.indexOf(0x0a);
      if (lf < 0) {
        if (this.ended) this.waiters.shift()!(null);
        else return;
        continue;
      }
      const line = this.buf.subarray(0, lf).toString('utf8').replace(/\r$/, '');
      this.buf = this.buf.subarray(lf + 1);
      this.received.push(line);
      this.waiters.shift()!(line);
    }
  }

  /** The next command line without CRLF, or null when the client has gone. */
  readLine(): Promise<string | null> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.flushLines();
    });
  }

  write(data: string | Buffer): void {
    this.out(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Write a status line (CRLF added). */
  status(line: string): void {
    this.write(`${line}\r\n`);
  }

  /** Write a dot-stuffed data block for `data` (CRLF-terminated lines) and the terminator. */
  block(data: Buffer | string): void {
    this.write(dotStuff(typeof data === 'string' ? Buffer.from(data, 'latin1') : data));
    this.write('.\r\n');
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Server side of STARTTLS: call after writing 382. */
  async startTls(key: Buffer, cert: Buffer): Promise<void> {
    const raw = this.socket;
    raw.off('data', this.onData);
    const secure = new tls.TLSSocket(raw as net.Socket, { isServer: true, key, cert });
    secure.on('error', () => {});
    this.socket = secure;
    this.input = secure;
    this.out = (b) => {
      secure.write(b);
    };
    secure.on('data', this.onData);
    secure.on('close', () => {
      this.ended = true;
      this.flushLines();
    });
    await new Promise<void>((resolve) => secure.once('secure', () => resolve()));
  }

  /** Server side of COMPRESS DEFLATE: call after writing 206. */
  startCompression(): void {
    const raw = this.socket;
    this.input.off('data', this.onData);
    const inflater = zlib.createInflateRaw();
    const deflater = zlib.createDeflateRaw();
    raw.pipe(inflater);
    deflater.pipe(raw, { end: false });
    inflater.on('error', () => {});
    inflater.on('data', this.onData);
    this.input = inflater;
    this.out = (b) => {
      deflater.write(b);
      deflater.flush(zlib.constants.Z_SYNC_FLUSH);
    };
  }
}

/** Dot-stuff `data` (RFC 3977 §3.1.1): a line starting with "." gets one more. */
export function dotStuff(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let pos = 0;
  let atStart = true;
  while (pos < data.length) {
    if (atStart && data[pos] === 0x2e) parts.push(Buffer.from('.'));
    const lf = data.indexOf(0x0a, pos);
    const end = lf < 0 ? data.length : lf + 1;
    parts.push(data.subarray(pos, end));
    atStart = lf >= 0;
    pos = end;
  }
  return Buffer.concat(parts);
}

export interface FakePeer {
  port: number;
  sessions: FakeSession[];
  /** Number of accepted connections so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

export async function startFakePeer(onConnection: (s: FakeSession) => void | Promise<void>): Promise<FakePeer> {
  const sessions: FakeSession[] = [];
  let accepted = 0;
  const server = net.createServer((sock) => {
    accepted++;
    const s = new FakeSession(sock);
    sessions.push(s);
    Promise.resolve(onConnection(s)).catch(() => s.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    sessions,
    get accepted() {
      return accepted;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface FakeGroup {
  /** article number → whole article (CRLF line ends, not stuffed). */
  articles: Map<number, Buffer>;
}

export interface FakeServerOptions {
  groups: Record<string, FakeGroup>;
  greeting?: string;
  capabilities?: string[];
  /** Called before the default handling; return true if the command was answered. */
  override?: (cmd: string, s: FakeSession, state: { group?: string }) => boolean | Promise<boolean>;
  tls?: { key: Buffer; cert: Buffer };
  auth?: { user: string; password: string };
}

function headOf(a: Buffer): Buffer {
  const i = a.indexOf('\r\n\r\n');
  return i < 0 ? a : a.subarray(0, i + 2);
}

function bodyOf(a: Buffer): Buffer {
  const i = a.indexOf('\r\n\r\n');
  return i < 0 ? Buffer.alloc(0) : a.subarray(i + 4);
}

function header(a: Buffer, name: string): string {
  const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(headOf(a).toString('latin1'));
  return m ? m[1]!.trim() : '';
}

/** A small reader server over `opts.groups` (enough of RFC 3977 for the client's commands). */
export function fakeNntpServer(opts: FakeServerOptions): (s: FakeSession) => Promise<void> {
  return async (s) => {
    const state: { group?: string } = {};
    s.status(opts.greeting ?? '200 fake ready');
    let caps = opts.capabilities ?? ['VERSION 2', 'READER', 'OVER', 'HDR', 'LIST ACTIVE NEWSGROUPS OVERVIEW.FMT'];
    let pendingUser: string | undefined;
    for (;;) {
      const line = await s.readLine();
      if (line === null) return;
      if (opts.override && (await opts.override(line, s, state))) continue;
      const [verbRaw, ...args] = line.split(' ');
      const verb = verbRaw!.toUpperCase();
      const g = state.group ? opts.groups[state.group] : undefined;
      const findArt = (ref: string | undefined): [number, Buffer] | undefined => {
        if (ref?.startsWith('<')) {
          for (const grp of Object.values(opts.groups))
            for (const [n, a] of grp.articles) if (header(a, 'Message-ID') === ref) return [n, a];
          return undefined;
        }
        const n = Number(ref);
        const a = g?.articles.get(n);
        return a ? [n, a] : undefined;
      };
      const range = (arg: string | undefined): number[] => {
        if (!g) return [];
        const [lo, hi] = (arg ?? '').split('-').map(Number);
        return [...g.articles.keys()].filter((n) => n >= lo! && n <= (hi ?? lo!)).sort((a, b) => a - b);
      };
      switch (verb) {
        case 'CAPABILITIES':
          s.status('101 Capability list:');
          s.block(caps.map((c) => `${c}\r\n`).join(''));
          break;
        case 'MODE':
          s.status('200 reader');
          break;
        case 'GROUP':
        case 'LISTGROUP': {
          const grp = opts.groups[args[0]!];
          if (!grp) {
            s.status('411 no such group');
            break;
          }
          state.group = args[0];
          const nums = [...grp.articles.keys()].sort((a, b) => a - b);
          const st = `211 ${nums.length} ${nums[0] ?? 1} ${nums[nums.length - 1] ?? 0} ${args[0]}`;
          s.status(st);
          if (verb === 'LISTGROUP') s.block(range(args[1] ?? '0-999999999').map((n) => `${n}\r\n`).join(''));
          break;
        }
        case 'ARTICLE':
        case 'HEAD':
        case 'BODY':
        case 'STAT': {
          if (!g && !args[0]?.startsWith('<')) {
            s.status('412 no group selected');
            break;
          }
          const f = findArt(args[0]);
          if (!f) {
            s.status(args[0]?.startsWith('<') ? '430 no such article' : '423 no such article number');
            break;
          }
          const [n, a] = f;
          const id = header(a, 'Message-ID');
          const code = { ARTICLE: 220, HEAD: 221, BODY: 222, STAT: 223 }[verb];
          s.status(`${code} ${args[0]?.startsWith('<') ? 0 : n} ${id}`);
          if (verb === 'ARTICLE') s.block(a);
          else if (verb === 'HEAD') s.block(headOf(a));
          else if (verb === 'BODY') s.block(bodyOf(a));
          break;
        }
        case 'OVER':
        case 'XOVER': {
          if (!g) {
            s.status('412 no group selected');
            break;
          }
          const nums = range(args[0]);
          if (nums.length === 0) {
            s.status('423 no articles in that range');
            break;
          }
          s.status('224 overview follows');
          s.block(
            nums
              .map((n) => {
                const a = g.articles.get(n)!;
                const f = ['Subject', 'From', 'Date', 'Message-ID', 'References'].map((h) => header(a, h));
                return `${n}\t${f.join('\t')}\t${a.length}\t${bodyOf(a).toString('latin1').split('\r\n').length - 1}\tXref: fake ${state.group}:${n}\r\n`;
              })
              .join(''),
          );
          break;
        }
        case 'HDR':
        case 'XHDR': {
          const nums = range(args[1]);
          s.status(verb === 'HDR' ? '225 headers follow' : '221 headers follow');
          s.block(nums.map((n) => `${n} ${header(g!.articles.get(n)!, args[0]!)}\r\n`).join(''));
          break;
        }
        case 'LIST': {
          const kw = (args[0] ?? 'ACTIVE').toUpperCase();
          s.status('215 list follows');
          if (kw === 'ACTIVE')
            s.block(
              Object.entries(opts.groups)
                .map(([name, grp]) => {
                  const nums = [...grp.articles.keys()];
                  return `${name} ${Math.max(0, ...nums)} ${nums.length ? Math.min(...nums) : 1} y\r\n`;
                })
                .join(''),
            );
          else if (kw === 'NEWSGROUPS') s.block(Object.keys(opts.groups).map((n) => `${n}\tThe ${n} group\r\n`).join(''));
          else s.block('Subject:\r\nFrom:\r\nDate:\r\nMessage-ID:\r\nReferences:\r\n:bytes\r\n:lines\r\nXref:full\r\n');
          break;
        }
        case 'DATE':
          s.status('111 20240229235958');
          break;
        case 'STARTTLS':
          if (!opts.tls) {
            s.status('580 no TLS');
            break;
          }
          s.status('382 go ahead');
          await s.startTls(opts.tls.key, opts.tls.cert);
          caps = caps.filter((c) => c !== 'STARTTLS');
          break;
        case 'COMPRESS':
          s.status('206 compression active');
          s.startCompression();
          caps = caps.filter((c) => !c.startsWith('COMPRESS'));
          break;
        case 'AUTHINFO':
          if (args[0]?.toUpperCase() === 'USER') {
            pendingUser = args.slice(1).join(' ');
            s.status('381 password please');
          } else if (args[0]?.toUpperCase() === 'PASS') {
            const ok = opts.auth && pendingUser === opts.auth.user && args.slice(1).join(' ') === opts.auth.password;
            s.status(ok ? '281 welcome' : '481 rejected');
          } else s.status('501 syntax');
          break;
        case 'QUIT':
          s.status('205 bye');
          s.end();
          return;
        default:
          s.status('500 what?');
      }
    }
  };
}

/** A test article with CRLF line ends. */
export function makeArticle(id: string, subject: string, body: string | Buffer, extra = ''): Buffer {
  const head = `From: a@example.com\r\nSubject: ${subject}\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: ${id}\r\nNewsgroups: misc.test\r\n${extra}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), typeof body === 'string' ? Buffer.from(body, 'latin1') : body]);
}
