/**
 * ResponseWriter: the one way protocol bytes reach a client (STYLE §3). The
 * connection owns one per socket; commands write through their context, which
 * calls `send` and `literal` here. Nothing else touches the socket.
 *
 *     await w.send(['* 12 FETCH (UID 4711 BODY[] ']);
 *     await w.literal(size, articleStream, false);   // {size}\r\n + exactly size octets
 *     await w.send([')\r\n', 'a1 OK FETCH completed\r\n'], true);
 *
 * Contract
 * - Chunks are queued and written once OUTPUT_BATCH octets are pending, or
 *   when the caller asks (`flushNow`, `flush`): a listing of thousands of
 *   small responses costs a few socket writes, not one each. Strings are joined
 *   and encoded as UTF-8 once per batch.
 * - Bytes reach the stream in call order; the caller (the connection)
 *   serialises whole responses. A write waits for 'drain' only when the
 *   stream asks for it (backpressure).
 * - `literal` sends `{size}` CRLF (`~{size}` for literal8) and exactly `size`
 *   octets. A Buffer or a small streamed literal joins the batch; a large
 *   stream is written chunk by chunk as it arrives, never held whole; a
 *   `ByteSource` is read into two buffers of SOURCE_PIECE octets the writer
 *   reuses, one filled while the other is written (a piece is reused only
 *   once the stream has taken it: at most two pieces in flight). A source yielding more or
 *   fewer octets gives `WireWriteError('LITERAL_LENGTH')`, a source that fails
 *   `WireWriteError('SOURCE_FAILED')`; a stream is destroyed (a ByteSource is
 *   left to the caller to close) and the protocol stream is broken: the owner
 *   must close the socket.
 * - Once the socket closed (or `close()` was called) every write rejects with
 *   `ConnectionClosed`, including one waiting for 'drain'.
 * - Under COMPRESS=DEFLATE (`compress`) every flush ends with a sync flush,
 *   so the client can decode what it was sent.
 * - `end()` finishes the output (the deflate stream, else the socket) so the
 *   last bytes leave before the FIN; the writer never destroys the socket.
 */
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { constants as zc, type DeflateRaw } from 'node:zlib';
import type { ByteSource } from '../../export/interface.js';
import { ConnectionClosed, WireWriteError } from './errors.js';

export type Chunk = Buffer | string;

/** What `send` and `flush` return when nothing had to be written. */
const DONE: Promise<void> = Promise.resolve();

interface Lent {
  buf: Buffer;
  done: (err?: Error) => void;
}

/** Output is written to the stream once this many octets are pending. */
const OUTPUT_BATCH = 64 * 1024;
/** Streamed literals up to this size are gathered into the output batch rather than streamed. */
const SMALL_LITERAL = 64 * 1024;
/**
 * A ByteSource (a cached file) is read in pieces of this size into two
 * buffers reused for the whole literal: with fresh 256 KB buffers per piece a
 * 57 MB article made V8 collect every few megabytes (external memory), and
 * bigger pieces mean fewer reads and writes. Two of them are what a session
 * sending a long article holds (1 MB).
 */
const SOURCE_PIECE = 512 * 1024;

export class ResponseWriter {
  private output: Writable;
  private deflate: DeflateRaw | undefined;
  private pending: Buffer[] = [];
  private text = '';
  private pendingBytes = 0;
  /** Buffers of `pending` lent by `queueReusable`, in order, each settled once the stream has taken it. */
  private lent: Lent[] = [];
  /** Lent buffers handed to the stream whose write has not called back yet (close() settles them). */
  private readonly taking = new Set<Lent>();
  private closed = false;

  /** `socket`: its 'close' ends waiting writes; it is also the first output stream. */
  constructor(private readonly socket: Socket) {
    this.output = socket;
  }

  /** Write to `stream` from now on (STARTTLS: the TLS socket over the raw one). */
  useStream(stream: Writable): void {
    this.output = stream;
  }

