/**
 * Telling a client about mailbox changes it has not seen (RFC 9051 §7.4.1,
 * §7.5.1): `* n EXPUNGE` (or `* VANISHED uids` once QRESYNC is enabled,
 * RFC 7162 §3.2.10) and `* n EXISTS`.
 */
import type { Chunk } from './render/envelope.js';
import type { Session } from './session.js';
import { UidValidityChanged } from './selected.js';
import { ImapError } from './errors.js';
import { toRuns } from '../stateagent/session.js';

export async function announceUpdates(
  session: Session,
  send: (chunks: Chunk[]) => Promise<void>,
  allowExpunge: boolean,
): Promise<void> {
  const sel = session.selected;
  if (!sel || !sel.hasUpdates()) return;
  let u;
  try {
    u = sel.takeUpdates(allowExpunge);
  } catch (err) {
    if (err instanceof UidValidityChanged) {
      throw new ImapError('BYE', 'UNAVAILABLE', `Mailbox ${sel.name} was rebuilt (UIDVALIDITY changed); please reconnect`);
    }
    throw err;
  }
  if (u.vanishedUids.length > 0) {
    if (session.enabled.has('QRESYNC')) {
      const set = toRuns(u.vanishedUids).map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}:${hi}`)).join(',');
      await send([`* VANISHED ${set}\r\n`]);
    } else {
      for (const seq of u.expunged) await send([`* ${seq} EXPUNGE\r\n`]);
    }
  }
  if (u.exists !== null) await send([`* ${u.exists} EXISTS\r\n`]);
}
