/**
 * Change delay: how long after one session sends a STORE another session of
 * the same user, IDLE on the same mailbox, hears it (`* n FETCH (… FLAGS …)`).
 * The two sessions may be on one front-end (the flag store's own watchers) or
 * on two (PostgreSQL LISTEN/NOTIFY between the front-ends).
 *
 *   const d = await changeDelays({ writer: portA, idler: portB, mailbox, user, pass, changes: 200 });
 *   d.delaysMs   // one per change, ms from sending the STORE to the IDLE line
 *
 * Each change is `UID STORE u +FLAGS.SILENT (\Flagged)` on a UID not flagged
 * yet (u = 1, 2, …, so each one changes something), one at a time: the next
 * is sent once the previous was both answered OK and heard. `until` (a
 * performance.now() time) stops earlier, and `start` holds the first change
 * back, for runs beside a load. A change not
 * heard within HEAR_TIMEOUT_MS fails the run. Both sockets are closed on return.
 */
import { RawImap } from './imap-client.js';
import { quote } from './session.js';

/**
 * A change the IDLE session has not heard after this long is lost, not late
 * (beside 1,000 busy sessions on a 2-core machine at load average 35, a
 * notice took over 10 s to come through the front-end's event loop).
 */
const HEAR_TIMEOUT_MS = 30_000;

export interface DelayOptions {
  /** IMAP port of the session that STOREs. */
  writer: number;
  /** IMAP port of the session that IDLEs (may equal `writer`). */
  idler: number;
  mailbox: string;
  user: string;
  pass: string;
  /** Changes to make (at most as many as the mailbox has messages). */
  changes: number;
  /** Stop before this performance.now() time, if set. */
  until?: number;
  /**
   * Open both sessions (and start the IDLE) first, then wait for this before
   * the first change; it resolves with the time to stop at (replacing
   * `until`). For a run beside a load: the sessions are not opened under it.
   */
  start?: Promise<number>;
}

export interface DelayResult {
  /** Per change: ms from sending the STORE to the IDLE session's FETCH line. */
  delaysMs: number[];
  /** Per change: ms from sending the STORE to its tagged OK. */
  storeMs: number[];
  /** Per change: ms from the STORE's OK to the IDLE line (≤ 0 when heard first): the notice path alone. */
  afterOkMs: number[];
}

async function login(port: number, o: DelayOptions): Promise<{ c: RawImap; exists: number }> {
  const c = await RawImap.connect('127.0.0.1', port);
  try {
    await c.ok(`LOGIN ${quote(o.user)} ${quote(o.pass)}`);
    const sel = await c.ok(`SELECT ${quote(o.mailbox)}`, { keep: true });
    const m = sel.lines.map((l) => /^\* (\d+) EXISTS/i.exec(l)).find(Boolean);
    return { c, exists: m ? Number(m[1]) : 0 };
  } catch (err) {
    c.close();
    throw err;
  }
}

export async function changeDelays(o: DelayOptions): Promise<DelayResult> {
  const out: DelayResult = { delaysMs: [], storeMs: [], afterOkMs: [] };
  const idler = await login(o.idler, o);
  let writer: RawImap | undefined;
  try {
    writer = (await login(o.writer, o)).c;
    let heard: ((t: number) => void) | undefined;
    idler.c.onUntagged = (line) => {
      if (/^\* \d+ FETCH .*FLAGS/i.test(line)) heard?.(performance.now());
    };
    const idling = new Promise<void>((res) => (idler.c.onContinuation = res));
    const idle = idler.c.command('IDLE');
    idle.catch(() => undefined); // its end is awaited below; a failure shows there
    await idling;
    const until = o.start ? await o.start : o.until;
    const n = Math.min(o.changes, idler.exists);
    for (let u = 1; u <= n; u++) {
      if (until !== undefined && performance.now() >= until) break;
      let timer: NodeJS.Timeout | undefined;
      const heardAt = new Promise<number>((res, rej) => {
        heard = res;
        timer = setTimeout(() => rej(new Error(`change ${u} not heard by the IDLE session within ${HEAR_TIMEOUT_MS} ms`)), HEAR_TIMEOUT_MS);
      });
      heardAt.catch(() => undefined); // awaited below; not unhandled if the STORE fails first
      const t0 = performance.now();
      try {
        const r = await writer.ok(`UID STORE ${u} +FLAGS.SILENT (\\Flagged)`);
        out.storeMs.push(r.seconds * 1000);
        const at = await heardAt;
        out.delaysMs.push(at - t0);
        out.afterOkMs.push(at - t0 - r.seconds * 1000);
      } finally {
        clearTimeout(timer);
        heard = undefined;
      }
    }
    idler.c.sendLine('DONE');
    await idle;
    return out;
  } finally {
    writer?.close();
    idler.c.close();
  }
}
