/**
 * A small pool of NNTP connections to one server.
 *
 * Contract:
 * - Connects lazily, up to `size` clients (default 2). Each `use` goes to the
 *   live client with the fewest `use` calls in progress; a new client is opened
 *   only when every existing one is busy and the pool is not full. Because the
 *   client pipelines, several `use` calls may share one connection. A `bulk`
 *   use goes to the first client with fewer than a pipeline window of uses in
 *   progress instead (see `use`).
 * - A `background` use (work no client waits for: the index's HDR reads) is
 *   kept off one connection when the pool has more than one, and client uses
 *   (bulk or not) go first to connections carrying no background use, so a
 *   client's commands never queue behind a long background answer that INN
 *   answers in order on the same connection (see `pick`).
 * - A client that closes (peer gone, timeout, protocol error) leaves the pool;
 *   the next `use` connects a new one, which is logged as a reconnect.
 * - `use(fn)` retries once, on a fresh client, when connecting or `fn` fails with
 *   CLOSED or UNAVAILABLE and no response data (stream chunks, overview lines)
 *   was handed out by that client while `fn` ran. `fn` must therefore not have
 *   other effects before it resolves. Otherwise the error is rethrown as is.
 * - `warm(n)` opens connections ahead of use (at start: a first SELECT's OVER
 *   batches then find them open instead of waiting for INN's nnrpd each).
 * - `close()` QUITs every client; later `use` calls reject with CLOSED.
 * - `onRequest` (optional) is told how each `use` ended, once per call after
 *   any retry: `ok`, the NntpError code, or `other` (metrics).
 */
import type { Logger } from 'pino';
import { pino } from 'pino';
import { NntpClient } from './client.js';
import { NntpError, isNntpError, type NntpErrorCode } from './errors.js';
import type { NntpClientOptions } from './types.js';
import { DEFAULT_PIPELINE_WINDOW } from './limits.js';

export interface NntpPoolOptions extends NntpClientOptions {
  size?: number /* default 2 */;
  name?: string;
  /** Told how each `use` ended (see the contract); must be cheap and not throw. */
  onRequest?: (result: 'ok' | NntpErrorCode | 'other') => void;
}

interface Slot {
  client: NntpClient | undefined;
  ready: Promise<NntpClient>;
  busy: number;
  /** Of `busy`, the background uses. */
  background: number;
}

/** How a `use` is placed: `true` bulk, `false` single (the default), `'background'` see the contract. */
export type UseMode = boolean | 'background';

export const DEFAULT_POOL_SIZE = 2;

export class NntpPool {
  private readonly slots: Slot[] = [];
  private readonly size: number;
  /** Bulk uses a client takes before the next one is used (see `use`). */
  private readonly bulkDepth: number;
  private readonly log: Logger;
  /** Clients that closed and have not been replaced yet (for the reconnect log). */
  private lost = 0;
  private closed = false;

  constructor(private readonly opts: NntpPoolOptions) {
    this.size = Math.max(1, opts.size ?? DEFAULT_POOL_SIZE);
    this.bulkDepth = Math.max(1, opts.pipelineWindow ?? DEFAULT_PIPELINE_WINDOW);
    this.log = (opts.logger ?? pino({ level: 'silent' })).child({
      component: 'nntp-pool',
      pool: opts.name ?? `${opts.host}:${opts.port}`,
    });
  }

  /**
   * `bulk`: one of many small requests issued together (a listing reading every
   * article): it goes to the first client with fewer than a pipeline window of
   * uses in progress, so a listing stays on one connection instead of being
   * spread over all of them. INN's nnrpd spends less CPU on one deep pipeline
   * than on several shallow ones (measured: a 100k-article listing, nnrpd CPU
   * 6.9–8.0 s over 4 connections, 5.6 s over one). Single requests keep going
   * to the least busy client, so they do not queue behind a listing.
   */
  use<T>(fn: (c: NntpClient) => Promise<T>, mode: UseMode = false): Promise<T> {
    if (this.closed) return Promise.reject(new NntpError('CLOSED', 'pool is closed'));
    const slot = this.pick(mode);
    const client = slot.client;
    if (client === undefined || client.closed) return this.useAwaiting(fn, slot, mode);
    // Connected already (the usual case): call at once, no await on `ready`.
    // A listing makes one call per article; each async layer is another promise.
    const bg = mode === 'background' ? 1 : 0;
    slot.busy++;
    slot.background += bg;
    const before = client.deliveredCount;
    let p: Promise<T>;
    try {
      p = fn(client);
    } catch (err) {
      p = Promise.reject(err);
    }
    return p.then(
      (v) => {
        slot.busy--;
        slot.background -= bg;
        this.opts.onRequest?.('ok');
        return v;
      },
      (err: unknown) => {
        slot.busy--;
        slot.background -= bg;
        if (this.retryable(err, client, before)) return this.useAwaiting(fn, undefined, mode, 1);
        this.report(err);
        throw err;
      },
    );
  }

