import { describe, expect, it } from 'vitest';
import { Readable, Writable } from 'node:stream';
import { ResponseWriter } from '../../../src/imap/wire/writer.js';
import { WireWriteError } from '../../../src/imap/wire/errors.js';

/** A Writable whose writes complete only when the test says so (or at once if `auto`). */
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
/** End the sink and wait until it has processed every write. */
const finished = (sink: Sink): Promise<void> => new Promise((r) => sink.end(r));

describe('ResponseWriter', () => {
  it('formats untagged, tagged, BYE and continuation responses', async () => {
    const sink = new Sink(1 << 20);
    sink.auto = true;
    const w = new ResponseWriter(sink);
    await w.untagged('OK [UIDVALIDITY 3] ok');
    await w.tagged('a1', 'OK', 'READ-ONLY', 'EXAMINE completed');
    await w.tagged('a2', 'BAD', undefined, 'what?');
    await w.continuation('Ready');
    await w.bye('UNAVAILABLE', 'shutting down');
    await finished(sink);
    expect(sink.text()).toBe('* OK [UIDVALIDITY 3] ok\r\na1 OK [READ-ONLY] EXAMINE completed\r\na2 BAD what?\r\n+ Ready\r\n* BYE [UNAVAILABLE] shutting down\r\n');
  });

  it('keeps response text on one line so quoted client input cannot inject responses', async () => {
    const sink = new Sink(1 << 20);
    sink.auto = true;
    const w = new ResponseWriter(sink);
    await w.tagged('a1', 'NO', 'NONEXISTENT', 'no mailbox x\r\n* BYE evil');
    await w.untagged('OK a\nb');
    await finished(sink);
    expect(sink.text()).toBe('a1 NO [NONEXISTENT] no mailbox x  * BYE evil\r\n* OK a b\r\n');
  });

  it('resolves a write at once while the stream is below its high-water mark', async () => {
    const sink = new Sink(1024);
    const w = new ResponseWriter(sink);
    await w.write(Buffer.from('* OK\r\n'));
    expect(sink.pending).toBe(1); // resolved though the sink has not completed the write
  });

  it('waits for drain when the stream is full', async () => {
    const sink = new Sink(16);
    const w = new ResponseWriter(sink);
    let done = false;
    const p = w.write(Buffer.alloc(100, 0x61)).then(() => {
      done = true;
    });
    await tick();
    await tick();
    expect(done).toBe(false);
    sink.release();
    await p;
    expect(done).toBe(true);
  });

  it('streams a literal of exactly the announced size with bounded read-ahead', async () => {
    const sink = new Sink(64 * 1024);
    sink.auto = true;
    const w = new ResponseWriter(sink);
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
    await w.write(Buffer.from('* 1 FETCH (BODY[] '));
    await w.literal(total, source);
    await w.write(Buffer.from(')\r\n'));
    await finished(sink);
    const out = Buffer.concat(sink.chunks);
    const head = `* 1 FETCH (BODY[] {${total}}\r\n`;
    expect(out.subarray(0, head.length).toString()).toBe(head);
    expect(out.length).toBe(head.length + total + 3);
    expect(maxAhead).toBeLessThan(total / 4); // never the whole article in memory
  });

  it('writes a Buffer literal and a literal8 header', async () => {
    const sink = new Sink(1024);
    sink.auto = true;
    const w = new ResponseWriter(sink);
    await expect(w.literal(4, Buffer.from('abc'))).rejects.toMatchObject({ code: 'LITERAL_LENGTH' });
    await w.literal(3, Buffer.from('a\0b'), { binary: true });
    await finished(sink);
    expect(sink.text()).toBe('~{3}\r\na\0b');
  });

  it('fails with LITERAL_LENGTH when the source is longer or shorter than announced', async () => {
    for (const [announced, parts] of [[5, ['abc', 'def']], [10, ['abc']]] as const) {
      const sink = new Sink(1024);
      sink.auto = true;
      const w = new ResponseWriter(sink);
      const source = Readable.from(parts.map((p) => Buffer.from(p)));
      const err = await w.literal(announced, source).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WireWriteError);
      expect((err as WireWriteError).code).toBe('LITERAL_LENGTH');
      expect(source.destroyed).toBe(true);
    }
  });

  it('fails with SOURCE_FAILED when the source errors', async () => {
    const sink = new Sink(1024);
    sink.auto = true;
    const w = new ResponseWriter(sink);
    const source = new Readable({
      read() {
        this.destroy(new Error('upstream gone'));
      },
    });
    await expect(w.literal(10, source)).rejects.toMatchObject({ code: 'SOURCE_FAILED' });
  });

  it('rejects writes once the stream is destroyed, including one waiting for drain', async () => {
    const sink = new Sink(16);
    const w = new ResponseWriter(sink);
    const waiting = w.write(Buffer.alloc(100));
    sink.destroy();
    await expect(waiting).rejects.toMatchObject({ code: 'STREAM_CLOSED' });
    await expect(w.untagged('OK')).rejects.toMatchObject({ code: 'STREAM_CLOSED' });
    expect(w.closed).toBe(true);
  });
});
