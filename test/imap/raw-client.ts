/** A minimal line-level IMAP client for protocol tests: sends raw bytes, collects responses. */
import { connect, type Socket } from 'node:net';

export class RawClient {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Connect to 127.0.0.1:`port` (from `localAddress`, e.g. 127.0.0.2, when given) and wait for the greeting. */
  static async connect(port: number, localAddress?: string): Promise<RawClient> {
    const socket = connect({ port, host: '127.0.0.1', ...(localAddress !== undefined ? { localAddress } : {}) });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const c = new RawClient(socket);
    await c.until((t) => t.includes('\r\n'));
    c.take();
    return c;
  }

  /** Wait until `pred(text so far)`; rejects after `ms`. */
  async until(pred: (text: string) => boolean, ms = 10_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const text = this.buf.toString('latin1');
      if (pred(text)) return text;
      if (this.closed) throw new Error(`connection closed; got: ${text.slice(0, 500)}`);
      if (Date.now() > deadline) throw new Error(`timeout; got: ${text.slice(-500)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /**
   * Like `until`, but never throws: resolves with the text so far once `pred`
   * holds, the connection closed or `ms` passed. For tests that then assert on
   * exactly what arrived (a failure shows what came, or that nothing did).
   */
  async settle(pred: (text: string) => boolean, ms = 10_000): Promise<string> {
    try {
      return await this.until(pred, ms);
    } catch {
      return this.buf.toString('latin1');
    }
  }

  take(): string {
    const t = this.buf.toString('latin1');
    this.buf = Buffer.alloc(0);
    return t;
  }

  takeBuffer(): Buffer {
    const b = this.buf;
    this.buf = Buffer.alloc(0);
    return b;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Send `tag command` and return everything up to and including the tagged reply. */
  async cmd(tag: string, command: string | Buffer, ms?: number): Promise<string> {
    this.write(typeof command === 'string' ? `${tag} ${command}\r\n` : Buffer.concat([Buffer.from(`${tag} `), command, Buffer.from('\r\n')]));
    const re = new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`);
    await this.until((t) => re.test(t), ms);
    return this.take();
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The tagged status line of a response. */
export function tagged(resp: string, tag: string): string {
  const m = new RegExp(`(?:^|\\r\\n)(${tag} (?:OK|NO|BAD)[^\\r\\n]*)`).exec(resp);
  return m ? m[1]! : '';
}

/** The literals of `* n FETCH (UID u BODY[] {len}` responses in `buf`, by UID. */
export function bodyLiterals(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  const text = buf.toString('latin1');
  const re = /\* \d+ FETCH \(UID (\d+) BODY\[\] \{(\d+)\}\r\n/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const start = m.index + m[0].length;
    out.set(Number(m[1]), buf.subarray(start, start + Number(m[2])));
    re.lastIndex = start + Number(m[2]);
  }
  return out;
}

/** The complete untagged (`* …`) and continuation (`+ …`) lines of a response without literals, CRLF removed. */
export function untagged(resp: string): string[] {
  return resp.split('\r\n').slice(0, -1).filter((l) => l.startsWith('* ') || l.startsWith('+'));
}
