/**
 * Output of a batch of FETCH responses (fetch/bodies.ts): rendered into a
 * ByteWriter over one of two buffers of `chunk` octets, used in turn — one
 * is filled while the socket takes the other (`CommandContext.writeReusable`)
 * — so a FETCH of thousands of cached bodies allocates two buffers, not one
 * per written chunk (each a new ArrayBuffer, external memory that made V8
 * collect during the command).
 *
 * Contract: bytes reach the socket in the order rendered; `ship` and `end`
 * wait until the socket has taken the buffer about to be reused, so at most
 * two buffers are in flight (the writer's backpressure). A buffer grows past
 * `chunk` only for a response that does not fit an empty one (it is then
 * kept as the larger one). After a rejected `ship` or `end` the outbox is
 * not used again (the connection is gone).
 */
import type { CommandContext } from '../command.js';
import { ByteWriter } from '../wire/byte-writer.js';

export class Outbox {
  /** Where responses are rendered; `ship` hands what it holds to the socket. */
  readonly w: ByteWriter;
  /** The buffer the socket is taking, and when it will have taken it. */
  private sending: { buf: Buffer; taken: Promise<void> } | undefined;

  constructor(
    private readonly ctx: Pick<CommandContext, 'writeReusable'>,
    private readonly chunk: number,
  ) {
    this.w = new ByteWriter(0).use(Buffer.allocUnsafeSlow(chunk));
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
    if (this.w.length === 0) return;
    const buf = this.w.buffer;
    const taken = this.ctx.writeReusable(this.w.take());
    taken.catch(() => undefined); // awaited at the next ship or at `end`
    const prev = this.sending;
    this.sending = { buf, taken };
    if (prev === undefined) {
      this.w.use(Buffer.allocUnsafeSlow(this.chunk));
      return;
    }
    await prev.taken;
    this.w.use(prev.buf);
  }

  /** Ships what is left; resolves once the socket has taken everything. */
  async end(): Promise<void> {
    await this.ship();
    await this.sending?.taken;
  }
}