  /** Deflate everything from now on (RFC 4978), into the current stream. */
  compress(deflate: DeflateRaw): void {
    deflate.pipe(this.output);
    this.output = deflate;
    this.deflate = deflate;
  }

  /** Queue chunks; writes once a batch is full, or at once with `flushNow`. */
  send(chunks: readonly Chunk[], flushNow = false): Promise<void> {
    if (this.closed) return Promise.reject(new ConnectionClosed('connection closed'));
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
    // not an async function: a queued response costs no promise of its own
    return flushNow || this.pendingBytes >= OUTPUT_BATCH ? this.flush() : DONE;
  }

  /** Write everything queued (and sync-flush the deflate stream). */
  flush(): Promise<void> {
    if (this.deflate) return this.flushDeflate(this.deflate);
    this.sealText();
    return this.pendingBytes > 0 ? this.writePending() : DONE;
  }

  private async flushDeflate(deflate: DeflateRaw): Promise<void> {
    this.sealText();
    if (this.pendingBytes > 0) await this.writePending();
    deflate.flush(zc.Z_SYNC_FLUSH);
  }

  /**
   * Writes what is queued, then `data`, now. Resolves once the stream has
   * taken `data` (its write callback: the socket, the TLS layer or the
   * deflate stream is done with that memory), so the caller may then fill
   * `data`'s buffer again; rejects with ConnectionClosed. A caller that
   * waits for this before reusing a buffer has at most its own buffers in
   * flight: the backpressure `send` gets from 'drain'.
   */
  async sendReusable(data: Buffer): Promise<void> {
    if (this.closed) throw new ConnectionClosed('connection closed');
    this.sealText();
    if (this.pendingBytes > 0) void this.writePending().catch(() => undefined); // ordered before `data`; its failure is `data`'s too
    await this.writeTaken(data);
  }

  /**
   * Queues `data` without copying it: it leaves with the next write (at the
   * latest the flush of the command's tagged response), in one system call
   * with what is queued around it. `taken` is called once the stream has
   * taken it, so the caller may fill its buffer again, or with
   * ConnectionClosed (also when the connection closes first). A callback,
   * not a promise: one fewer promise chain per one-message FETCH.
   */
  queueReusable(data: Buffer, taken: (err?: Error) => void): void {
    if (this.closed) {
      taken(new ConnectionClosed('connection closed'));
      return;
    }
    this.sealText();
    this.pending.push(data);
    this.pendingBytes += data.length;
    this.lent.push({ buf: data, done: taken });
  }

