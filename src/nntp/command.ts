/**
 * One NNTP command as an `Exchange`, and the consumers that turn its response
 * into a promise, a list of lines, a byte stream or an async iterator.
 *
 * Rules shared by all commands:
 * - a status in `okCodes` goes to the consumer; any other status becomes the
 *   typed error of errors.ts;
 * - a data block follows exactly when the status is in `dataCodes` (also on
 *   failure paths, so an unexpected data block is drained, never misparsed);
 * - if the command depends on a group selection that failed (`sel.error`), its
 *   own response is drained and it fails with the selection's error.
 * Consumers get `ok` at most once, then `end` or `fail` exactly once.
 */
import { Readable } from 'node:stream';
import { NntpError, errorForStatus } from './errors.js';
import type { Exchange, NntpConnection } from './connection.js';
import { LineSplitter } from './lines.js';
import { parseArticleStatus } from './args.js';
import { ARTICLE_STREAM_HIGH_WATER, LINE_QUEUE_HIGH_WATER, STREAM_GC_HINT_BYTES } from './limits.js';
import { minorGc } from './gc-hint.js';

/** A pipelined group selection (GROUP or LISTGROUP) that later commands depend on. */
export interface Selection {
  readonly name: string;
  error?: NntpError;
}

export interface Consumer {
  ok(code: number, text: string): void;
  data?(chunk: Buffer): void;
  end(): void;
  fail(err: NntpError): void;
}

export interface CommandSpec {
  /** Command text without CRLF, for the wire; null for the greeting. */
  line: string | null;
  /** Command text for error messages and logs (credentials removed). */
  label?: string;
  okCodes: readonly number[];
  dataCodes?: readonly number[];
  sel?: Selection;
  timeoutMs?: number;
  haltAfterStatus?: boolean;
  /** Map a failure status to an error (default: errorForStatus). */
  mapError?: (code: number, text: string) => NntpError;
}

export class Command implements Exchange {
  readonly line: Buffer | null;
  readonly timeoutMs?: number;
  readonly haltAfterStatus?: boolean;
  private err: NntpError | undefined;
  private done = false;

  constructor(
    private readonly spec: CommandSpec,
    private readonly consumer: Consumer,
  ) {
    this.line = spec.line === null ? null : Buffer.from(`${spec.line}\r\n`, 'utf8');
    if (spec.timeoutMs !== undefined) this.timeoutMs = spec.timeoutMs;
    if (spec.haltAfterStatus) this.haltAfterStatus = true;
  }

  status(code: number, text: string): boolean {
    const hasData = (this.spec.dataCodes ?? []).includes(code);
    if (this.spec.sel?.error) {
      this.err = this.spec.sel.error;
    } else if (!this.spec.okCodes.includes(code)) {
      const label = this.spec.label ?? this.spec.line ?? 'greeting';
      this.err = this.spec.mapError?.(code, text) ?? errorForStatus(code, text, label);
    } else {
      this.consumer.ok(code, text);
    }
    if (!hasData) this.finish();
    return hasData;
  }

  data(chunk: Buffer): void {
    if (!this.err && !this.done) this.consumer.data?.(chunk);
  }

  end(): void {
    this.finish();
  }

  fail(err: NntpError): void {
    if (this.done) return;
    this.done = true;
    this.consumer.fail(err);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    if (this.err) this.consumer.fail(this.err);
    else this.consumer.end();
  }
}

export interface StatusResult {
  code: number;
  text: string;
}

/** Resolves with the status once the response (and any data) is complete. */
export function statusConsumer(): { consumer: Consumer; result: Promise<StatusResult> } {
  let st: StatusResult = { code: 0, text: '' };
  let resolve!: (r: StatusResult) => void;
  let reject!: (e: NntpError) => void;
  const result = new Promise<StatusResult>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return {
    consumer: { ok: (code, text) => (st = { code, text }), end: () => resolve(st), fail: reject },
    result,
  };
}