  /** `use` for a slot still connecting (or on the retry): the first attempt goes to `first` when given. */
  private async useAwaiting<T>(fn: (c: NntpClient) => Promise<T>, first: Slot | undefined, mode: UseMode, attempt = 0): Promise<T> {
    const bg = mode === 'background' ? 1 : 0;
    for (; ; attempt++) {
      if (this.closed) throw new NntpError('CLOSED', 'pool is closed');
      const slot = first ?? this.pick(mode);
      first = undefined;
      slot.busy++;
      slot.background += bg;
      let client: NntpClient | undefined;
      let before = 0;
      try {
        client = await slot.ready;
        before = client.deliveredCount;
        const v = await fn(client);
        this.opts.onRequest?.('ok');
        return v;
      } catch (err) {
        if (attempt === 0 && this.retryable(err, client, before)) continue;
        this.report(err);
        throw err;
      } finally {
        slot.busy--;
        slot.background -= bg;
      }
    }
  }

  /**
   * A first attempt that failed with CLOSED or UNAVAILABLE before its client
   * handed out any data is retried on a fresh client (see the contract above);
   * a CLOSED client is destroyed so that it leaves the pool.
   */
  private retryable(err: unknown, client: NntpClient | undefined, before: number): boolean {
    const untouched = client === undefined || client.deliveredCount === before;
    if (!untouched || !isNntpError(err, 'CLOSED', 'UNAVAILABLE') || this.closed) return false;
    this.log.info({ err: err.message }, 'nntp request failed before any data; retrying on a fresh connection');
    if (client && !client.closed && isNntpError(err, 'CLOSED')) client.destroy();
    return true;
  }

  private report(err: unknown): void {
    this.opts.onRequest?.(err instanceof NntpError ? err.code : 'other');
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    await Promise.all(
      slots.map(async (s) => {
        const c = await s.ready.catch(() => undefined);
        await c?.quit();
      }),
    );
  }

  /**
   * Opens connections until `n` (at most the pool size) are live or in
   * progress, and resolves when those are ready. Never rejects: a failed
   * connect is logged (as any) and left to the next `use`.
   */
  async warm(n: number): Promise<void> {
    while (!this.closed && this.slots.length < Math.min(n, this.size)) this.open();
    await Promise.all(this.slots.map((s) => s.ready.catch(() => undefined)));
  }

  /** Live clients or connections in progress (for tests and metrics). */
  get connections(): number {
    return this.slots.length;
  }

  /**
   * Where a use goes. Client uses look first at the connections without
   * background work (then, the pool being full, at all of them): bulk to
   * the first with room in its pipeline window, single to the least busy
   * (a new connection when that one is busy and the pool has room).
   * Background uses go where client ones would, except that with more than
   * one connection allowed they never take the last connection free of
   * background work: then they join the least busy connection that has some.
   */
  private pick(mode: UseMode = false): Slot {
    if (mode === 'background') {
      const carrying = this.slots.filter((s) => s.background > 0);
      if (this.size > 1 && carrying.length >= this.size - 1) return leastBusy(carrying)!;
      return this.pickAmong(this.slots, false) ?? this.open();
    }
    const clean = this.slots.length === 0 ? this.slots : this.slots.filter((s) => s.background === 0);
    return this.pickAmong(clean, mode) ?? (this.slots.length < this.size ? this.open() : this.pickAmong(this.slots, mode)!);
  }

  /** The existing connection among `slots` a use goes to, or undefined when a new one should be opened (or there is none). */
  private pickAmong(slots: readonly Slot[], bulk: boolean): Slot | undefined {
    if (bulk) {
      for (const s of slots) if (s.busy < this.bulkDepth) return s;
    }
    const best = leastBusy(slots);
    if (best && (best.busy === 0 || this.slots.length >= this.size)) return best;
    return undefined;
  }

  private open(): Slot {
    if (this.lost > 0) {
      this.lost--;
      this.log.info({ live: this.slots.length }, 'nntp reconnecting after a lost connection');
    }
    const slot: Slot = { client: undefined, ready: undefined as unknown as Promise<NntpClient>, busy: 0, background: 0 };
    const drop = () => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
    };
    slot.ready = NntpClient.connect(this.opts).then(
      (c) => {
        slot.client = c;
        c.on('close', () => {
          this.log.debug('nntp connection closed; leaving pool');
          if (!this.closed && this.slots.includes(slot)) this.lost++;
          drop();
        });
        if (this.closed) void c.quit();
        return c;
      },
      (err: unknown) => {
        drop();
        this.log.warn({ err: (err as Error).message }, 'nntp connect failed');
        throw err;
      },
    );
    slot.ready.catch(() => {}); // observed via use(); never an unhandled rejection
    this.slots.push(slot);
    return slot;
  }
}

function leastBusy(slots: readonly Slot[]): Slot | undefined {
  let best: Slot | undefined;
  for (const s of slots) if (!best || s.busy < best.busy) best = s;
  return best;
}
