/**
 * One IMAP connection: reads framed commands, runs them one at a time through
 * the registry, and is the one place where errors become responses (STYLE §6):
 *
 *   ImapError          → `tag NO|BAD [code] text`, or `* BYE` and close
 *   ParseError         → `tag BAD [CLIENTBUG] expected ...`
 *   anything else      → logged, `tag NO [SERVERBUG] ...`, connection stays up
 *
 * Output is batched into ≤ 64 KiB writes and waits for `drain` (STYLE §3);
 * literals are streamed. STARTTLS and COMPRESS=DEFLATE swap the byte streams
 * after their tagged OK. Input is paused while too many commands wait.
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { constants as zc, createDeflateRaw, createInflateRaw, type DeflateRaw } from 'node:zlib';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import { CommandFramer, type FramedCommand, type FramedItem } from './wire/framer.js';
import { Decoder } from './wire/decoder.js';
import { ParseError, WireWriteError } from './wire/errors.js';
import { ImapError } from './errors.js';
import { Session } from './session.js';
import { oneLine, stateText } from './response-text.js';
import type { CommandContext, Completion, Registry } from './command.js';
import type { ServerContext } from './context.js';
import type { Chunk } from './render/envelope.js';
import { capabilities } from './capabilities.js';
import { announceUpdates } from './updates.js';
import { MAX_PIPELINED_COMMANDS, NOT_AUTHENTICATED_TIMEOUT_MS } from './limits.js';
import type { CommandGuard } from './admission.js';

/** Output is flushed to the socket once this many octets are pending. */
const OUTPUT_BATCH = 64 * 1024;
/** Literals up to this size are gathered into the output batch rather than streamed. */
const SMALL_LITERAL = 64 * 1024;

class ConnectionClosed extends Error {
  readonly code = 'CONNECTION_CLOSED';
}

export class Connection {
  readonly session = new Session();
  private socket: Socket;
  private input: Readable;
  private output: Writable;
  private deflate: DeflateRaw | undefined;
  private framer: CommandFramer;
  private readonly queue: FramedItem[] = [];
  private lineWaiter: { resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  private busy = false;
  private paused = false;
  private continuationDue = false;
  private closed = false;
  private pending: Buffer[] = [];
  private text = '';
  private pendingBytes = 0;
  private readonly onData = (chunk: Buffer): void => this.receive(chunk);

  constructor(
    socket: Socket,
    private readonly server: ServerContext,
    private readonly commands: Registry,
    private readonly log: Logger,
    secure: boolean,
    /** Asked before each command; an error it returns is answered instead (admission.ts). */
    private readonly guard?: CommandGuard,
  ) {
    this.socket = socket;
    this.input = socket;
    this.output = socket;
    this.session.tls = secure;
    this.framer = this.newFramer();
    socket.setNoDelay(true);
    this.attach(socket);
    socket.on('close', () => this.teardown());
    socket.on('error', (err) => this.log.debug({ err }, 'socket error'));
    socket.setTimeout(NOT_AUTHENTICATED_TIMEOUT_MS, () => void this.autologout());
  }

  /** Send the greeting and start reading. */
  async start(): Promise<void> {
    await this.send(['* OK [CAPABILITY ', capabilities(this.server, this.session).join(' '), '] newsfront ready\r\n'], true);
  }

  /** Close politely (server shutdown). */
  async shutdown(text = 'Server shutting down'): Promise<void> {
    if (this.closed) return;
    try {
      await this.send([`* BYE ${text}\r\n`], true);
    } catch {
      /* the peer may be gone already */
    }
    this.endOutput();
  }

  private newFramer(): CommandFramer {
    return new CommandFramer({
      onContinuationNeeded: () => {
        // Literals within the framer's limits are small: accept. The `+` must
        // not land inside another command's response, so while one runs (or
        // earlier commands wait) it is sent when the queue has drained.
        if (this.busy || this.queue.length > 0) this.continuationDue = true;
        else void this.send(['+ Ready for literal data\r\n'], true).catch(() => undefined);
        return 'accept';
      },
      // APPEND is refused whatever its size: say so before the client sends the message.
      refuseEarly: (first) =>
        /^\S+ +APPEND /i.test(first.subarray(0, 80).toString('latin1'))
          ? { reject: 'NO', code: 'CANNOT', text: 'APPEND is not possible: newsgroups are read-only (post with a newsreader)' }
          : undefined,
    });
  }

  private attach(input: Readable): void {
    input.on('data', this.onData);
  }

  private detach(input: Readable): void {
    input.off('data', this.onData);
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    let items: FramedItem[];
    try {
      items = this.framer.push(chunk);
    } catch (err) {
      this.log.error({ err }, 'framer failed');
      void this.shutdown('Internal error reading command');
      return;
    }
    for (const item of items) {
      const w = this.lineWaiter;
      this.lineWaiter = undefined;
      if (!w) this.queue.push(item);
      else if (item.kind === 'command') w.resolve(lineOf(item));
      else {
        w.reject(new ImapError('BAD', item.code, item.text)); // a refused line answers the command waiting for it
        if (item.fatal) this.queue.push(item);
      }
    }
    if (this.queue.length > MAX_PIPELINED_COMMANDS && !this.paused) {
      this.paused = true;
      this.input.pause();
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const item = this.queue.shift()!;
        await this.handle(item);
        if (this.paused && this.queue.length <= MAX_PIPELINED_COMMANDS / 2) {
          this.paused = false;
          this.input.resume();
        }
        if (this.queue.length === 0 && this.continuationDue) {
          this.continuationDue = false;
          await this.send(['+ Ready for literal data\r\n'], true);
        }
      }
    } catch (err) {
      if (!(err instanceof ConnectionClosed)) this.log.error({ err }, 'connection failed');
      this.socket.destroy();
    } finally {
      this.busy = false;
    }
  }

