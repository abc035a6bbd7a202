import { describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { createDeflateRaw, inflateRawSync } from 'node:zlib';
import { ResponseWriter } from '../../../src/imap/wire/writer.js';
import { ConnectionClosed, WireWriteError } from '../../../src/imap/wire/errors.js';

/** A Writable socket stand-in whose writes complete only when the test says so (or at once if `auto`). */
class Sink extends Writable {
  readonly chunks: Buffer[] = [];
  private held: Array<() => void> = [];
  auto = false;
  constructor(highWaterMark: number) {
    super({ highWaterMark });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error) => void): void {
    this.chunks.push(chunk);
    if (this.auto) setImmediate(cb);
    else this.held.push(() => cb());
  }
  get pending(): number {
    return this.held.length;
  }
  release(): void {
    const h = this.held;
    this.held = [];
    for (const cb of h) cb();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const writerOn = (sink: Sink): ResponseWriter => new ResponseWriter(sink as unknown as Socket);

describe('ResponseWriter', () => {
  it('batches small responses into one write until flushed', async () => {
    const sink = new Sink(1 << 20);
    sink.auto = true;
    const w = writerOn(sink);
    await w.send(['* 1 FETCH (UID 1)\r\n']);
    await w.send([Buffer.from('* 2 FETCH (UID 2)\r\n'), '* 3 FETCH ', '(UID 3)\r\n']);
    expect(sink.chunks.length).toBe(0);
    await w.send(['a1 OK FETCH completed\r\n'], true);
    expect(sink.chunks.length).toBe(1);
    expect(sink.text()).toBe('* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\n* 3 FETCH (UID 3)\r\na1 OK FETCH completed\r\n');
  });

  it('writes without a flush once 64 KiB are pending, and encodes strings as UTF-8', async () => {
    const sink = new Sink(1 << 20);
    sink.auto = true;
    const w = writerOn(sink);
    await w.send(['Caf\u00e9 ']);
    await w.send([Buffer.alloc(64 * 1024, 0x61)]);
    expect(sink.chunks.length).toBe(1);
    expect(sink.chunks[0]!.subarray(0, 6).toString('utf8')).toBe('Caf\u00e9 ');
  });

  it('resolves at once below the high-water mark and waits for drain above it', async () => {
    const sink = new Sink(16);
    const w = writerOn(sink);
    let done = false;
    const p = w.send([Buffer.alloc(100, 0x61)], true).then(() => {
      done = true;
    });
    await tick();
    await tick();
    expect(done).toBe(false);
    sink.release();
    await p;
    expect(done).toBe(true);
  });

  it('streams a large literal of exactly the announced size without holding it whole', async () => {
    const sink = new Sink(64 * 1024);
    sink.auto = true;
    const w = writerOn(sink);
    const chunk = 16 * 1024;
    const total = 4 * 1024 * 1024;
    let produced = 0;
    let maxAhead = 0;
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < total; i += chunk) {
          const consumed = sink.chunks.reduce((n, c) => n + c.length, 0);
          maxAhead = Math.max(maxAhead, produced - consumed);
          produced += chunk;
          yield Buffer.alloc(chunk, 0x62);
        }
      })(),
    );
    await w.send(['* 1 FETCH (BODY[] ']);
    await w.literal(total, source, false);
    await w.send([')\r\n'], true);
    const out = Buffer.concat(sink.chunks);
    const head = `* 1 FETCH (BODY[] {${total}}\r\n`;
    expect(out.subarray(0, head.length).toString()).toBe(head);
    expect(out.length).toBe(head.length + total + 3);
    expect(maxAhead).toBeLessThan(total / 4);
  });

  it('reads a ByteSource into two reused buffers, never more than two pieces ahead of the socket, exactly the announced size', async () => {
    const sink = new Sink(64 * 1024); // writes complete only when released: the writer must wait for them
    const w = writerOn(sink);
    const total = 5 * 1024 * 1024 + 123;
    const data = Buffer.alloc(total);
    for (let i = 0; i < total; i++) data[i] = (i * 31) & 0xff;
    let pos = 0;
    const buffers = new Set<ArrayBuffer>();
    let maxAhead = 0;
    const source = {
      size: total,
      async read(into: Buffer): Promise<number> {
        buffers.add(into.buffer as ArrayBuffer);
        const n = Math.min(into.length, total - pos);
        data.copy(into, 0, pos, pos + n);
        pos += n;
        maxAhead = Math.max(maxAhead, sink.pending);
        return n;
      },
      close: () => undefined,
    };
    const got: Buffer[] = [];
    const copyOut = (): void => {
      // the bytes written so far, copied before the writer may reuse the buffer they sit in
      for (const c of sink.chunks.splice(0)) got.push(Buffer.from(c));
      sink.release();
    };
    await w.send(['* 1 FETCH (BODY[] ']);
    const done = w.literal(total, source, false);
    let finished = false;
    void done.then(() => (finished = true));
    while (!finished) {
      await tick();
      copyOut();
    }
    await done;
    await w.send([')\r\n'], true);
    copyOut();
    const out = Buffer.concat(got);
    const head = `* 1 FETCH (BODY[] {${total}}\r\n`;
    expect(out.subarray(0, head.length).toString()).toBe(head);
    expect(out.subarray(head.length, head.length + total).equals(data)).toBe(true);
    expect(out.length).toBe(head.length + total + 3);
    expect(buffers.size).toBeLessThanOrEqual(2);
    expect(maxAhead).toBeLessThanOrEqual(2);
  });

  it('sendReusable writes what is queued first, then the buffer, and resolves only once the socket has taken it', async () => {
    const sink = new Sink(1 << 20);
    const w = writerOn(sink);
    await w.send(['* 1 FETCH (UID 1)\r\n']);
    const buf = Buffer.from('* 2 FETCH (UID 2)\r\n');
    let taken = false;
    const p = w.sendReusable(buf).then(() => (taken = true));
    await tick();
    expect(sink.text()).toBe('* 1 FETCH (UID 1)\r\n'); // the queued text first; `buf` waits in the stream's buffer
    sink.release();
    await tick();
    expect(sink.text()).toBe('* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\n');
    expect(taken).toBe(false); // the socket still holds `buf`: not to be reused yet
    sink.release();
    await p;
    expect(taken).toBe(true);
    sink.destroy();
    await tick();
    await expect(w.sendReusable(Buffer.from('x'))).rejects.toBeInstanceOf(ConnectionClosed);
  });

  it('queueReusable writes nothing by itself, leaves with the next flush in one writev, and resolves once taken', async () => {
    /** A Sink that takes several buffered writes at once (as a socket does, one writev). */
    class VSink extends Sink {
      readonly batches: number[] = [];
      override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error) => void): void {
        this.batches.push(chunks.length);
        for (const c of chunks) this._write(c.chunk, 'latin1', () => undefined);
        this.release = () => cb();
      }
    }
    const sink = new VSink(1 << 20);
    const w = writerOn(sink);
    await w.send(['* 1 FETCH ']);
    const buf = Buffer.from('(UID 1)\r\n');
    let taken = false;
    let settle: () => void = () => undefined;
    const p = new Promise<void>((resolve) => (settle = resolve));
    w.queueReusable(buf, (err) => {
      taken = err === undefined;
      settle();
    });
    await tick();
    expect(sink.chunks.length).toBe(0); // queued, not written
    await w.send(['a1 OK FETCH completed\r\n'], true);
    expect(sink.batches).toEqual([3]); // the text before, the lent buffer and the tagged response: one writev
    expect(sink.text()).toBe('* 1 FETCH (UID 1)\r\na1 OK FETCH completed\r\n');
    await tick();
    expect(taken).toBe(false); // the socket still holds `buf`
    sink.release();
    await p;
    expect(taken).toBe(true);
    // a lent buffer never written is given up when the connection closes
    const errs: unknown[] = [];
    w.queueReusable(Buffer.from('x'), (err) => errs.push(err));
    w.close();
    w.queueReusable(Buffer.from('y'), (err) => errs.push(err));
    expect(errs.length).toBe(2);
    for (const e of errs) expect(e).toBeInstanceOf(ConnectionClosed);
  });

  it('a ByteSource that ends early gives LITERAL_LENGTH, one that fails SOURCE_FAILED', async () => {
    const sink = new Sink(1 << 20);
    sink.auto = true;
    const short = { size: 10, read: async (into: Buffer) => (into.length > 4 ? 0 : 0), close: () => undefined };
    await expect(writerOn(sink).literal(10, short, false)).rejects.toMatchObject({ code: 'LITERAL_LENGTH' });
    const failing = { size: 10, read: () => Promise.reject(new Error('disk gone')), close: () => undefined };
    await expect(writerOn(sink).literal(10, failing, false)).rejects.toMatchObject({ code: 'SOURCE_FAILED' });
  });

  it('gathers a small streamed literal into the batch; literal8 gets a ~ header', async () => {
    const sink = new Sink(1024);
    sink.auto = true;
    const w = writerOn(sink);
    await w.literal(6, Readable.from([Buffer.from('abc'), Buffer.from('def')]), false);
    await w.literal(3, Buffer.from('a\0b'), true);
    expect(sink.chunks.length).toBe(0);
    await w.flush();
    expect(sink.text()).toBe('{6}\r\nabcdef~{3}\r\na\0b');
  });

  it('fails with LITERAL_LENGTH when the source is longer or shorter than announced, small or large', async () => {
    const big = 200 * 1024;
    const cases: Array<[number, Buffer[]]> = [
      [5, [Buffer.from('abc'), Buffer.from('def')]],
      [10, [Buffer.from('abc')]],
      [big, [Buffer.alloc(big + 1)]],
      [big, [Buffer.alloc(big - 1)]],
    ];
    for (const [announced, parts] of cases) {
      const sink = new Sink(1 << 20);
      sink.auto = true;
      const w = writerOn(sink);
      const source = Readable.from(parts);
      const err = await w.literal(announced, source, false).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WireWriteError);
      expect((err as WireWriteError).code).toBe('LITERAL_LENGTH');
    }
    const w = writerOn(new Sink(1024));
    await expect(w.literal(4, Buffer.from('abc'), false)).rejects.toMatchObject({ code: 'LITERAL_LENGTH' });
  });

  it('fails with SOURCE_FAILED and destroys the source when it errors part way', async () => {
    for (const size of [10, 200 * 1024]) {
      const sink = new Sink(1 << 20);
      sink.auto = true;
      const w = writerOn(sink);
      let sent = false;
      const source = new Readable({
        read() {
          if (!sent) {
            sent = true;
            this.push(Buffer.alloc(4));
          } else this.destroy(new Error('upstream gone'));
        },
      });
      await expect(w.literal(size, source, false)).rejects.toMatchObject({ code: 'SOURCE_FAILED' });
      expect(source.destroyed).toBe(true);
    }
  });

  it('rejects with ConnectionClosed once the socket closes, including a write waiting for drain', async () => {
    const sink = new Sink(16);
    const w = writerOn(sink);
    const waiting = w.send([Buffer.alloc(100)], true);
    sink.destroy(); // a Writable emits 'close' as a socket does
    await expect(waiting).rejects.toBeInstanceOf(ConnectionClosed);
    await expect(w.send(['* OK\r\n'], true)).rejects.toBeInstanceOf(ConnectionClosed);
    const w2 = writerOn(new Sink(1024));
    w2.close();
    await expect(w2.send(['* OK\r\n'])).rejects.toBeInstanceOf(ConnectionClosed);
  });

  it('under compression every flush is a sync flush the client can inflate, and end() ends the deflate stream', async () => {
    const sink = new Sink(1 << 20);
    sink.auto = true;
    const socket = Object.assign(new EventEmitter(), { end: () => undefined }) as unknown as Socket;
    const w = new ResponseWriter(socket);
    w.useStream(sink);
    const deflate = createDeflateRaw();
    w.compress(deflate);
    await w.send(['* OK compressed\r\n'], true);
    // zlib flushes on its thread pool: wait (bounded) for the sync-flushed block to reach the sink
    const inflated = (): string => inflateRawSync(Buffer.concat(sink.chunks), { finishFlush: 2 /* Z_SYNC_FLUSH */ }).toString();
    for (let i = 0; i < 500 && (sink.chunks.length === 0 || inflated() === ''); i++) await new Promise((r) => setTimeout(r, 10));
    expect(inflated()).toBe('* OK compressed\r\n');
    const ended = new Promise((r) => deflate.once('end', r));
    w.end();
    await ended;
  });
});