/** Collects a text response's lines (each ≤ maxLineBytes, else PROTOCOL). */
export const linesConsumer = (maxLineBytes: number): ReturnType<typeof itemsConsumer<Buffer>> =>
  itemsConsumer(maxLineBytes, (buf, start, end) => buf.subarray(start, end));

/** Collects what `parse` makes of each line of a text response (undefined: skipped; `onItem` told of each kept); a line is a range of a buffer valid during the call only (lines.ts). */
export function itemsConsumer<T>(
  maxLineBytes: number,
  parse: (buf: Buffer, start: number, end: number) => T | undefined,
  onItem?: () => void,
): { consumer: Consumer; result: Promise<StatusResult & { lines: T[] }> } {
  const lines: T[] = [];
  const splitter = new LineSplitter((buf, start, end) => {
    const v = parse(buf, start, end);
    if (v !== undefined) {
      lines.push(v);
      onItem?.();
    }
  }, maxLineBytes);
  const { consumer: base, result } = statusConsumer();
  return {
    consumer: {
      ok: base.ok,
      data: (c) => splitter.push(c),
      end: () => {
        splitter.end();
        base.end();
      },
      fail: base.fail,
    },
    result: result.then((r) => ({ ...r, lines })),
  };
}

/** Collects a byte response up to `limit` bytes; beyond it the rest is drained and PROTOCOL is raised. */
export function bytesConsumer(limit: number, what: string): {
  consumer: Consumer;
  result: Promise<StatusResult & { data: Buffer }>;
} {
  const parts: Buffer[] = [];
  let size = 0;
  let over = false;
  let st: StatusResult = { code: 0, text: '' };
  let resolve!: (r: StatusResult & { data: Buffer }) => void;
  let reject!: (e: NntpError) => void;
  const result = new Promise<StatusResult & { data: Buffer }>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return {
    consumer: {
      ok: (code, text) => (st = { code, text }),
      data: (c) => {
        if (over) return;
        size += c.length;
        if (size > limit) {
          over = true;
          parts.length = 0;
        } else parts.push(c);
      },
      end: () => {
        if (over) reject(new NntpError('PROTOCOL', `${what} exceeds ${limit} bytes`));
        else resolve({ ...st, data: Buffer.concat(parts, size) });
      },
      fail: reject,
    },
    result,
  };
}

/**
 * Hands a data block to a synchronous `sink` as it is parsed (no stream, no
 * backpressure). `accept` sees the status line's Message-ID first; when it
 * says no, the data is read and dropped. A bad status line or a sink that
 * throws fails this command only: the rest of the block is drained and the
 * connection stays usable.
 */
export function sinkConsumer(
  sink: (chunk: Buffer) => void,
  accept: (messageId: string) => boolean,
  onChunk: () => void,
): { consumer: Consumer; result: Promise<{ number: number; messageId: string; accepted: boolean }> } {
  let status = { number: 0, messageId: '' };
  let accepted = false;
  let failure: unknown;
  let resolve!: (r: { number: number; messageId: string; accepted: boolean }) => void;
  let reject!: (e: unknown) => void;
  const result = new Promise<{ number: number; messageId: string; accepted: boolean }>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return {
    consumer: {
      ok: (_code, text) => {
        try {
          status = parseArticleStatus(text);
          accepted = accept(status.messageId);
        } catch (err) {
          failure = err;
        }
      },
      data: (c) => {
        onChunk();
        if (!accepted || failure !== undefined) return;
        try {
          sink(c);
        } catch (err) {
          failure = err;
        }
      },
      end: () => (failure !== undefined ? reject(failure) : resolve({ ...status, accepted })),
      fail: reject,
    },
    result,
  };
}

/**
 * Streams a data block into a Readable with backpressure: when the reader falls
 * behind (push returns false) socket reading is paused until `_read`. If the
 * reader destroys the stream early, the rest of the block is read and discarded
 * so the connection stays usable. Resolves as soon as the status line is read.
 * The stream has a no-op 'error' listener: a connection failure mid-article
 * destroys it with CLOSED/TIMEOUT, and that must not crash a process in which
 * nobody listens.
 */
