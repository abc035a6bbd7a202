/**
 * Pauses a flowing source (a Readable emitting 'data') for several reasons at
 * once, and bounds the bytes handled per turn of the event loop.
 *
 * Why the bound: a long download (fetch.ts) parses every chunk as it comes, on
 * the main thread. Socket reads and stream buffers deliver several 64 KB
 * chunks in one go (libuv reads while data is there; a resumed stream emits
 * all it buffered), so without a bound an IMAP command arriving meanwhile
 * waited for milliseconds of queued parsing. With it, once `turnBytes` were
 * handled the source is paused until the next turn (`setImmediate`, after the
 * poll phase that reads commands); what arrives meanwhile waits in the
 * stream's buffers, whose backpressure pauses the socket. Pausing a Readable
 * inside its 'data' handler stops the emission at once (`flow` checks the
 * flowing state per chunk), so no chunk beyond the bound is handed over.
 *
 *   const gate = new FlowGate(src, TURN_BYTES);
 *   src.on('data', (c) => { handle(c); gate.spend(c.length); });
 *   gate.hold('write') … gate.release('write')   — other reasons to wait
 *
 * The source resumes only when no reason holds it. `close()` stops resuming
 * (the source ended or was destroyed).
 */
export interface Pausable {
  pause(): unknown;
  resume(): unknown;
}

const TURN = 'turn';

export class FlowGate {
  private readonly holds = new Set<string>();
  private spent = 0;
  private turnArmed = false;
  private closed = false;

  constructor(
    private readonly src: Pausable,
    private readonly turnBytes: number,
  ) {}

  /** True while some reason holds the source paused. */
  get held(): boolean {
    return this.holds.size > 0;
  }

  /** Pauses the source until `release(reason)` and every other hold is released (a reason held twice counts once). */
  hold(reason: string): void {
    if (this.closed || this.holds.has(reason)) return;
    this.holds.add(reason);
    if (this.holds.size === 1) this.src.pause();
  }

  release(reason: string): void {
    if (!this.holds.delete(reason) || this.closed) return;
    if (this.holds.size === 0) this.src.resume();
  }

  /**
   * Counts `n` bytes handled in this turn. Once the turn's handled `turnBytes` (or more: a chunk is
   * never cut), the source is held until the next turn, where the count starts again from 0.
   */
  spend(n: number): void {
    this.spent += n;
    if (!this.turnArmed) {
      this.turnArmed = true;
      setImmediate(this.nextTurn);
    }
    if (this.spent >= this.turnBytes) this.hold(TURN);
  }

  /** No more pausing or resuming (the source ended or failed). */
  close(): void {
    this.closed = true;
  }

  private readonly nextTurn = (): void => {
    this.turnArmed = false;
    this.spent = 0;
    this.release(TURN);
  };
}