  /** `{size}` CRLF (or `~{size}` for BINARY with NUL) then exactly `size` octets from `body`. */
  async literal(size: number, body: Readable | Buffer | ByteSource, binary: boolean): Promise<void> {
    const head = `${binary ? '~' : ''}{${size}}\r\n`;
    if (Buffer.isBuffer(body)) {
      if (body.length !== size) throw new WireWriteError('LITERAL_LENGTH', `literal announced ${size}, have ${body.length}`);
      return this.send([head, body]);
    }
    await this.send([head]);
    if (!('pipe' in body)) return this.pieces(size, body);
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
        throw new WireWriteError('SOURCE_FAILED', `article stream failed after ${got} of ${size} octets`, { cause: err });
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
      throw new WireWriteError('SOURCE_FAILED', `article stream failed after ${sent} of ${size} octets`, { cause: err });
    }
    if (sent !== size) throw new WireWriteError('LITERAL_LENGTH', `literal announced ${size}, source gave ${sent}`);
  }

  /** The `size` octets of a ByteSource, read into two reused buffers (see SOURCE_PIECE); the caller closes the source. */
  private async pieces(size: number, body: ByteSource): Promise<void> {
    await this.flush();
    if (size === 0) return;
    const piece = Math.min(size, SOURCE_PIECE);
    const bufs = [Buffer.allocUnsafeSlow(piece), size > piece ? Buffer.allocUnsafeSlow(piece) : undefined];
    /** When the stream has taken the last write from each buffer. */
    const taken: Array<Promise<void> | undefined> = [undefined, undefined];
    let sent = 0;
    let k = 0;
    try {
      while (sent < size) {
        await taken[k];
        const buf = bufs[k]!;
        let n: number;
        try {
          n = await body.read(size - sent < buf.length ? buf.subarray(0, size - sent) : buf);
        } catch (err) {
          throw new WireWriteError('SOURCE_FAILED', `article read failed after ${sent} of ${size} octets`, { cause: err });
        }
        if (n === 0) throw new WireWriteError('LITERAL_LENGTH', `literal announced ${size}, source gave ${sent}`);
        sent += n;
        const t = this.writeTaken(buf.subarray(0, n));
        t.catch(() => undefined); // observed below or by the next turn of the loop
        taken[k] = t;
        if (bufs[1] !== undefined) k ^= 1;
      }
    } finally {
      // the buffers stay the stream's until it has taken them, also after a failure
      await Promise.allSettled(taken.filter((t) => t !== undefined));
    }
    await Promise.all(taken);
  }

  /** Finish the output: with COMPRESS the deflate stream is ended, so its last bytes precede the FIN. */
  end(): void {
    if (this.deflate) this.deflate.end();
    else this.socket.end();
  }

  /** The connection is gone: drop what is queued; later writes reject. */
  close(): void {
    this.closed = true;
    this.pending = [];
    this.text = '';
    this.pendingBytes = 0;
    const lent = [...this.lent, ...this.taking];
    this.lent = [];
    this.taking.clear();
    for (const l of lent) l.done(new ConnectionClosed('connection closed'));
    this.deflate?.destroy();
  }

  private sealText(): void {
    if (this.text.length > 0) {
      this.pending.push(Buffer.from(this.text, 'utf8'));
      this.text = '';
    }
  }

  /**
   * Writes what is queued: one Buffer (joined) when nothing in it is lent,
   * else each piece in one corked run (a single writev on a socket), lent
   * ones settled by their write callbacks.
   */
  private writePending(): Promise<void> {
    const bufs = this.pending;
    const lent = this.lent;
    this.pending = [];
    this.pendingBytes = 0;
    if (lent.length === 0) return this.writeOut(bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs));
    this.lent = [];
    const out = this.output;
    if (this.closed || out.writableEnded || out.destroyed) {
      for (const l of lent) l.done(new ConnectionClosed('connection closed'));
      return Promise.reject(new ConnectionClosed('connection closed'));
    }
    let ok = true;
    let k = 0;
    out.cork();
    for (const b of bufs) {
      const l = lent[k];
      if (l !== undefined && l.buf === b) {
        k++;
        // a stream destroyed mid-write may never call back: close() settles it then (ConnectionClosed)
        this.taking.add(l);
        ok = out.write(b, (err) => {
          this.taking.delete(l);
          l.done(err ? new ConnectionClosed('connection closed') : undefined);
        });
      } else ok = out.write(b);
    }
    out.uncork();
    return ok ? Promise.resolve() : this.drained();
  }

  private writeOut(data: Buffer): Promise<void> {
    if (this.closed || this.output.writableEnded || this.output.destroyed) {
      return Promise.reject(new ConnectionClosed('connection closed'));
    }
    if (this.output.write(data)) return Promise.resolve();
    return this.drained();
  }

  /** Resolves at the stream's next 'drain', rejects when the socket closes first. */
  private drained(): Promise<void> {
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

  /** Writes `data`; resolves once the stream has taken it (its write callback), rejects with ConnectionClosed. */
  private writeTaken(data: Buffer): Promise<void> {
    const out = this.output;
    if (this.closed || out.writableEnded || out.destroyed) {
      return Promise.reject(new ConnectionClosed('connection closed'));
    }
    return new Promise((resolve, reject) => {
      // a stream destroyed mid-write may never call back: its socket's 'close' settles it
      const onClose = (): void => reject(new ConnectionClosed('connection closed'));
      this.socket.once('close', onClose);
      out.write(data, (err) => {
        this.socket.off('close', onClose);
        if (err) reject(new ConnectionClosed('connection closed'));
        else resolve();
      });
    });
  }
}