  private async handle(item: FramedItem): Promise<void> {
    const refused = this.guard?.(this.session);
    if (refused) return this.fail(item.tag ?? '*', refused);
    if (item.kind === 'error') {
      const code = item.code ? `[${item.code}] ` : '';
      await this.send([`${item.tag ?? '*'} ${item.status} ${code}${item.text}\r\n`], true);
      if (item.fatal) this.endOutput();
      return;
    }
    this.refreshTimeout();
    const d = new Decoder(item, { utf8: this.session.utf8 });
    let tag = item.tag ?? '*';
    let afterOk: Array<() => void | Promise<void>> = [];
    try {
      tag = d.tag();
      d.sp();
      let name = d.atom().toUpperCase();
      if (name === 'UID') {
        d.sp();
        name = `UID ${d.atom().toUpperCase()}`;
      }
      const spec = this.commands.get(name);
      if (!spec) throw new ImapError('BAD', 'CLIENTBUG', `Unknown command ${name.slice(0, 40)}`);
      if (!spec.states.includes(this.session.state)) {
        throw new ImapError('BAD', 'CLIENTBUG', stateText(this.session.state, name));
      }
      const args = spec.parse(d, this.session);
      const ctx = this.context(tag, name, afterOk);
      const done: Completion = (await spec.run(ctx, args)) ?? {};
      if (this.session.state === 'logout') {
        await this.send([`${tag} OK ${done.text ?? 'LOGOUT completed'}\r\n`], true);
        this.endOutput();
        return;
      }
      await announceUpdates(this.session, (c) => this.send(c), spec.expungeOk ?? true);
      const code = done.code ? `[${done.code}] ` : '';
      await this.send([`${tag} OK ${code}${done.text ?? `${name} completed`}\r\n`], true);
      for (const fn of afterOk) await fn();
    } catch (err) {
      afterOk = [];
      await this.fail(tag, err);
    }
  }

