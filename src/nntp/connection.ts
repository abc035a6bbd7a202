/**
 * One NNTP connection: the queue of exchanges matched to responses in order
 * (RFC 3977 §3.5 pipelining), the response parser and the command timer, over
 * a byte transport (./transport.ts: socket, TLS, COMPRESS DEFLATE).
 *
 * Contract:
 * - `send()` queues an exchange; its command is written at once if fewer than
 *   `window` exchanges are awaiting a response, else when one completes.
 * - Each exchange gets `status()`, then (if it said data follows) `data()*`,
 *   `end()`; or, if the connection dies first, exactly one `fail()`.
 * - The connection owns the socket and closes it. `destroy(err)` fails the
 *   exchange being answered with `err` if it is an NntpError (TIMEOUT, PROTOCOL,
 *   TLS), every other one with CLOSED (cause: err), and emits 'close' once.
 * - Input can be paused by any number of holders (`pauseInput(token)`); reading
 *   resumes when all have released. While paused the command timer is stopped.
 * - Never emits 'error'. A sink callback that throws destroys the connection
 *   with that error (PROTOCOL if it is not an NntpError).
 * - Writes are coalesced: commands queued in one tick, or released by one input
 *   chunk, go out in one write. When input arrived and nothing is to be written,
 *   a DATE may be sent to carry the ACK (`maybeNudge`); its answer is dropped.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type * as tls from 'node:tls';
import type { Logger } from 'pino';
import { NntpError } from './errors.js';
import { ResponseParser } from './parser.js';
import { Transport } from './transport.js';
import { ACK_NUDGE, MAX_NUDGES_IN_FLIGHT, NUDGE_UP_TO_PENDING } from './limits.js';

export interface Exchange {
  /** Command bytes including CRLF; null for the greeting (nothing is sent). */
  readonly line: Buffer | null;
  /** Overrides the connection's command timeout while this exchange is awaited. */
  readonly timeoutMs?: number;
  /** Stop parsing after this status line (the transport changes: STARTTLS, COMPRESS). */
  readonly haltAfterStatus?: boolean;
  /** An ACK nudge of our own: nobody waits for it. */
  readonly nudge?: boolean;
  /** Status code and text; return true iff a data block follows. */
  status(code: number, text: string): boolean;
  data(chunk: Buffer): void;
  end(): void;
  fail(err: NntpError): void;
}

export interface ConnectionOptions {
  window: number;
  commandTimeoutMs: number;
  maxLineBytes: number;
  logger: Logger;
}

const NUDGE_LINE = Buffer.from('DATE\r\n');

const STATUS_RE = /^([1-5][0-9][0-9])(?: (.*))?$/s;

export class NntpConnection extends EventEmitter {
  private readonly transport: Transport;
  private readonly parser: ResponseParser;
  private readonly waiting: Exchange[] = [];
  private readonly inflight: Exchange[] = [];
  private readonly pausers = new Set<object>();
  private timer: NodeJS.Timeout | undefined;
  /** The timeout `timer` was armed with (a chunk of the same exchange refreshes it). */
  private timerMs = 0;
  private leftover: Buffer | undefined;
  private haltedAt: Exchange | undefined;
  private _closed = false;
  private pumpScheduled = false;
  /** Input arrived since our last write: our ACK for it is pending. */
  private ackOwed = false;
  private nudgesInFlight = 0;
  private nudgeEnabled = false;

  constructor(
    socket: Duplex,
    private readonly opts: ConnectionOptions,
  ) {
    super();
    this.parser = new ResponseParser(
      {
        status: (line) => this.onStatus(line),
        data: (chunk) => this.inflight[0]!.data(chunk),
        end: () => this.onEnd(),
      },
      opts.maxLineBytes,
    );
    this.transport = new Transport(socket, {
      data: (chunk) => this.onChunk(chunk),
      closed: () => this.destroy(new NntpError('CLOSED', 'connection closed by peer')),
      failed: (err) => this.destroy(err),
    });
  }

  get closed(): boolean {
    return this._closed;
  }

  /** Exchanges queued or awaiting a response. */
  get pending(): number {
    return this.waiting.length + this.inflight.length;
  }

  send(ex: Exchange): void {
    if (this._closed) {
      ex.fail(new NntpError('CLOSED', 'connection is closed'));
      return;
    }
    this.waiting.push(ex);
    this.schedulePump();
  }

