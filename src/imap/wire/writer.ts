/**
 * ResponseWriter: the only way protocol bytes reach the client (STYLE §3).
 * Wraps a `Writable` (the socket, or a deflate stream under COMPRESS=DEFLATE).
 *
 *     await w.untagged('OK [UIDVALIDITY 1700000000] UIDs valid');
 *     await w.write(Buffer.from('* 12 FETCH (UID 4711 BODY[] '));
 *     await w.literal(size, articleStream);   // {size}\r\n + exactly size octets
 *     await w.write(Buffer.from(')\r\n'));
 *     await w.tagged('A1', 'OK', undefined, 'FETCH completed');
 *
 * Contract
 * - Each method resolves once its bytes are accepted by the stream; it waits
 *   for 'drain' only when `stream.write` returned false (backpressure).
 * - Bytes reach the stream in call order. The writer does not interleave
 *   whole responses: the caller (the connection) serialises them.
 * - `literal` streams exactly `size` octets from a Buffer or Readable, honouring
 *   backpressure, and never buffers the whole source. If the source yields
 *   more or fewer octets it throws `WireWriteError('LITERAL_LENGTH')` after
 *   destroying the source: the protocol stream is then broken and the
 *   connection must close the socket.
 * - If the source errors mid-literal: `WireWriteError('SOURCE_FAILED')` (cause
 *   attached); the stream is broken as above.
 * - If the stream errors or closes, pending and later writes reject with
 *   `WireWriteError('STREAM_CLOSED')`.
 * - The writer never closes or ends the stream; its owner does.
 */
import type { Readable, Writable } from 'node:stream';
import { WireWriteError } from './errors.js';
import { literalHeader } from './encoder.js';

export type TaggedStatus = 'OK' | 'NO' | 'BAD';

const CRLF = Buffer.from('\r\n');

export class ResponseWriter {
  private readonly stream: Writable;
  private broken: Error | undefined;

  constructor(stream: Writable) {
    this.stream = stream;
    const onError = (err: Error): void => {
      this.broken ??= err;
    };
    stream.on('error', onError);
    stream.once('close', () => {
      this.broken ??= new Error('stream closed');
    });
  }

  /** True once the stream errored or closed. */
  get closed(): boolean {
    return this.broken !== undefined || this.stream.destroyed || this.stream.writableEnded;
  }

  /** Write raw bytes; resolves at once unless the stream asks us to wait for 'drain'. */
  write(buf: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError());
    if (this.stream.write(buf)) return Promise.resolve();
    return this.waitDrain();
  }

  /**
   * `* <text>\r\n` (RFC 9051 §7). A string has CR/LF replaced by spaces; a
   * Buffer is sent as is (pre-rendered data that may hold literals).
   */
  untagged(text: string | Buffer): Promise<void> {
    return this.write(Buffer.concat([Buffer.from('* '), typeof text === 'string' ? Buffer.from(oneLine(text), 'utf8') : text, CRLF]));
  }

  /**
   * `<tag> <status> [<code>] <text>\r\n` (RFC 9051 §7.1). CR/LF in any part
   * become spaces, so text quoting client input cannot inject a response line.
   */
  tagged(tag: string, status: TaggedStatus, code: string | undefined, text: string): Promise<void> {
    return this.write(Buffer.from(oneLine(`${tag} ${status} ${code ? `[${code}] ` : ''}${text}`) + '\r\n', 'utf8'));
  }

  /** `* BYE [<code>] <text>\r\n` (RFC 9051 §7.1.5); the caller then closes. */
  bye(code: string | undefined, text: string): Promise<void> {
    return this.write(Buffer.from(oneLine(`* BYE ${code ? `[${code}] ` : ''}${text}`) + '\r\n', 'utf8'));
  }

  /** `+ <text>\r\n` command continuation request (RFC 9051 §7.6); a SASL challenge is base64 text. */
  continuation(text = ''): Promise<void> {
    return this.write(Buffer.from(oneLine(`+ ${text}`) + '\r\n', 'utf8'));
  }

  /**
   * `{size}\r\n` (or `~{size}\r\n` when `binary`) followed by exactly `size`
   * octets from `source`. See the module contract for length mismatches.
   */
  async literal(size: number, source: Readable | Buffer, opts: { binary?: boolean } = {}): Promise<void> {
    if (Buffer.isBuffer(source)) {
      if (source.length !== size) throw new WireWriteError('LITERAL_LENGTH', `literal announced ${size} octets, buffer has ${source.length}`);
      await this.write(literalHeader(size, opts.binary));
      await this.write(source);
      return;
    }
    await this.write(literalHeader(size, opts.binary));
    let sent = 0;
    try {
      for await (const chunk of source as AsyncIterable<Buffer | string>) {
        const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        if (sent + b.length > size) {
          throw new WireWriteError('LITERAL_LENGTH', `literal source yielded more than the announced ${size} octets`);
        }
        sent += b.length;
        await this.write(b);
      }
    } catch (err) {
      source.destroy();
      if (err instanceof WireWriteError) throw err;
      throw new WireWriteError(this.closed ? 'STREAM_CLOSED' : 'SOURCE_FAILED', `literal source failed after ${sent} of ${size} octets`, { cause: err });
    }
    if (sent !== size) throw new WireWriteError('LITERAL_LENGTH', `literal source yielded ${sent} of the announced ${size} octets`);
  }

  private waitDrain(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const cleanup = (): void => {
        this.stream.off('drain', onDrain);
        this.stream.off('error', onEnd);
        this.stream.off('close', onEnd);
      };
      const onDrain = (): void => {
        cleanup();
        resolve();
      };
      const onEnd = (): void => {
        cleanup();
        reject(this.closedError());
      };
      this.stream.on('drain', onDrain);
      this.stream.once('error', onEnd);
      this.stream.once('close', onEnd);
    });
  }

  private closedError(): WireWriteError {
    return new WireWriteError('STREAM_CLOSED', 'response stream is closed', { cause: this.broken });
  }
}

/** Response text is one line: CR, LF and NUL become spaces. */
const oneLine = (t: string): string => t.replace(/[\r\n\0]/g, ' ');