  private async fail(tag: string, err: unknown): Promise<void> {
    if (err instanceof ConnectionClosed || this.closed) throw new ConnectionClosed();
    if (err instanceof WireWriteError) {
      this.log.warn({ err }, 'response stream broken; closing');
      this.socket.destroy();
      throw new ConnectionClosed();
    }
    // Untagged responses already queued are complete and stay valid: they go out
    // before the tagged NO/BAD (every response is whole before it is queued).
    if (err instanceof ImapError) {
      const code = err.code ? `[${err.code}] ` : '';
      if (err.status === 'BYE') {
        await this.send([`* BYE ${code}${err.message}\r\n`], true);
        this.endOutput();
        throw new ConnectionClosed();
      }
      await this.send([`${tag} ${err.status} ${code}${oneLine(err.message)}\r\n`], true);
      return;
    }
    if (err instanceof ParseError) {
      await this.send([`${tag} BAD [CLIENTBUG] ${oneLine(err.message)}\r\n`], true);
      return;
    }
    this.log.error({ err }, 'command failed');
    await this.send([`${tag} NO [SERVERBUG] Internal error; the problem has been logged\r\n`], true);
  }

  private context(tag: string, name: string, afterOk: Array<() => void | Promise<void>>): CommandContext {
    return {
      tag,
      name,
      session: this.session,
      server: this.server,
      log: this.log,
      untagged: (...chunks) => this.send(['* ', ...chunks, '\r\n']),
      write: (...chunks) => this.send(chunks),
      literal: (size, body, binary) => this.literal(size, body, binary ?? false),
      continuation: (text) => this.send([`+ ${text}\r\n`], true),
      readLine: () => this.readLine(),
      flushUpdates: async (allowExpunge) => {
        await announceUpdates(this.session, (c) => this.send(c), allowExpunge);
        await this.flush();
      },
      afterCompletion: (fn) => afterOk.push(fn),
      transport: this,
    };
  }

  private readLine(): Promise<Buffer> {
    const item = this.queue[0];
    if (item) {
      if (item.kind === 'command' || !item.fatal) this.queue.shift();
      return item.kind === 'command' ? Promise.resolve(lineOf(item)) : Promise.reject(new ImapError('BAD', item.code, item.text));
    }
    if (this.closed) return Promise.reject(new ConnectionClosed('connection closed'));
    return new Promise((resolve, reject) => {
      this.lineWaiter = { resolve, reject };
    });
  }

  /** Queue chunks for output; writes once a batch is full or `flushNow`. */
  private async send(chunks: readonly Chunk[], flushNow = false): Promise<void> {
    if (this.closed) throw new ConnectionClosed('connection closed');
    for (const c of chunks) {
      if (typeof c === 'string') {
        // strings are joined and encoded once per batch, not one Buffer per piece
        this.text += c;
        this.pendingBytes += c.length;
      } else if (c.length > 0) {
        this.sealText();
        this.pending.push(c);
        this.pendingBytes += c.length;
      }
    }
    if (flushNow || this.pendingBytes >= OUTPUT_BATCH) await this.flush();
  }

  private sealText(): void {
    if (this.text.length > 0) {
      this.pending.push(Buffer.from(this.text, 'utf8'));
      this.text = '';
    }
  }

  private async flush(): Promise<void> {
    this.sealText();
    if (this.pendingBytes > 0) {
      const data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
      this.pending = [];
      this.pendingBytes = 0;
      await this.writeOut(data);
    }
    if (this.deflate) this.deflate.flush(zc.Z_SYNC_FLUSH);
  }

