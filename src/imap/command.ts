/**
 * The command contract (STYLE §2): every command is one entry of an explicit
 * registry — its name, the states it is valid in, a parser over the
 * `Decoder` and a handler. Handlers write untagged responses through the
 * context and return the tagged OK's code/text. They throw `ImapError` for
 * NO/BAD/BYE and let errors of the layers below (`BackendError`,
 * `FlagStoreError`) pass: the connection turns every error into a response,
 * in one place (connection.ts). Only the connection writes to the socket.
 */
import type { Logger } from 'pino';
import type { Decoder } from './wire/decoder.js';
import type { Session, SessionState } from './session.js';
import type { ServerContext } from './context.js';
import type { Chunk } from './wire/writer.js';
import type { Readable } from 'node:stream';
import type { ByteSource } from '../export/interface.js';

export interface Completion {
  code?: string;
  text?: string;
}

export interface CommandContext {
  readonly tag: string;
  /** Name as registered, e.g. `UID FETCH`. */
  readonly name: string;
  readonly session: Session;
  readonly server: ServerContext;
  readonly log: Logger;
  /** Write `* ` + chunks + CRLF; resolves when the socket can take more. */
  untagged(...chunks: Chunk[]): Promise<void>;
  /** Write raw chunks (no CRLF added). */
  write(...chunks: Chunk[]): Promise<void>;
  /**
   * Write `data` now, after what is queued; resolves once the socket has taken
   * it, so the caller may then overwrite `data`'s buffer (ResponseWriter.sendReusable).
   */
  writeReusable(data: Buffer): Promise<void>;
  /**
   * Queue `data` (not copied) after what is queued: it leaves with the next
   * write, at the latest with the command's tagged response, in one system
   * call with it. `taken` is called once the socket has taken it (or with
   * ConnectionClosed): ResponseWriter.queueReusable.
   */
  queueReusable(data: Buffer, taken: (err?: Error) => void): void;
  /** Write `{size}` CRLF and exactly `size` octets from `body` (the caller closes a stream or source it opened). */
  literal(size: number, body: Readable | Buffer | ByteSource, binary?: boolean): Promise<void>;
  /** Write a continuation request `+ text`. */
  continuation(text: string): Promise<void>;
  /**
   * Next line the client sends (AUTHENTICATE responses, IDLE's DONE). Rejects
   * if the connection ends, and with an `ImapError` BAD when the framer refused
   * that line (longer than MAX_LINE_LENGTH, a literal over the limits): the
   * command is answered and the line after it is a command again.
   */
  readLine(): Promise<Buffer>;
  /** Announce pending mailbox changes now, at a point where EXPUNGE is allowed or not. */
  flushUpdates(allowExpunge: boolean): Promise<void>;
  /** For STARTTLS / COMPRESS: called after the tagged OK is written. */
  afterCompletion(fn: () => void | Promise<void>): void;
  /** Byte-stream changes, to be called from `afterCompletion`. */
  readonly transport: { startTls(): void; startCompression(): void };
}

export interface CommandSpec<A = unknown> {
  name: string;
  states: readonly SessionState[];
  /** Parse arguments after the command name (starting at the SP, if any); end with `d.end()`. */
  parse(d: Decoder, session: Session): A;
  run(ctx: CommandContext, args: A): Promise<Completion | void>;
  /**
   * What an error of the layers below is about, in the response text
   * (`NO [NONEXISTENT] comp.foo: does not exist`). Default: the command name
   * without `UID ` (`FETCH: upstream unavailable, try again later`).
   */
  subject?(args: A): string;
  /**
   * May EXPUNGE responses be sent at the end of this command?
   * False for FETCH, STORE and SEARCH by sequence number (RFC 9051 §7.5.1).
   */
  expungeOk?: boolean;
}

/** Helper giving `parse`/`run` a shared argument type. */
export function command<A>(spec: CommandSpec<A>): CommandSpec<A> {
  return spec;
}

export type Registry = ReadonlyMap<string, CommandSpec<any>>;

export function registry(...groups: ReadonlyArray<ReadonlyArray<CommandSpec<any>>>): Registry {
  const map = new Map<string, CommandSpec<any>>();
  for (const spec of groups.flat()) {
    if (map.has(spec.name)) throw new Error(`command ${spec.name} registered twice`);
    map.set(spec.name, spec);
  }
  return map;
}
