/**
 * Telling a client about mailbox changes it has not seen (RFC 9051 §7.4.1,
 * §7.5.1): `* n EXPUNGE` (or `* VANISHED uids` once QRESYNC is enabled,
 * RFC 7162 §3.2.10), `* n EXISTS`, and flag changes made by the user's other
 * sessions as `* n FETCH (UID u FLAGS (...) [MODSEQ (m)])`.
 */
import type { Chunk } from './wire/writer.js';
import type { Session } from './session.js';
import { UidValidityChanged, type SelectedMailbox } from './selected.js';
import { ImapError } from './errors.js';
import { toRuns } from '../util/rangeset.js';

type Send = (chunks: Chunk[]) => Promise<void>;

export function uidSetText(uids: readonly number[]): string {
  return toRuns(uids)
    .map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}:${hi}`))
    .join(',');
}

async function announceSnapshot(session: Session, sel: SelectedMailbox, send: Send, allowExpunge: boolean): Promise<void> {
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
    if (session.enabled.has('QRESYNC')) await send([`* VANISHED ${uidSetText(u.vanishedUids)}\r\n`]);
    else for (const seq of u.expunged) await send([`* ${seq} EXPUNGE\r\n`]);
  }
  if (u.exists !== null) await send([`* ${u.exists} EXISTS\r\n`]);
}

export async function announceUpdates(session: Session, send: Send, allowExpunge: boolean): Promise<void> {
  const sel = session.selected;
  if (!sel || !sel.hasUpdates()) return;
  if (sel.hasSnapshotUpdate()) await announceSnapshot(session, sel, send, allowExpunge);
  for (const { seq, change } of sel.takeFlagChanges()) {
    const modseq = session.condstore ? ` MODSEQ (${change.modseq})` : '';
    await send([`* ${seq} FETCH (UID ${change.uid} FLAGS (${change.flags.join(' ')})${modseq})\r\n`]);
  }
}