  private writeOut(data: Buffer): Promise<void> {
    if (this.closed || this.output.writableEnded || this.output.destroyed) {
      return Promise.reject(new ConnectionClosed('connection closed'));
    }
    if (this.output.write(data)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onDrain = (): void => {
        this.socket.off('close', onClose);
        resolve();
      };
      const onClose = (): void => {
        this.output.off('drain', onDrain);
        reject(new ConnectionClosed('connection closed'));
      };
      this.output.once('drain', onDrain);
      this.socket.once('close', onClose);
    });
  }

  /** `{size}` CRLF (or `~{size}` for BINARY with NUL) then exactly `size` octets from `body`. */
  private async literal(size: number, body: Readable | Buffer, binary: boolean): Promise<void> {
    await this.send([`${binary ? '~' : ''}{${size}}\r\n`]);
    if (Buffer.isBuffer(body)) {
      if (body.length !== size) throw new WireWriteError('LITERAL_LENGTH', `literal announced ${size}, have ${body.length}`);
      await this.send([body]);
      return;
    }
    if (size <= SMALL_LITERAL) {
      // small bodies join the output batch instead of a write of their own
      const chunks: Buffer[] = [];
      let got = 0;
      try {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          got += chunk.length;
          if (got > size) throw new WireWriteError('LITERAL_LENGTH', `literal announced ${size}, source longer`);
          chunks.push(chunk);
        }
      } catch (err) {
        body.destroy();
        if (err instanceof WireWriteError) throw err;
        throw new WireWriteError('STREAM_CLOSED', `article stream failed after ${got} of ${size} octets`, { cause: err });
      }
      if (got !== size) throw new WireWriteError('LITERAL_LENGTH', `literal announced ${size}, source gave ${got}`);
      await this.send(chunks);
      return;
    }
    await this.flush();
    let sent = 0;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (sent + chunk.length > size) {
          throw new WireWriteError('LITERAL_LENGTH', `literal announced ${size}, source longer`);
        }
        sent += chunk.length;
        await this.writeOut(chunk);
      }
    } catch (err) {
      body.destroy();
      if (err instanceof WireWriteError || err instanceof ConnectionClosed) throw err;
      // The announced literal cannot be completed: the protocol stream is broken.
      throw new WireWriteError('STREAM_CLOSED', `article stream failed after ${sent} of ${size} octets`, { cause: err });
    }
    if (sent !== size) throw new WireWriteError('LITERAL_LENGTH', `literal announced ${size}, source gave ${sent}`);
  }

  /**
   * Finish the output and close: with COMPRESS the deflate stream is ended, so
   * its last bytes (the BYE and tagged OK) reach the socket before the FIN.
   */
  private endOutput(): void {
    if (this.deflate) this.deflate.end();
    else this.socket.end();
  }

  private refreshTimeout(): void {
    const ms = this.session.state === 'notauth' ? NOT_AUTHENTICATED_TIMEOUT_MS : this.server.options.idleTimeoutMs;
    this.socket.setTimeout(ms);
  }

  private async autologout(): Promise<void> {
    await this.shutdown('Autologout; idle for too long').catch(() => undefined);
    // a peer that never reads must not keep the socket: drop it after a grace period
    setTimeout(() => this.socket.destroy(), 5_000).unref();
  }

  /** Replace the byte streams with TLS (STARTTLS, RFC 9051 §6.2.1). Buffered input is discarded. */
  startTls(): void {
    const ctx = this.server.tls;
    if (!ctx) throw new Error('STARTTLS without a certificate');
    this.detach(this.input);
    this.queue.length = 0;
    this.framer = this.newFramer();
    const tls = new TLSSocket(this.socket, { isServer: true, secureContext: ctx.context });
    tls.on('error', (err) => {
      this.log.debug({ err }, 'TLS error');
      this.socket.destroy();
    });
    this.input = tls;
    this.output = tls;
    this.attach(tls);
    this.session.tls = true;
  }

  /** Switch to DEFLATE in both directions (RFC 4978) after the tagged OK. */
  startCompression(): void {
    const raw = this.input;
    this.detach(raw);
    const inflate = createInflateRaw();
    const deflate = createDeflateRaw({ level: 6 });
    inflate.on('error', (err) => {
      this.log.debug({ err }, 'inflate error');
      void this.shutdown('Corrupt compressed data');
      this.socket.destroy();
    });
    deflate.on('error', (err) => {
      this.log.debug({ err }, 'deflate error');
      this.socket.destroy();
    });
    raw.pipe(inflate);
    deflate.pipe(this.output as Writable);
    this.input = inflate;
    this.output = deflate;
    this.deflate = deflate;
    this.attach(inflate);
    this.session.compressed = true;
  }

  private teardown(): void {
    if (this.closed) return;
    this.closed = true;
    this.lineWaiter?.reject(new ConnectionClosed('connection closed'));
    this.lineWaiter = undefined;
    this.queue.length = 0;
    this.pending = [];
    this.deflate?.destroy();
    this.session.logout();
  }
}

function lineOf(item: FramedCommand): Buffer {
  return item.parts.length === 1 ? item.parts[0]! : Buffer.concat(item.parts);
}
