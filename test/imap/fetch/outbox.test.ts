/**
 * Outbox (fetch/outbox.ts): responses rendered into two buffers used in
 * turn; a buffer is filled again only once the socket has taken it, bytes
 * leave in the order rendered, and a response larger than a buffer still
 * goes out whole.
 */
import { describe, expect, it } from 'vitest';
import { Outbox } from '../../../src/imap/fetch/outbox.js';

/** A `writeReusable` whose writes are taken only when the test says so; what each write held when it was taken. */
function socket(): { ctx: { writeReusable(data: Buffer): Promise<void> }; inFlight: () => number; take: () => void; taken: string[] } {
  const held: Array<{ data: Buffer; atWrite: string; done: () => void }> = [];
  const taken: string[] = [];
  return {
    ctx: {
      writeReusable: (data) =>
        new Promise<void>((resolve) => {
          held.push({ data, atWrite: data.toString('latin1'), done: resolve });
        }),
    },
    inFlight: () => held.length,
    take: () => {
      const h = held.shift()!;
      // the bytes must be as they were when written: not overwritten while the socket held them
      expect(h.data.toString('latin1')).toBe(h.atWrite);
      taken.push(h.atWrite);
      h.done();
    },
    taken,
  };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('Outbox', () => {
  it('uses two buffers in turn, fills one again only once the socket took it, and keeps the order', async () => {
    const s = socket();
    const out = new Outbox(s.ctx, 16);
    out.w.ascii('first response\r\n');
    await out.ship(); // the first buffer goes; the second one is new
    const firstBuf = s.inFlight();
    expect(firstBuf).toBe(1);
    out.w.ascii('second one\r\n');
    let shipped = false;
    const p = out.ship().then(() => (shipped = true));
    await tick();
    expect(s.inFlight()).toBe(2); // both written; the outbox waits for the first to be taken before reusing it
    expect(shipped).toBe(false);
    s.take();
    await p;
    out.w.ascii('third\r\n'); // into the first buffer again
    expect(out.fits(100)).toBe(false); // holds something and 100 more do not fit 16
    const end = out.end();
    await tick();
    s.take();
    await tick();
    s.take();
    await end;
    expect(s.taken).toEqual(['first response\r\n', 'second one\r\n', 'third\r\n']);
  });

  it('a response larger than a buffer grows it and goes out whole; an empty outbox writes nothing', async () => {
    const s = socket();
    const out = new Outbox(s.ctx, 8);
    expect(out.fits(1000)).toBe(true); // empty: anything is rendered, growing the buffer
    const big = 'x'.repeat(1000);
    out.w.ascii(big);
    const end = out.end();
    await tick();
    s.take();
    await end;
    expect(s.taken).toEqual([big]);
    const none = socket();
    await new Outbox(none.ctx, 8).end();
    expect(none.taken).toEqual([]);
  });

  it('end writes without taking a new buffer and gives its buffer back once taken; a failed end gives nothing back', async () => {
    const s = socket();
    const one = new Outbox(s.ctx, 24);
    const buf = one.w.buffer;
    one.w.ascii('only one\r\n');
    const end = one.end();
    await tick();
    // taken by nobody yet: a new outbox must not get that buffer
    const meanwhile = new Outbox(s.ctx, 24);
    expect(meanwhile.w.buffer).not.toBe(buf);
    s.take();
    await end;
    expect(s.taken).toEqual(['only one\r\n']);
    const next = new Outbox(s.ctx, 24);
    expect(next.w.buffer).toBe(buf); // the spare one, not a new allocation
    const failing = new Outbox({ writeReusable: () => Promise.reject(new Error('gone')) }, 40);
    const lost = failing.w.buffer;
    failing.w.ascii('x');
    await expect(failing.end()).rejects.toThrow('gone');
    expect(new Outbox(s.ctx, 40).w.buffer).not.toBe(lost);
  });
});
