/**
 * Telling a client about mailbox changes it has not seen (RFC 9051 §7.4.1,
 * §7.5.1): `* n EXPUNGE` (or `* VANISHED uids` once QRESYNC is enabled,
 * RFC 7162 §3.2.10), `* n EXISTS`, and flag changes made by the user's other
 * sessions as `* n FETCH (UID u FLAGS (...) [MODSEQ (m)])`, preceded by a new
 * `* FLAGS` when they carry a keyword the client was not told of. After ENABLE
 * UIDONLY: `* VANISHED` and `* u UIDFETCH (FLAGS ...)` (RFC 9586, uidonly.ts).
 */
import type { Chunk } from './wire/writer.js';
import type { Session } from './session.js';
import { UidValidityChanged, type SelectedMailbox } from './selected.js';
import { ImapError } from './errors.js';
import { toRuns } from '../util/rangeset.js';
import { SYSTEM_FLAGS } from '../stateagent/flagstore.js';
import { fetchOpen, omitUidItem, uidOnly } from './uidonly.js';

type Send = (chunks: Chunk[]) => Promise<void>;

export function uidSetText(uids: readonly number[]): string {
  return toRuns(uids)
    .map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}:${hi}`))
    .join(',');
}

/**
 * The FLAGS response and, where flags are kept (`persistent`, not read-only),
 * PERMANENTFLAGS with `\\*` (new keywords may be created, RFC 9051 §7.1):
 * the system flags and the keywords the client knows. In client-held mode
 * keywords are kept for the session like system flags, and PERMANENTFLAGS
 * is `()` (SELECT says so; it is not repeated). Lines without `* ` and CRLF.
 */
export function flagsLines(sel: SelectedMailbox, persistent: boolean, atSelect = false): string[] {
  const all = [...SYSTEM_FLAGS, ...sel.keywords].join(' ');
  const lines = [`FLAGS (${all})`];
  const permanent = persistent && !sel.readOnly ? `${all} \\*` : '';
  if (atSelect || permanent !== '') {
    lines.push(`OK [PERMANENTFLAGS (${permanent})] ${persistent ? 'Flags are kept for you' : 'Flags last for this session only'}`);
  }
  return lines;
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
    if (session.enabled.has('QRESYNC') || uidOnly(session)) await send([`* VANISHED ${uidSetText(u.vanishedUids)}\r\n`]);
    else for (const seq of u.expunged) await send([`* ${seq} EXPUNGE\r\n`]);
  }
  if (u.exists !== null) await send([`* ${u.exists} EXISTS\r\n`]);
}

export async function announceUpdates(session: Session, send: Send, allowExpunge: boolean): Promise<void> {
  const sel = session.selected;
  if (!sel || !sel.hasUpdates()) return;
  if (sel.hasSnapshotUpdate()) await announceSnapshot(session, sel, send, allowExpunge);
  const changes = sel.takeFlagChanges();
  let fresh = false;
  let last: readonly string[] | undefined;
  for (const { change } of changes) {
    if (change.flags === last) continue; // the UIDs of one run share their flags array
    last = change.flags;
    if (sel.learnKeywords(change.flags)) fresh = true;
  }
  if (fresh) for (const line of flagsLines(sel, session.flags?.persistent ?? false)) await send([`* ${line}\r\n`]);
  for (const { seq, change } of changes) {
    const modseq = session.condstore ? ` MODSEQ (${change.modseq})` : '';
    const uid = omitUidItem(session) ? '' : `UID ${change.uid} `;
    await send([fetchOpen(session, seq, change.uid), `${uid}FLAGS (${change.flags.join(' ')})${modseq})\r\n`]);
  }
}
