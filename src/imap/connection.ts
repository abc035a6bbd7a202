/**
 * One IMAP connection: reads framed commands, runs them one at a time through
 * the registry, and is the one place where errors become responses (STYLE §6,
 * §7). Commands throw; `fail` answers:
 *
 *   ImapError        → `tag NO|BAD [code] text`, or `* BYE` and close
 *   ParseError       → `tag BAD [CLIENTBUG] expected ...`
 *   BackendError     → `tag NO [code] <subject>: ...`, by its code
 *   FlagStoreError   → `tag NO [UNAVAILABLE] ...` (other codes NO [CANNOT])
 *   anything else    → logged, `tag NO [SERVERBUG] ...`, connection stays up
 *
 * A lower-layer error names the command's `subject` (CommandSpec). Untagged
 * responses sent before the error stay valid: each is whole before it is queued.
 *
 * Output goes through one ResponseWriter (batches, backpressure, streamed
 * literals: wire/writer.ts). STARTTLS and COMPRESS=DEFLATE swap the byte
 * streams after their tagged OK. Input is paused while too many commands wait.
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { createDeflateRaw, createInflateRaw } from 'node:zlib';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { CommandFramer, type FramedCommand, type FramedItem } from './wire/framer.js';
import { Decoder } from './wire/decoder.js';
import { ConnectionClosed, ParseError, WireWriteError } from './wire/errors.js';
import { ResponseWriter, type Chunk } from './wire/writer.js';
import { ImapError } from './errors.js';
import { BackendError } from '../export/interface.js';
import { FlagStoreError } from '../stateagent/flagstore.js';
import { Session } from './session.js';
import { oneLine, stateText } from './response-text.js';
import type { CommandSpec, Completion, Registry } from './command.js';
import { CommandCall, completedText, NOTHING_SAID, type ContextHost } from './command-context.js';
import type { ServerContext } from './context.js';
import { capabilities } from './capabilities.js';
import { announceUpdates } from './updates.js';
import { MAX_PIPELINED_COMMANDS, NOT_AUTHENTICATED_TIMEOUT_MS } from './limits.js';
import type { CommandGuard } from './admission.js';
import { uidOnlyRefusal } from './uidonly.js';

/**
 * Told after each command: its registry name (`unknown` for a name not in the
 * registry), how it ended, and its time in seconds. Must be cheap and not throw.
 */
export type CommandObserver = (name: string, status: 'OK' | 'NO' | 'BAD' | 'BYE', seconds: number) => void;

export class Connection {
  readonly session = new Session();
  private socket: Socket;
  private input: Readable;
  private readonly out: ResponseWriter;
  private framer: CommandFramer;
  private readonly queue: FramedItem[] = [];
  private lineWaiter: { resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  private busy = false;
  private paused = false;
  private continuationDue = false;
  private closed = false;
  private readonly onData = (chunk: Buffer): void => this.receive(chunk);
  /** What every command's context uses (command-context.ts), made once. */
  private readonly host: ContextHost;
  /** The socket's idle timeout now (set again only when it changes: I/O refreshes it). */
  private timeoutMs = NOT_AUTHENTICATED_TIMEOUT_MS;

  constructor(
    socket: Socket,
    private readonly server: ServerContext,
    private readonly commands: Registry,
    private readonly log: Logger,
    secure: boolean,
    /** Asked before each command; an error it returns is answered instead (admission.ts). */
    private readonly guard?: CommandGuard,
    private readonly observe?: CommandObserver,
    /** Told a command's name and work time in ms once it ran, before its completion is sent (server.ts `afterCommand`). */
    private readonly ran?: (name: string, ms: number) => void,
  ) {
    this.socket = socket;
    this.input = socket;
    this.out = new ResponseWriter(socket);
    this.host = {
      session: this.session,
      server,
      log,
      out: this.out,
      transport: this,
      send: (chunks, flushNow) => this.send(chunks, flushNow),
      readLine: () => this.readLine(),
      announce: (allowExpunge) => announceUpdates(this.session, this.sendChunks, allowExpunge),
    };
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
    this.out.end();
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
    if (refused) return this.fail(item.tag ?? '*', refused, 'login');
    if (item.kind === 'error') {
      const code = item.code ? `[${item.code}] ` : '';
      await this.send([`${item.tag ?? '*'} ${item.status} ${code}${item.text}\r\n`], true);
      if (item.fatal) this.out.end();
      return;
    }
    this.refreshTimeout();
    const d = new Decoder(item, { utf8: this.session.utf8 });
    let tag = item.tag ?? '*';
    let afterOk: Array<() => void | Promise<void>> = [];
    let subject = '';
    const started = this.observe || this.ran ? performance.now() : 0;
    let observed = 'unknown';
    let status: Parameters<CommandObserver>[1] = 'OK';
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
      observed = name;
      if (!spec.states.includes(this.session.state)) {
        throw new ImapError('BAD', 'CLIENTBUG', stateText(this.session.state, name));
      }
      const early = uidOnlyRefusal(this.session, name);
      if (early) throw early;
      const args = spec.parse(d, this.session);
      const refused = uidOnlyRefusal(this.session, name, args);
      if (refused) throw refused;
      subject = subjectOf(spec, name, args);
      const ctx = new CommandCall(tag, name, this.host, afterOk);
      const done: Completion = (await spec.run(ctx, args)) ?? NOTHING_SAID;
      this.ran?.(name, performance.now() - started);
      if (this.session.state === 'logout') {
        await this.send([`${tag} OK ${done.text ?? 'LOGOUT completed'}\r\n`], true);
        this.out.end();
        return;
      }
      await announceUpdates(this.session, this.sendChunks, spec.expungeOk ?? true);
      const code = done.code ? `[${done.code}] ` : '';
      await this.send([`${tag} OK ${code}${done.text ?? completedText(name)}\r\n`], true);
      for (const fn of afterOk) await fn();
    } catch (err) {
      afterOk = [];
      status = err instanceof ImapError ? err.status : err instanceof ParseError ? 'BAD' : 'NO';
      await this.fail(tag, err, subject, observed);
    } finally {
      this.observe?.(observed, status, (performance.now() - started) / 1000);
    }
  }

