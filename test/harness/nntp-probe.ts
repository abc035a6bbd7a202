/**
 * A tiny raw NNTP client for the test harness itself (readiness polling, STAT of
 * injected articles, harness self-tests). Deliberately independent of
 * `src/nntp/client.ts`, which is code under test.
 *
 *   S: 200 news.test InterNetNews NNRP server INN 2.7.1 ready (posting ok)
 *   C: GROUP alt.test          S: 211 4 1 4 alt.test
 *   C: STAT <id@example>       S: 223 0 <id@example> status
 *
 * Commands may be pipelined: each call queues a request, responses are matched
 * in order. Multi-line data is returned as raw bytes, still dot-stuffed, with the
 * terminating `.\r\n` removed. The caller closes the probe (`close()`); a socket
 * error rejects every pending request with `NntpProbeError`.
 */
import { connect, type Socket } from 'node:net';

/** Waiting longer than this for one response means the server is stuck, not slow. */
const RESPONSE_TIMEOUT_MS = 60_000;
const TERMINATOR = Buffer.from('\r\n.\r\n');

export class NntpProbeError extends Error {
  readonly code: 'CONNECT' | 'CLOSED' | 'TIMEOUT' | 'BAD_GREETING';
  constructor(code: NntpProbeError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NntpProbeError';
    this.code = code;
  }
}

export interface ProbeResponse {
  code: number;
  /** The status line without CRLF. */
  line: string;
  /** For multi-line responses: data block bytes (dot-stuffed, CRLF, without final `.\r\n`). */
  data?: Buffer;
}

interface Pending {
  multiCodes: readonly number[];
  resolve(r: ProbeResponse): void;
  reject(e: Error): void;
}

export class NntpProbe {
  /** Receive buffer grown geometrically (a 20 MB OVER response must not cost O(n²) copies). */
  private store: Buffer = Buffer.allocUnsafe(64 * 1024);
  private start = 0;
  private end = 0;
  /** Where the terminator search resumes in the current multi-line block (relative to start). */
  private scanFrom = 0;
  private readonly queue: Pending[] = [];
  private failed: Error | undefined;
  private current: { code: number; line: string } | undefined;

  private constructor(
    private readonly socket: Socket,
    readonly greeting: string,
  ) {}