  /**
   * Commands issued in one tick, and commands released by the responses of one
   * input chunk, go out in a single write: fewer segments, and the ACK for
   * the chunk rides on it (a lone small segment from the server otherwise waits
   * for our delayed ACK: ~40 ms on loopback).
   */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  pauseInput(token: object): void {
    if (this._closed || this.pausers.has(token)) return;
    this.pausers.add(token);
    if (this.pausers.size === 1) {
      this.transport.pause();
      this.stopTimer();
    }
  }

  resumeInput(token: object): void {
    if (!this.pausers.delete(token) || this._closed) return;
    if (this.pausers.size === 0) {
      this.transport.resume();
      this.armTimer();
    }
  }

  /** After a `haltAfterStatus` exchange that did not change the transport: carry on. */
  resumeParsing(): void {
    this.refeed();
  }

  /**
   * After STARTTLS got 382 (RFC 4642 §2.2.2): run the TLS handshake over the
   * socket. Rejects with TLS (and destroys the connection) if it fails.
   */
  async startTls(options: tls.ConnectionOptions): Promise<void> {
    try {
      await this.transport.startTls(options, this.takeLeftover());
    } catch (err) {
      this.destroy(err as NntpError);
      throw err;
    }
    this.haltedAt = undefined;
    this.pump();
  }

  /** RFC 8054: after 206, both directions are raw DEFLATE; we flush after each batch. */
  startCompression(): void {
    this.transport.startCompression(this.takeLeftover());
    this.haltedAt = undefined;
    this.pump();
  }

  /** Drop the connection. Idempotent. See the module contract for who gets which error. */
  destroy(err?: Error): void {
    if (this._closed) return;
    this._closed = true;
    this.stopTimer();
    const cause = err ?? new NntpError('CLOSED', 'connection destroyed');
    const closedErr =
      cause instanceof NntpError && cause.code === 'CLOSED'
        ? cause
        : new NntpError('CLOSED', `connection closed: ${cause.message}`, { cause });
    const headErr = cause instanceof NntpError ? cause : closedErr;
    const all = [...this.inflight, ...this.waiting];
    this.inflight.length = 0;
    this.waiting.length = 0;
    this.transport.destroy();
    const head = all.find((ex) => !ex.nudge);
    all.forEach((ex) => {
      try {
        ex.fail(ex === head ? headErr : closedErr);
      } catch (e) {
        this.opts.logger.error({ err: e }, 'nntp exchange fail handler threw');
      }
    });
    this.opts.logger.debug({ err: cause.message }, 'nntp connection closed');
    this.emit('close');
  }

  private takeLeftover(): Buffer | undefined {
    const rest = this.leftover;
    this.leftover = undefined;
    return rest && rest.length > 0 ? rest : undefined;
  }

  private refeed(): void {
    const rest = this.leftover;
    this.leftover = undefined;
    this.haltedAt = undefined;
    this.pump();
    if (rest && rest.length > 0) this.onChunk(rest);
  }

  private pump(): void {
    if (this._closed || this.haltedAt) return;
    const out: Buffer[] = [];
    // Nudges in flight do not count: waiting for their answers would recreate the stall.
    while (this.waiting.length > 0 && this.inflight.length - this.nudgesInFlight < this.opts.window) {
      const ex = this.waiting.shift()!;
      this.inflight.push(ex);
      if (ex.line) out.push(ex.line);
      // A transport-changing command goes alone: nothing is sent after it
      // until the new transport is in place.
      if (ex.haltAfterStatus) break;
    }
    if (out.length > 0) {
      if (this.opts.logger.isLevelEnabled('trace')) {
        for (const l of out) this.opts.logger.trace({ c: redact(l) }, 'nntp >');
      }
      this.transport.write(out.length === 1 ? out[0]! : Buffer.concat(out));
      this.ackOwed = false;
    } else if (this.ackOwed) {
      this.ackOwed = false;
      this.maybeNudge();
    }
    if (this.inflight.length > 0 && !this.timer) this.armTimer();
  }

  private onChunk(chunk: Buffer): void {
    if (this._closed) return;
    if (this.haltedAt) {
      // Transport change pending: keep the bytes for the new transport.
      this.leftover = this.leftover ? Buffer.concat([this.leftover, chunk]) : chunk;
      return;
    }
    this.armTimer();
    try {
      const rest = this.parser.feed(chunk);
      if (rest !== undefined) this.leftover = rest;
      this.ackOwed = true;
      this.schedulePump();
    } catch (err) {
      this.destroy(
        err instanceof NntpError ? err : new NntpError('PROTOCOL', `response handler failed: ${String(err)}`, { cause: err }),
      );
    }
  }

