/**
 * A minimal raw-socket IMAP client for timing: send one command, count bytes
 * until its tagged response, report the time. It parses only what it must to
 * find the end of a response: lines, and `{n}` / `~{n}` literals, whose bytes
 * are skipped without copying (so a 57 MB BODY[] costs no parsing).
 *
 *   const c = await RawImap.connect('127.0.0.1', port);   // waits for "* OK"
 *   const r = await c.command('UID FETCH 1:* (UID FLAGS)');
 *   r.status; r.bytes; r.responses; r.seconds; r.lines (only with { keep: true })
 *
 * For IDLE: `onUntagged` hears each untagged line as it arrives (whatever is
 * pending) and `onContinuation` each `+` line; `sendLine('DONE')` ends the IDLE.
 *
 * Contract: one command at a time (the caller awaits each); `command` rejects
 * with RawImapError 'TIMEOUT' | 'CLOSED' | 'PROTOCOL'; a tagged NO/BAD resolves
 * with that status (the caller decides). `close()` destroys the socket; the
 * client owns its socket.
 */
import { connect as netConnect, type Socket } from 'node:net';

/** A bench command should never take this long; a hung server must not hang the bench. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 600_000;
/** Greeting wait: the server is already known to listen when clients connect. */
const GREETING_TIMEOUT_MS = 30_000;

export class RawImapError extends Error {
  constructor(
    readonly code: 'TIMEOUT' | 'CLOSED' | 'PROTOCOL',
    message: string,
  ) {
    super(message);
    this.name = 'RawImapError';
  }
}

export interface CommandResult {
  status: 'OK' | 'NO' | 'BAD';
  /** The tagged line without the tag. */
  text: string;
  /** Bytes received for this command, tagged line included. */
  bytes: number;
  /** Untagged responses (`* …`) seen. */
  responses: number;
  seconds: number;
  /** Untagged lines (text up to the first literal) when `keep` was set. */
  lines: string[];
}

interface Pending {
  tag: string;
  keep: boolean;
  t0: number;
  bytes: number;
  responses: number;
  lines: string[];
  resolve: (r: CommandResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const CR = 13;
const LF = 10;

export class RawImap {
  private seq = 0;
  private pending: Pending | undefined;
  /** Pieces of the current line (up to CRLF). */
  private line: Buffer[] = [];
  private literalLeft = 0;
  /** The current line segment starts a response (false after a literal). */
  private atStart = true;
  private greeting: { resolve: (s: string) => void; reject: (e: Error) => void } | undefined;
  private closedErr: Error | undefined;
  /** Called with each untagged line (its text up to a first literal), at arrival. */
  onUntagged: ((line: string) => void) | undefined;
  /** Called at each continuation request (`+ …`). */
  onContinuation: (() => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new RawImapError('CLOSED', err.message)));
    socket.on('close', () => this.fail(new RawImapError('CLOSED', 'connection closed')));
  }

