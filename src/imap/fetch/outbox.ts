/**
 * Output of a batch of FETCH responses (fetch/bodies.ts): rendered into a
 * ByteWriter over one of two buffers of `chunk` octets, used in turn — one
 * is filled while the socket takes the other (`CommandContext.writeReusable`)
 * — so a FETCH of thousands of cached bodies allocates two buffers, not one
 * per written chunk (each a new ArrayBuffer, external memory that made V8
 * collect during the command).
 *
 * Contract: bytes reach the socket in the order rendered; `ship` waits
 * until the socket has taken the buffer about to be reused, so at most two
 * buffers are in flight (the writer's backpressure). A buffer grows past
 * `chunk` only for a response that does not fit an empty one (it is then
 * kept as the larger one). `end` queues the rest without taking a new
 * buffer (it leaves with the tagged response, one system call for both: a
 * one-message FETCH made two writes, the costliest part of its CPU time
 * with 10 clients) and, once the socket has taken everything, gives the outbox's
 * buffers of `chunk` octets back to a small process-wide spare list
 * (MAX_SPARE per size) for the next outbox: a FETCH of one message takes one
 * buffer and returns it (it took two fresh 64 KB buffers each time: with 10
 * clients ~1 GB/s of external memory, which set off major collections).
 * After `end` the outbox and its writer are not used again; after a
 * rejected `ship` or `end`, or a failed last write, neither (the connection
 * is gone; its buffers are not reused).
 */
import type { CommandContext } from '../command.js';
import { ByteWriter } from '../wire/byte-writer.js';

/** Spare buffers kept per buffer size, at most. */
const MAX_SPARE = 16;
const spares = new Map<number, Buffer[]>();

function takeSpare(size: number): Buffer {
  return spares.get(size)?.pop() ?? Buffer.allocUnsafeSlow(size);
}

function giveSpare(buf: Buffer): void {
  let list = spares.get(buf.length);
  if (list === undefined) spares.set(buf.length, (list = []));
  if (list.length < MAX_SPARE) list.push(buf);
}

export class Outbox {
  /** Where responses are rendered; `ship` hands what it holds to the socket. */
  readonly w: ByteWriter;
  /** The buffer the socket is taking, and when it will have taken it. */
  private sending: { buf: Buffer; taken: Promise<void> } | undefined;
  /** Buffers of `chunk` octets this outbox took (given back at `end`). */
  private readonly owned: Buffer[] = [];
  /** Gives the buffers back to the spare list, unless the last write failed (the connection is gone). */
  private readonly giveBack = (err?: Error): void => {
    if (err === undefined) for (const b of this.owned.splice(0)) giveSpare(b);
  };

  constructor(
    private readonly ctx: Pick<CommandContext, 'writeReusable' | 'queueReusable'>,
    private readonly chunk: number,
  ) {
    this.w = new ByteWriter(0).use(this.take());
  }

  /** Octets rendered and not shipped yet. */
  get length(): number {
    return this.w.length;
  }

  /** False when `n` more octets would not fit the current buffer and it holds anything: `ship` first. */
  fits(n: number): boolean {
    return this.w.length === 0 || this.w.length + n <= this.w.buffer.length;
  }

  /** Hands what is rendered to the socket and goes on in the other buffer, once the socket has taken that one. */
  async ship(): Promise<void> {
    const prev = this.hand();
    if (prev === null) return;
    if (prev === undefined) {
      this.w.use(this.take());
      return;
    }
    await prev.taken;
    this.w.use(prev.buf);
  }

  /**
   * Queues what is left (`queueReusable`: it leaves with the next write, the
   * tagged response in one system call with it, not a write of its own);
   * resolves once the socket has taken what was shipped before. The buffers
   * are spare again once the socket has taken the last one too.
   */
  async end(): Promise<void> {
    const queued = this.w.length > 0;
    if (queued) this.ctx.queueReusable(this.w.take(), this.giveBack);
    await this.sending?.taken;
    if (!queued) this.giveBack();
  }

  /** Writes what is rendered; returns the buffer in flight before (undefined: none), or null when nothing was rendered. */
  private hand(): { buf: Buffer; taken: Promise<void> } | undefined | null {
    if (this.w.length === 0) return null;
    const buf = this.w.buffer;
    const taken = this.ctx.writeReusable(this.w.take());
    taken.catch(() => undefined); // awaited at the next ship or at `end`
    const prev = this.sending;
    this.sending = { buf, taken };
    return prev;
  }

  private take(): Buffer {
    const b = takeSpare(this.chunk);
    this.owned.push(b);
    return b;
  }
}