  private async fail(tag: string, err: unknown, subject: string, command = ''): Promise<void> {
    if (err instanceof ConnectionClosed || this.closed) throw new ConnectionClosed();
    if (err instanceof WireWriteError) {
      this.log.warn({ err }, 'response stream broken; closing');
      this.socket.destroy();
      throw new ConnectionClosed();
    }
    // Untagged responses already queued are complete and stay valid: they go out
    // before the tagged NO/BAD (every response is whole before it is queued).
    err = lowerLayerError(err, subject, command);
    if (err instanceof ImapError) {
      const code = err.code ? `[${err.code}] ` : '';
      if (err.status === 'BYE') {
        await this.send([`* BYE ${code}${err.message}\r\n`], true);
        this.out.end();
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

  private send(chunks: readonly Chunk[], flushNow = false): Promise<void> {
    return this.out.send(chunks, flushNow);
  }

  private readonly sendChunks = (chunks: readonly Chunk[]): Promise<void> => this.out.send(chunks);

  /** The idle timeout of the session's state; reading and writing restart the socket's timer, so only a change is set. */
  private refreshTimeout(): void {
    const ms = this.session.state === 'notauth' ? NOT_AUTHENTICATED_TIMEOUT_MS : this.server.options.idleTimeoutMs;
    if (ms === this.timeoutMs) return;
    this.timeoutMs = ms;
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
    this.out.useStream(tls);
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
    this.out.compress(deflate);
    this.input = inflate;
    this.attach(inflate);
    this.session.compressed = true;
  }

  private teardown(): void {
    if (this.closed) return;
    this.closed = true;
    this.lineWaiter?.reject(new ConnectionClosed('connection closed'));
    this.lineWaiter = undefined;
    this.queue.length = 0;
    this.out.close();
    this.session.logout();
  }
}

/** What a lower-layer error of this command is about: its `subject`, else its name without `UID `. */
function subjectOf(spec: CommandSpec<any>, name: string, args: unknown): string {
  return spec.subject?.(args) ?? (name.startsWith('UID ') ? name.slice(4) : name);
}

/**
 * Errors of the layers below as IMAP errors (STYLE §7): a missing group or
 * article is NO [NONEXISTENT], an unreachable upstream or flag store NO
 * [UNAVAILABLE] ("nothing was changed" after a STORE, whose one update failed
 * whole; "try again later" after a read). Anything else is returned as it is.
 */
function lowerLayerError(err: unknown, subject: string, command: string): unknown {
  if (err instanceof BackendError) {
    switch (err.code) {
      case 'NONEXISTENT':
        return new ImapError('NO', 'NONEXISTENT', `${subject}: does not exist`, { cause: err });
      case 'UNAVAILABLE':
        return new ImapError('NO', 'UNAVAILABLE', `${subject}: upstream unavailable, try again later`, { cause: err });
      case 'NOPERM':
        return new ImapError('NO', 'NOPERM', `${subject}: permission denied`, { cause: err });
      case 'UNKNOWN-CTE':
        return new ImapError('NO', 'UNKNOWN-CTE', `${subject}: unknown content transfer encoding`, { cause: err });
      case 'CORRUPTION':
        return new ImapError('NO', 'CORRUPTION', `${subject}: data is corrupt`, { cause: err });
    }
  }
  if (err instanceof FlagStoreError) {
    const text = command === 'STORE' || command === 'UID STORE' ? 'nothing was changed' : 'try again later';
    if (err.code === 'UNAVAILABLE') return new ImapError('NO', 'UNAVAILABLE', `Flag store unavailable; ${text}`, { cause: err });
    return new ImapError('NO', 'CANNOT', err.message, { cause: err });
  }
  return err;
}

function lineOf(item: FramedCommand): Buffer {
  return item.parts.length === 1 ? item.parts[0]! : Buffer.concat(item.parts);
}
