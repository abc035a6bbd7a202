/**
 * How flag changes travel between the processes of one PostgreSQL database
 * (LISTEN/NOTIFY): the payload codec and the listening connection.
 *
 * Every committed change sends one NOTIFY on the store's channel (inside the
 * writing transaction, so it is delivered exactly when the change commits,
 * in commit order). Payload, JSON, at most NOTIFY_MAX_BYTES:
 *
 *     {"o":"4f2a91c03b7e","u":"alice","m":"comp.lang.misc","v":1700000000,"s":42,
 *      "c":[[1,50000,["\\Seen"]]]}
 *
 * `o` the sending store (a store ignores its own: its sessions heard the change
 * already), `u`/`m`/`v` the key, `s` the change's modseq (= HIGHESTMODSEQ right
 * after it), `c` the UID runs changed with their flags then, or `null` when the
 * list does not fit: the receiver then reads the runs with modseq `s` itself.
 * `{"o":…,"u":"alice","r":1}` asks every session of the user to resync (the
 * agent's `.newsrc` import changed too many mailboxes to tell one by one).
 *
 * `PgListener` holds one dedicated connection (a pooled one could not keep
 * LISTEN); if it breaks it reconnects with back-off and, once listening again,
 * calls `onReconnect`: notifications sent meanwhile are lost, so the store tells
 * its watchers to resync. A ping every LISTEN_PING_MS finds a connection that
 * died silently.
 */
import pg from 'pg';
import type { Logger } from '../../util/log.js';
import type { RunChange } from './mailbox-state.js';
import type { RunChangeEvent } from './watchers.js';

/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; keep a margin. */
export const NOTIFY_MAX_BYTES = 7900;

/** Back-off of the listener's reconnects: first delay and cap (as the remote store's feed). */
export const LISTEN_RECONNECT_MIN_MS = 100;
export const LISTEN_RECONNECT_MAX_MS = 5_000;

/** A listening connection is pinged this often; a ping unanswered within LISTEN_PING_TIMEOUT_MS ends it. */
export const LISTEN_PING_MS = 10_000;
export const LISTEN_PING_TIMEOUT_MS = 5_000;

/** A decoded notification. */
export type Notice =
  | { origin: string; user: string; resync: true }
  | { origin: string; user: string; mailbox: string; uidValidity: number; modseq: number; runs: RunChange[] | null };

/** The payload of one committed change `e` (its runs share the modseq `e.highestModseq`). */
export function encodeChange(origin: string, e: RunChangeEvent): string {
  const head = { o: origin, u: e.key.user, m: e.key.mailbox, v: e.key.uidValidity, s: e.highestModseq };
  const full = JSON.stringify({ ...head, c: e.changes.map((c) => [c.lo, c.hi, c.flags]) });
  return Buffer.byteLength(full, 'utf8') <= NOTIFY_MAX_BYTES ? full : JSON.stringify({ ...head, c: null });
}

export function encodeResync(origin: string, user: string): string {
  return JSON.stringify({ o: origin, u: user, r: 1 });
}

const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The notice in `text`, or undefined if it is not one of ours (malformed). */
export function decodeNotice(text: string): Notice | undefined {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof j !== 'object' || j === null) return undefined;
  const o = j as Record<string, unknown>;
  if (typeof o.o !== 'string' || typeof o.u !== 'string') return undefined;
  if (o.r === 1) return { origin: o.o, user: o.u, resync: true };
  if (typeof o.m !== 'string' || !isUint(o.v) || !isUint(o.s)) return undefined;
  let runs: RunChange[] | null = null;
  if (o.c !== null) {
    if (!Array.isArray(o.c)) return undefined;
    runs = [];
    for (const c of o.c as unknown[]) {
      if (!Array.isArray(c) || !isUint(c[0]) || !isUint(c[1]) || c[0] > c[1] || !Array.isArray(c[2])) return undefined;
      if (!(c[2] as unknown[]).every((f) => typeof f === 'string')) return undefined;
      runs.push({ lo: c[0], hi: c[1], flags: c[2] as string[], modseq: o.s });
    }
  }
  return { origin: o.o, user: o.u, mailbox: o.m, uidValidity: o.v, modseq: o.s, runs };
}

export interface PgListenerOptions {
  url: string;
  channel: string;
  logger: Logger;
  /** Each payload received on the channel, in commit order. */
  onPayload: (payload: string) => void;
  /** Called each time listening resumes after a lost connection (not after the first start). */
  onReconnect: () => void;
}

export class PgListener {
  private client: pg.Client | undefined;
  private closed = false;
  private delay = LISTEN_RECONNECT_MIN_MS;
  private retry: NodeJS.Timeout | undefined;
  private readonly ping: NodeJS.Timeout;
  private pinging = false;
  private listening = false;

  constructor(private readonly o: PgListenerOptions) {
    this.ping = setInterval(() => void this.pingOnce(), LISTEN_PING_MS);
    this.ping.unref();
  }

  /** True while a connection is listening. */
  get isListening(): boolean {
    return this.listening;
  }

  /** Connect and LISTEN. Throws the driver's error if that fails (the caller decides). */
  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const c = new pg.Client({
      connectionString: this.o.url,
      application_name: 'newsfront flags listen',
      keepAlive: true,
      connectionTimeoutMillis: LISTEN_PING_TIMEOUT_MS,
      query_timeout: LISTEN_PING_TIMEOUT_MS,
    });
    c.on('notification', (m) => {
      if (c === this.client && m.channel === this.o.channel && m.payload !== undefined) this.o.onPayload(m.payload);
    });
    c.on('error', (err) => this.lost(c, err));
    c.on('end', () => this.lost(c));
    try {
      await c.connect();
      await c.query(`LISTEN ${c.escapeIdentifier(this.o.channel)}`);
    } catch (err) {
      c.end().catch(() => undefined);
      throw err;
    }
    if (this.closed) {
      c.end().catch(() => undefined);
      return;
    }
    // only now: a failure before this point is the caller's (start) or the retry loop's
    this.client = c;
    this.listening = true;
    this.delay = LISTEN_RECONNECT_MIN_MS;
  }

  private lost(c: pg.Client, err?: Error): void {
    if (c !== this.client || this.closed) return;
    this.client = undefined;
    this.listening = false;
    c.end().catch(() => undefined);
    this.o.logger.warn({ err: err?.message }, 'flag change listener lost its connection; reconnecting');
    this.schedule();
  }

  private schedule(): void {
    if (this.closed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.connect().then(
        () => {
          if (this.closed) return;
          this.o.logger.info('flag change listener listening again; watchers resync');
          this.o.onReconnect();
        },
        (err: unknown) => {
          this.o.logger.debug({ err: (err as Error).message }, 'flag change listener reconnect failed');
          this.delay = Math.min(this.delay * 2, LISTEN_RECONNECT_MAX_MS);
          this.schedule();
        },
      );
    }, this.delay);
    this.retry.unref();
  }

  private async pingOnce(): Promise<void> {
    const c = this.client;
    if (!c || !this.listening || this.pinging) return;
    this.pinging = true;
    try {
      await c.query('SELECT 1');
    } catch (err) {
      this.lost(c, err as Error);
    } finally {
      this.pinging = false;
    }
  }

  /** Stop listening and reconnecting. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.ping);
    if (this.retry) clearTimeout(this.retry);
    const c = this.client;
    this.client = undefined;
    this.listening = false;
    await c?.end().catch(() => undefined);
  }
}
