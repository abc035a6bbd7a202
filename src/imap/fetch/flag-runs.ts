/**
 * FETCH FLAGS for a listing, rendered from runs (issue 14): the flags of a
 * batch's UID span come from the store as runs of equal flags
 * (`FlagView.flagRuns`), each run's `FLAGS (...)` bytes are made once, and
 * each message takes the bytes of the run it falls in — no flag lookup, array
 * or string per message. A mailbox marked \Seen 1:50000 is one run.
 *
 *   const fr = new FlagRunText(view, uids[0], uids[uids.length - 1]);
 *   w.bytes(fr.of(uid));   // `FLAGS (\Seen)` — uids asked in ascending order are O(1) each
 */
import type { FlagView } from '../../stateagent/flagstore.js';

const NO_FLAGS = Buffer.from('FLAGS ()', 'latin1');

export class FlagRunText {
  private readonly los: number[] = [];
  private readonly his: number[] = [];
  private readonly texts: Buffer[] = [];
  private at = 0;

  /** Runs of [lo, hi]; `of` answers any UID in that span (others: no flags). */
  constructor(view: FlagView, lo: number, hi: number) {
    const shared = new Map<string, Buffer>();
    for (const r of view.flagRuns(lo, hi)) {
      if (r.flags.length === 0) continue;
      const text = `FLAGS (${r.flags.join(' ')})`;
      let b = shared.get(text);
      if (!b) shared.set(text, (b = Buffer.from(text, 'utf8')));
      this.los.push(r.lo);
      this.his.push(r.hi);
      this.texts.push(b);
    }
  }

  /** `FLAGS (...)` of `uid`, as bytes (shared: do not modify). */
  of(uid: number): Buffer {
    let i = this.at;
    if (i >= this.los.length || this.los[i]! > uid) {
      // not moving forward: binary search from the start
      let a = 0;
      let b = this.los.length;
      while (a < b) {
        const m = (a + b) >>> 1;
        if (this.his[m]! < uid) a = m + 1;
        else b = m;
      }
      i = a;
    } else while (i < this.los.length && this.his[i]! < uid) i++;
    this.at = i;
    return i < this.los.length && this.los[i]! <= uid ? this.texts[i]! : NO_FLAGS;
  }
}
