/**
 * The context a command runs with (CommandContext), one small object per
 * command over what its connection made once (`ContextHost`): a context of
 * a dozen closures per command was a measurable part of what a short
 * command allocates (about 600 octets of a ~19 KB one-message FETCH).
 * Its methods are what connection.ts documents for CommandContext; they
 * keep no state beyond the command's `afterOk` list.
 */
import type { Logger } from 'pino';
import type { Readable } from 'node:stream';
import type { ByteSource } from '../export/interface.js';
import type { CommandContext, Completion } from './command.js';
import type { ServerContext } from './context.js';
import type { Session } from './session.js';
import type { Chunk, ResponseWriter } from './wire/writer.js';

/** What a command's context uses of its connection, made once per connection. */
export interface ContextHost {
  readonly session: Session;
  readonly server: ServerContext;
  readonly log: Logger;
  readonly out: ResponseWriter;
  readonly transport: { startTls(): void; startCompression(): void };
  send(chunks: readonly Chunk[], flushNow?: boolean): Promise<void>;
  readLine(): Promise<Buffer>;
  /** Pending mailbox changes, as `announceUpdates` sends them. */
  announce(allowExpunge: boolean): Promise<void>;
}

export class CommandCall implements CommandContext {
  constructor(
    readonly tag: string,
    readonly name: string,
    private readonly host: ContextHost,
    private readonly afterOk: Array<() => void | Promise<void>>,
  ) {}

  get session(): Session {
    return this.host.session;
  }

  get server(): ServerContext {
    return this.host.server;
  }

  get log(): Logger {
    return this.host.log;
  }

  get transport(): { startTls(): void; startCompression(): void } {
    return this.host.transport;
  }

  untagged(...chunks: Chunk[]): Promise<void> {
    return this.host.send(['* ', ...chunks, '\r\n']);
  }

  write(...chunks: Chunk[]): Promise<void> {
    return this.host.send(chunks);
  }

  writeReusable(data: Buffer): Promise<void> {
    return this.host.out.sendReusable(data);
  }

  queueReusable(data: Buffer, taken: (err?: Error) => void): void {
    this.host.out.queueReusable(data, taken);
  }

  literal(size: number, body: Readable | Buffer | ByteSource, binary?: boolean): Promise<void> {
    return this.host.out.literal(size, body, binary ?? false);
  }

  continuation(text: string): Promise<void> {
    return this.host.send([`+ ${text}\r\n`], true);
  }

  readLine(): Promise<Buffer> {
    return this.host.readLine();
  }

  async flushUpdates(allowExpunge: boolean): Promise<void> {
    await this.host.announce(allowExpunge);
    await this.host.out.flush();
  }

  afterCompletion(fn: () => void | Promise<void>): void {
    this.afterOk.push(fn);
  }
}

/** A command that returned no Completion. */
export const NOTHING_SAID: Completion = Object.freeze({});
const completed = new Map<string, string>();

/** `NAME completed`, made once per registered name (not a string per command). */
export function completedText(name: string): string {
  let t = completed.get(name);
  if (t === undefined) completed.set(name, (t = `${name} completed`));
  return t;
}