  /** Connect and read the greeting; resolves only on a 200/201 greeting. */
  static connect(host: string, port: number, timeoutMs = 10_000): Promise<NntpProbe> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, noDelay: true });
      let pre = Buffer.alloc(0);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new NntpProbeError('TIMEOUT', `no NNTP greeting from ${host}:${port} in ${timeoutMs} ms`));
      }, timeoutMs);
      const onData = (chunk: Buffer): void => {
        pre = Buffer.concat([pre, chunk]);
        const eol = pre.indexOf('\r\n');
        if (eol < 0) return;
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('error', onError);
        const line = pre.subarray(0, eol).toString('latin1');
        if (!/^20[01] /.test(line)) {
          socket.destroy();
          reject(new NntpProbeError('BAD_GREETING', `unexpected NNTP greeting: ${line}`));
          return;
        }
        const probe = new NntpProbe(socket, line);
        probe.attach(pre.subarray(eol + 2));
        resolve(probe);
      };
      const onError = (err: Error): void => {
        clearTimeout(timer);
        reject(new NntpProbeError('CONNECT', `cannot connect to ${host}:${port}: ${err.message}`, { cause: err }));
      };
      socket.on('data', onData);
      socket.once('error', onError);
    });
  }

  private attach(rest: Buffer): void {
    this.socket.on('data', (chunk: Buffer) => {
      this.append(chunk);
      this.drain();
    });
    this.socket.on('error', (err) => this.fail(new NntpProbeError('CLOSED', `NNTP connection error: ${err.message}`, { cause: err })));
    this.socket.on('close', () => this.fail(new NntpProbeError('CLOSED', 'NNTP connection closed')));
    if (rest.length > 0) {
      this.append(rest);
      this.drain();
    }
  }

  private append(chunk: Buffer): void {
    const used = this.end - this.start;
    if (this.end + chunk.length > this.store.length) {
      if (used + chunk.length <= this.store.length / 2) {
        this.store.copyWithin(0, this.start, this.end);
      } else {
        const bigger = Buffer.allocUnsafe(Math.max(this.store.length * 2, used + chunk.length));
        this.store.copy(bigger, 0, this.start, this.end);
        this.store = bigger;
      }
      this.start = 0;
      this.end = used;
    }
    this.end += chunk.copy(this.store, this.end);
  }

  private get buf(): Buffer {
    return this.store.subarray(this.start, this.end);
  }

  private consume(n: number): void {
    this.start += n;
    if (this.start === this.end) this.start = this.end = 0;
  }

  private fail(err: Error): void {
    this.failed ??= err;
    for (const p of this.queue.splice(0)) p.reject(err);
  }

  private drain(): void {
    for (;;) {
      const head = this.queue[0];
      if (!head) return;
      if (!this.current) {
        const eol = this.buf.indexOf('\r\n');
        if (eol < 0) return;
        const line = this.buf.subarray(0, eol).toString('latin1');
        this.consume(eol + 2);
        this.scanFrom = 0;
        this.current = { code: Number.parseInt(line.slice(0, 3), 10), line };
      }
      const cur = this.current;
      if (!head.multiCodes.includes(cur.code)) {
        this.queue.shift();
        this.current = undefined;
        head.resolve({ code: cur.code, line: cur.line });
        continue;
      }
      // Multi-line: data ends with CRLF . CRLF; an empty block is just ". CRLF".
      let dataEnd: number;
      let skip: number;
      const buf = this.buf;
      if (buf.length >= 3 && buf[0] === 0x2e && buf[1] === 0x0d && buf[2] === 0x0a) {
        dataEnd = 0;
        skip = 3;
      } else {
        const t = buf.indexOf(TERMINATOR, this.scanFrom);
        if (t < 0) {
          this.scanFrom = Math.max(0, buf.length - TERMINATOR.length + 1);
          return;
        }
        dataEnd = t + 2;
        skip = t + 5;
      }
      const data = Buffer.from(buf.subarray(0, dataEnd));
      this.consume(skip);
      this.scanFrom = 0;
      this.queue.shift();
      this.current = undefined;
      head.resolve({ code: cur.code, line: cur.line, data });
    }
  }

  /**
   * Send one command line (without CRLF). `multiCodes` lists the status codes after
   * which a multi-line data block follows (e.g. [220] for ARTICLE, [211] for LISTGROUP).
   */
  command(line: string, multiCodes: readonly number[] = []): Promise<ProbeResponse> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      // A lost response desynchronises the pipeline: fail everything and close.
      const timer = setTimeout(() => {
        this.fail(new NntpProbeError('TIMEOUT', `no response to "${line}" in ${RESPONSE_TIMEOUT_MS} ms`));
        this.socket.destroy();
      }, RESPONSE_TIMEOUT_MS);
      this.queue.push({
        multiCodes,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.socket.write(`${line}\r\n`);
    });
  }

  /** GROUP name → {count, low, high}, or undefined for 411 (no such group). */
  async group(name: string): Promise<{ count: number; low: number; high: number } | undefined> {
    const r = await this.command(`GROUP ${name}`);
    if (r.code === 411) return undefined;
    if (r.code !== 211) throw new Error(`GROUP ${name}: ${r.line}`);
    const [, count, low, high] = r.line.split(' ');
    return { count: Number(count), low: Number(low), high: Number(high) };
  }

  /** Send QUIT and close the socket. Never throws. */
  async close(): Promise<void> {
    if (!this.failed) {
      await this.command('QUIT').catch(() => undefined);
    }
    this.socket.destroy();
  }
}