  /** Connect and wait for the greeting (`* OK` or `* PREAUTH`). */
  static connect(host: string, port: number): Promise<RawImap> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host, port });
      const c = new RawImap(socket);
      const timer = setTimeout(() => {
        c.close();
        reject(new RawImapError('TIMEOUT', 'no greeting'));
      }, GREETING_TIMEOUT_MS);
      c.greeting = {
        resolve: (line) => {
          clearTimeout(timer);
          if (/^\* (OK|PREAUTH)/i.test(line)) resolve(c);
          else {
            c.close();
            reject(new RawImapError('PROTOCOL', `greeting: ${line.slice(0, 200)}`));
          }
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  /** Send `command` with a fresh tag; resolves at its tagged response. */
  command(command: string, opts: { keep?: boolean; timeoutMs?: number } = {}): Promise<CommandResult> {
    if (this.pending) return Promise.reject(new RawImapError('PROTOCOL', 'one command at a time'));
    if (this.closedErr) return Promise.reject(this.closedErr);
    const tag = `B${++this.seq}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        reject(new RawImapError('TIMEOUT', `${command.slice(0, 60)}: no tagged response`));
        this.close();
      }, opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS);
      this.pending = { tag, keep: opts.keep ?? false, t0: performance.now(), bytes: 0, responses: 0, lines: [], resolve, reject, timer };
      this.socket.write(`${tag} ${command}\r\n`);
    });
  }

  /** Like `command` but rejects unless the status is OK. */
  async ok(command: string, opts: { keep?: boolean; timeoutMs?: number } = {}): Promise<CommandResult> {
    const r = await this.command(command, opts);
    if (r.status !== 'OK') throw new RawImapError('PROTOCOL', `${command.slice(0, 60)} → ${r.status} ${r.text.slice(0, 200)}`);
    return r;
  }

  /** Send one raw line (CRLF added), e.g. `DONE` while an IDLE command is pending. */
  sendLine(text: string): void {
    this.socket.write(`${text}\r\n`);
  }

  close(): void {
    this.socket.destroy();
  }

  private fail(err: Error): void {
    this.closedErr ??= err;
    this.greeting?.reject(err);
    this.greeting = undefined;
    const p = this.pending;
    if (p) {
      this.pending = undefined;
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  private onData(chunk: Buffer): void {
    if (this.pending) this.pending.bytes += chunk.length;
    let i = 0;
    while (i < chunk.length) {
      if (this.literalLeft > 0) {
        const n = Math.min(this.literalLeft, chunk.length - i);
        this.literalLeft -= n;
        i += n;
        continue;
      }
      const nl = chunk.indexOf(LF, i);
      if (nl < 0) {
        this.line.push(chunk.subarray(i));
        return;
      }
      this.line.push(chunk.subarray(i, nl + 1));
      i = nl + 1;
      this.onLine(this.line.length === 1 ? this.line[0]! : Buffer.concat(this.line));
      this.line = [];
    }
  }

  /** One line segment ending in LF: either a whole response line or the part up to a literal. */
  private onLine(buf: Buffer): void {
    const end = buf.length >= 2 && buf[buf.length - 2] === CR ? buf.length - 2 : buf.length - 1;
    const lit = literalAt(buf, end);
    const start = this.atStart;
    this.atStart = lit < 0;
    if (lit >= 0) this.literalLeft = lit;
    if (!start) return;
    if (this.greeting) {
      const g = this.greeting;
      this.greeting = undefined;
      g.resolve(buf.toString('latin1', 0, end));
      return;
    }
    if (buf[0] === 0x2a /* * */) this.onUntagged?.(buf.toString('utf8', 0, end));
    else if (buf[0] === 0x2b /* + */) this.onContinuation?.();
    const p = this.pending;
    if (!p) return;
    if (buf[0] === 0x2a /* * */) {
      p.responses++;
      if (p.keep) p.lines.push(buf.toString('utf8', 0, end));
      return;
    }
    if (buf[0] === 0x2b /* + */) return;
    const tagEnd = buf.indexOf(0x20);
    if (tagEnd > 0 && buf.toString('latin1', 0, tagEnd) === p.tag) {
      const text = buf.toString('utf8', tagEnd + 1, end);
      const status = text.slice(0, 3).toUpperCase().startsWith('OK') ? 'OK' : text.slice(0, 2).toUpperCase() === 'NO' ? 'NO' : 'BAD';
      this.pending = undefined;
      clearTimeout(p.timer);
      p.resolve({ status, text, bytes: p.bytes, responses: p.responses, seconds: (performance.now() - p.t0) / 1000, lines: p.lines });
    }
  }
}

/** If the line (content ends at `end`) ends with `{n}`, `{n+}` or `~{n}`, return n, else -1. */
function literalAt(buf: Buffer, end: number): number {
  if (end < 3 || buf[end - 1] !== 0x7d /* } */) return -1;
  let j = end - 2;
  if (buf[j] === 0x2b /* + */) j--;
  let n = 0;
  let mul = 1;
  let digits = 0;
  while (j >= 0 && buf[j]! >= 0x30 && buf[j]! <= 0x39) {
    n += (buf[j]! - 0x30) * mul;
    mul *= 10;
    digits++;
    j--;
  }
  if (digits === 0 || j < 0 || buf[j] !== 0x7b /* { */) return -1;
  return n;
}