  private onStatus(line: Buffer): boolean {
    const text = line.toString('utf8');
    const ex = this.inflight[0];
    if (!ex) {
      // RFC 3977 §3.2.1: a server may say 400 and close at any time (e.g. idle timeout).
      if (text.startsWith('400')) throw new NntpError('UNAVAILABLE', `server closing: ${text.slice(0, 80)}`, { status: 400 });
      throw new NntpError('PROTOCOL', `unsolicited response: ${text.slice(0, 80)}`);
    }
    const m = STATUS_RE.exec(text);
    if (!m) throw new NntpError('PROTOCOL', `malformed status line: ${JSON.stringify(text.slice(0, 80))}`);
    this.opts.logger.trace({ s: text.slice(0, 200) }, 'nntp <');
    const code = Number(m[1]);
    const hasData = ex.status(code, m[2] ?? '');
    if (hasData) return true;
    this.complete(ex);
    return false;
  }

  private onEnd(): void {
    const ex = this.inflight[0]!;
    ex.end();
    this.complete(ex);
  }

  private complete(ex: Exchange): void {
    this.inflight.shift();
    if (ex.haltAfterStatus) {
      this.haltedAt = ex;
      this.parser.halt();
    }
    if (this.inflight.length <= this.nudgesInFlight) this.stopTimer();
    this.schedulePump();
  }

  /** Allow ACK nudges (the client calls this once the session set-up is done). */
  enableAckNudge(on = ACK_NUDGE): void {
    this.nudgeEnabled = on;
  }

  /**
   * Input arrived and we have no command to write, so our ACK for it would be
   * delayed (~40 ms on Linux). A server that writes a response in several
   * small pieces (INN's nnrpd: status line, then the article) holds the next
   * piece until that ACK (Nagle), so every multi-line response stalls ~40 ms,
   * pipelined or not; Node cannot set TCP_QUICKACK. So we send a harmless DATE
   * (RFC 3977 §7.1) whose segment carries the ACK; its answer is discarded.
   * At most MAX_NUDGES_IN_FLIGHT are outstanding, and none while a response we
   * (see limits.ts for the measurement).
   */
  private maybeNudge(): void {
    if (!this.nudgeEnabled || this.nudgesInFlight >= MAX_NUDGES_IN_FLIGHT) return;
    if (this._closed || this.haltedAt || this.pausers.size > 0) return;
    if (this.inflight.length <= this.nudgesInFlight) return; // only nudges left: nothing to wait for
    if (this.inflight.length - this.nudgesInFlight > NUDGE_UP_TO_PENDING) return; // a deep pipeline keeps the server writing
    if (this.inflight.some((e) => e.haltAfterStatus || e.line === null)) return;
    this.nudgesInFlight++;
    let done = false;
    const settle = () => {
      if (!done) {
        done = true;
        this.nudgesInFlight--;
      }
    };
    this.inflight.push({
      line: NUDGE_LINE,
      nudge: true,
      status: () => {
        settle();
        return false;
      },
      data: () => {},
      end: () => {},
      fail: settle,
    });
    this.transport.write(NUDGE_LINE);
  }

  private armTimer(): void {
    // Only nudges outstanding: nobody waits, and a late DATE answer must not kill an idle connection.
    if (this._closed || this.inflight.length <= this.nudgesInFlight || this.pausers.size > 0) {
      this.stopTimer();
      return;
    }
    const ms = this.inflight[0]!.timeoutMs ?? this.opts.commandTimeoutMs;
    if (this.timer !== undefined && this.timerMs === ms) {
      // the same timeout again (every chunk of a download): restart it in place, no new timer object
      this.timer.refresh();
      return;
    }
    this.stopTimer();
    this.timerMs = ms;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.destroy(new NntpError('TIMEOUT', `no response for ${ms} ms`));
    }, ms);
  }

  private stopTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}

/** For trace logs: never log an AUTHINFO PASS argument. */
function redact(line: Buffer): string {
  const s = line.toString('utf8').trimEnd();
  return /^AUTHINFO\s+PASS\b/i.test(s) ? 'AUTHINFO PASS [redacted]' : s;
}
