/**
 * The byte transport under one NNTP connection: a socket, then possibly TLS
 * over it (STARTTLS, RFC 4642 §2.2.2) and raw DEFLATE both ways (COMPRESS,
 * RFC 8054 §2.2.2). It knows nothing of commands: NntpConnection
 * (./connection.ts) writes command bytes and hears input chunks, the end of
 * the stream and errors through `TransportEvents`.
 *
 * Ownership: the transport owns every stream it creates and the socket it is
 * given; `destroy()` closes them all and silences their late errors. After a
 * transport change the bytes already read for the new layer (`early`) are fed
 * to it first.
 */
import type { Duplex, Readable } from 'node:stream';
import * as tls from 'node:tls';
import * as zlib from 'node:zlib';
import { NntpError } from './errors.js';

export interface TransportEvents {
  /** Input bytes (decrypted, inflated). */
  data(chunk: Buffer): void;
  /** The peer closed the connection. */
  closed(): void;
  /** The socket or a compression stream failed. */
  failed(err: Error): void;
}

export class Transport {
  private socket: Duplex;
  private input: Readable;
  private write_: (buf: Buffer) => void;
  private deflater: zlib.DeflateRaw | undefined;
  private readonly onData = (chunk: Buffer) => this.ev.data(chunk);
  private readonly onClose = () => this.ev.closed();
  private readonly onError = (err: Error) => this.ev.failed(err);

  constructor(
    socket: Duplex,
    private readonly ev: TransportEvents,
  ) {
    this.socket = socket;
    this.input = socket;
    this.write_ = (buf) => {
      socket.write(buf);
    };
    this.attach(socket);
    this.input.on('data', this.onData);
  }

  /** Sends bytes (compressed and flushed when COMPRESS is on). */
  write(buf: Buffer): void {
    this.write_(buf);
  }

  pause(): void {
    this.input.pause();
  }

  resume(): void {
    this.input.resume();
  }

  /**
   * TLS handshake over the socket (after STARTTLS got 382). Rejects with an
   * NntpError TLS after destroying both the TLS stream and the socket.
   */
  async startTls(options: tls.ConnectionOptions, early: Buffer | undefined): Promise<void> {
    const plain = this.socket;
    this.detach(plain);
    this.input.off('data', this.onData);
    if (early) plain.unshift(early);
    const secure = tls.connect({ ...options, socket: plain as import('node:net').Socket });
    await new Promise<void>((resolve, reject) => {
      const onErr = (err: Error) => {
        secure.off('secureConnect', onOk);
        reject(new NntpError('TLS', `TLS handshake failed: ${err.message}`, { cause: err }));
      };
      const onOk = () => {
        secure.off('error', onErr);
        resolve();
      };
      secure.once('error', onErr);
      secure.once('secureConnect', onOk);
    }).catch((err: NntpError) => {
      secure.on('error', () => {});
      secure.destroy();
      plain.destroy();
      throw err;
    });
    this.socket = secure;
    this.input = secure;
    this.write_ = (buf) => {
      secure.write(buf);
    };
    this.attach(secure);
    this.input.on('data', this.onData);
  }

  /** After 206 (RFC 8054): both directions raw DEFLATE, flushed after each write. Stream errors are reported as PROTOCOL. */
  startCompression(early: Buffer | undefined): void {
    const inflater = zlib.createInflateRaw();
    const deflater = zlib.createDeflateRaw();
    this.deflater = deflater;
    const sock = this.socket;
    this.input.off('data', this.onData);
    sock.pipe(inflater);
    deflater.pipe(sock as NodeJS.WritableStream, { end: false });
    const fail = (err: Error) => this.ev.failed(new NntpError('PROTOCOL', `COMPRESS stream error: ${err.message}`, { cause: err }));
    inflater.on('error', fail);
    deflater.on('error', fail);
    this.input = inflater;
    this.write_ = (buf) => {
      deflater.write(buf);
      deflater.flush(zlib.constants.Z_SYNC_FLUSH);
    };
    this.input.on('data', this.onData);
    if (early) inflater.write(early);
  }

  /** Closes every stream; no event is reported afterwards from the socket. */
  destroy(): void {
    this.detach(this.socket);
    this.socket.on('error', () => {});
    this.socket.destroy();
    this.deflater?.destroy();
    if (this.input !== this.socket) this.input.destroy();
  }

  private attach(s: Duplex): void {
    s.on('close', this.onClose);
    s.on('end', this.onClose);
    s.on('error', this.onError);
  }

  private detach(s: Duplex): void {
    s.off('close', this.onClose);
    s.off('end', this.onClose);
    s.off('error', this.onError);
  }
}