export function streamConsumer(
  conn: NntpConnection,
  onChunk: () => void,
): { consumer: Consumer; result: Promise<StatusResult & { stream: Readable }> } {
  let stream: Readable | undefined;
  /** Bytes since the last GC hint (STREAM_GC_HINT_BYTES). */
  let streamed = 0;
  let resolve!: (r: StatusResult & { stream: Readable }) => void;
  let reject!: (e: NntpError) => void;
  const result = new Promise<StatusResult & { stream: Readable }>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return {
    consumer: {
      ok: (code, text) => {
        const token = {};
        const s = new Readable({
          highWaterMark: ARTICLE_STREAM_HIGH_WATER,
          read: () => conn.resumeInput(token),
          destroy: (err, cb) => {
            conn.resumeInput(token);
            cb(err);
          },
        });
        s.on('error', () => {});
        (s as Readable & { nntpToken?: object }).nntpToken = token;
        stream = s;
        resolve({ code, text, stream: s });
      },
      data: (c) => {
        const s = stream!;
        if (s.destroyed) return;
        onChunk();
        streamed += c.length;
        if (streamed >= STREAM_GC_HINT_BYTES) {
          streamed = 0;
          minorGc();
        }
        if (!s.push(c)) conn.pauseInput((s as Readable & { nntpToken?: object }).nntpToken!);
      },
      end: () => {
        if (stream && !stream.destroyed) stream.push(null);
      },
      fail: (err) => {
        if (stream) stream.destroy(err);
        else reject(err);
      },
    },
    result,
  };
}

/**
 * An async iterator over parsed lines of a text response (OVER, HDR), started
 * lazily by the first `next()`. Lines beyond LINE_QUEUE_HIGH_WATER pause the
 * socket until the consumer catches up. `return()` (a `break` in for-await)
 * discards the rest of the response.
 */
export class LineQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  private finished = false;
  private error: NntpError | undefined;
  private discarding = false;
  private started = false;
  private paused = false;

  constructor(
    private readonly conn: NntpConnection,
    private readonly maxLineBytes: number,
    private readonly parse: (line: Buffer) => T | undefined,
    private readonly start: (consumer: Consumer) => void,
    private readonly onItem: () => void,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    if (!this.started) {
      this.started = true;
      this.start(this.makeConsumer());
    }
    const item = this.items.shift();
    if (item !== undefined) {
      this.maybeResume();
      return Promise.resolve({ value: item, done: false });
    }
    if (this.error) return Promise.reject(this.error);
    if (this.finished) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  async return(): Promise<IteratorResult<T>> {
    this.discarding = true;
    this.items.length = 0;
    this.maybeResume();
    return { value: undefined, done: true };
  }

  private makeConsumer(): Consumer {
    const splitter = new LineSplitter((buf, start, end) => {
      if (this.discarding) return;
      const v = this.parse(buf.subarray(start, end));
      if (v === undefined) return;
      this.onItem();
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w.resolve({ value: v, done: false });
        return;
      }
      this.items.push(v);
      if (this.items.length >= LINE_QUEUE_HIGH_WATER && !this.paused) {
        this.paused = true;
        this.conn.pauseInput(this);
      }
    }, this.maxLineBytes);
    return {
      ok: () => {},
      data: (c) => splitter.push(c),
      end: () => {
        splitter.end();
        this.finished = true;
        this.settle();
      },
      fail: (err) => {
        this.error = err;
        this.finished = true;
        this.settle();
      },
    };
  }

  /** Wake a pending next() after the response ended or failed. */
  private settle(): void {
    if (!this.waiter) return;
    const w = this.waiter;
    this.waiter = undefined;
    if (this.error) w.reject(this.error);
    else w.resolve({ value: undefined, done: true });
  }

  private maybeResume(): void {
    if (this.paused && (this.discarding || this.items.length < LINE_QUEUE_HIGH_WATER / 2)) {
      this.paused = false;
      this.conn.resumeInput(this);
    }
  }
}
