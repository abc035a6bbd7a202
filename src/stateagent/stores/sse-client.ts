/**
 * A Server-Sent Events client over `fetch` (WHATWG HTML §9.2.6 parsing rules:
 * `field: value` lines, blank line dispatches, `:` comments, `id` kept for
 * `Last-Event-ID`). It reconnects on its own with capped exponential back-off
 * until `close()`. Used by the remote flag store for the agent's change feed.
 */
import type { Logger } from '../../util/log.js';
import { SSE_HEARTBEAT_MS, SSE_RECONNECT_MAX_MS, SSE_RECONNECT_MIN_MS } from '../limits.js';

export interface SseMessage {
  event: string;
  data: string;
  id: string;
}

export interface SseFeedOptions {
  url: string;
  headers: Record<string, string>;
  onMessage: (m: SseMessage) => void;
  /**
   * Called each time a connection is established (status 200 received);
   * `again`: not the first connection, `lastId`: the id it resumed from ('' = none).
   */
  onOpen?: (info: { again: boolean; lastId: string }) => void;
  logger: Logger;
}

/** Longest line kept while parsing; a longer one means a broken feed (reconnect). */
const MAX_LINE_CHARS = 8 * 1024 * 1024;

export class SseFeed {
  private ctrl: AbortController | undefined;
  private closed = false;
  private lastId = '';
  private delay = SSE_RECONNECT_MIN_MS;
  private timer: NodeJS.Timeout | undefined;
  private connected = false;
  private opens = 0;
  private waiters: Array<() => void> = [];

  constructor(private readonly o: SseFeedOptions) {
    void this.loop();
  }

  /** Resolves once a connection is open (at once if it is). */
  whenOpen(): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.ctrl?.abort();
  }

  private async loop(): Promise<void> {
    while (!this.closed) {
      try {
        await this.connectOnce();
      } catch (err) {
        if (!this.closed) this.o.logger.debug({ err: (err as Error).message, url: this.o.url }, 'change feed dropped');
      }
      this.connected = false;
      if (this.closed) return;
      await new Promise<void>((r) => {
        this.timer = setTimeout(r, this.delay);
      });
      this.delay = Math.min(this.delay * 2, SSE_RECONNECT_MAX_MS);
    }
  }

  private async connectOnce(): Promise<void> {
    this.ctrl = new AbortController();
    const headers: Record<string, string> = { ...this.o.headers, accept: 'text/event-stream' };
    if (this.lastId) headers['last-event-id'] = this.lastId;
    const res = await fetch(this.o.url, { headers, signal: this.ctrl.signal });
    if (res.status !== 200 || !res.body) {
      await res.body?.cancel();
      throw new Error(`feed answered ${res.status}`);
    }
    this.connected = true;
    this.delay = SSE_RECONNECT_MIN_MS;
    this.o.onOpen?.({ again: this.opens++ > 0, lastId: this.lastId });
    for (const w of this.waiters.splice(0)) w();
    // The agent sends a comment every SSE_HEARTBEAT_MS: silence for twice that is a dead connection.
    let watchdog = setTimeout(() => this.ctrl?.abort(), 2 * SSE_HEARTBEAT_MS);
    const decoder = new TextDecoder();
    const parser = new SseParser(this.lastId);
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => this.ctrl?.abort(), 2 * SSE_HEARTBEAT_MS);
        for (const m of parser.push(decoder.decode(chunk, { stream: true }))) {
          this.lastId = m.id;
          try {
            this.o.onMessage(m);
          } catch (err) {
            this.o.logger.warn({ err }, 'change feed listener threw');
          }
        }
      }
    } finally {
      clearTimeout(watchdog);
    }
  }
}

/**
 * The event-stream parser (WHATWG HTML §9.2.6), fed text in chunks cut
 * anywhere: `field: value` lines ended by CRLF, LF or CR; a blank line
 * dispatches; `:` lines are comments; `id` persists across events.
 * Throws if a line grows over MAX_LINE_CHARS.
 */
export class SseParser {
  private buf = '';
  private event = '';
  private data: string[] = [];

  constructor(public lastId = '') {}

  push(text: string): SseMessage[] {
    const out: SseMessage[] = [];
    this.buf += text;
    let nl: number;
    while ((nl = this.buf.search(/\r\n|\r|\n/)) >= 0) {
      if (nl === this.buf.length - 1 && this.buf[nl] === '\r') break; // maybe the \r of a \r\n cut in two
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + (this.buf[nl] === '\r' && this.buf[nl + 1] === '\n' ? 2 : 1));
      if (line === '') {
        if (this.data.length > 0) out.push({ event: this.event || 'message', data: this.data.join('\n'), id: this.lastId });
        this.event = '';
        this.data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const c = line.indexOf(':');
      const field = c < 0 ? line : line.slice(0, c);
      let value = c < 0 ? '' : line.slice(c + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') this.event = value;
      else if (field === 'data') this.data.push(value);
      else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    }
    if (this.buf.length > MAX_LINE_CHARS) throw new Error('feed line too long');
    return out;
  }
}
