/**
 * Outbox (fetch/outbox.ts): responses rendered into two buffers used in
 * turn; a buffer is filled again only once the socket has taken it, bytes
 * leave in the order rendered, and a response larger than a buffer still
 * goes out whole.
 */
import { describe, expect, it } from 'vitest';
import { Outbox } from '../../../src/imap/fetch/outbox.js';

/** A `writeReusable` whose writes are taken only when the test says so; what each write held when it was taken. */
function socket(): {
  ctx: { writeReusable(data: Buffer): Promise<void>; queueReusable(data: Buffer, taken: (err?: Error) => void): void };
  inFlight: () => number;
  take: () => void;
  taken: string[];
  queued: number;
} {
  const held: Array<{ data: Buffer; atWrite: string; done: () => void }> = [];
  const taken: string[] = [];
  const write = (data: Buffer): Promise<void> =>
    new Promise<void>((resolve) => {
      held.push({ data, atWrite: data.toString('latin1'), done: resolve });
    });
  const s = {
    ctx: {
      writeReusable: write,
      // queued: in this stand-in it leaves at once, after the writes before it (what the next flush does)
      queueReusable: (data: Buffer, taken: (err?: Error) => void) => {
        s.queued++;
        write(data).then(() => taken(), taken);
      },
    },
    queued: 0,
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
  return s;
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
    expect(s.queued).toBe(1); // the last one is queued (it leaves with the tagged response), the others written
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

  it('end queues without taking a new buffer and gives its buffer back once taken; a failed write gives nothing back', async () => {
    const s = socket();
    const one = new Outbox(s.ctx, 24);
    const buf = one.w.buffer;
    one.w.ascii('only one\r\n');
    await one.end(); // nothing shipped before: it need not wait for the queued buffer
    expect(s.queued).toBe(1);
    // taken by nobody yet: a new outbox must not get that buffer
    const meanwhile = new Outbox(s.ctx, 24);
    expect(meanwhile.w.buffer).not.toBe(buf);
    s.take();
    await tick();
    expect(s.taken).toEqual(['only one\r\n']);
    const next = new Outbox(s.ctx, 24);
    expect(next.w.buffer).toBe(buf); // the spare one, not a new allocation
    const gone = (): Promise<void> => Promise.reject(new Error('gone'));
    const goneLater = (_data: Buffer, taken: (err?: Error) => void): void => void setImmediate(() => taken(new Error('gone')));
    const failing = new Outbox({ writeReusable: gone, queueReusable: goneLater }, 40);
    const lost = failing.w.buffer;
    failing.w.ascii('x');
    await failing.ship(); // the first buffer's write fails; seen when it is waited for
    failing.w.ascii('y');
    await expect(failing.end()).rejects.toThrow('gone');
    const queuedLost = new Outbox({ writeReusable: gone, queueReusable: goneLater }, 48);
    const lost2 = queuedLost.w.buffer;
    queuedLost.w.ascii('z');
    await queuedLost.end(); // its failure is the connection's to answer
    await tick();
    expect(new Outbox(s.ctx, 40).w.buffer).not.toBe(lost);
    expect(new Outbox(s.ctx, 48).w.buffer).not.toBe(lost2);
  });
});
