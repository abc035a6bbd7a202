/**
 * UIDONLY (RFC 9586): once a client has sent `ENABLE UIDONLY`, messages are
 * named by UID only, in both directions.
 *
 *   C: a1 ENABLE UIDONLY          S: * ENABLED UIDONLY
 *   C: a2 FETCH 1 (FLAGS)         S: a2 BAD [UIDREQUIRED] ...
 *   C: a3 UID FETCH 7 (FLAGS)     S: * 7 UIDFETCH (FLAGS (\Seen))
 *   (an article expires)          S: * VANISHED 5
 *
 * - Commands that take or return message sequence numbers are refused with
 *   `BAD [UIDREQUIRED]`: FETCH, STORE, SEARCH, COPY, MOVE (RFC 9586 §3), and
 *   SORT and THREAD, which answer with sequence numbers; so are sequence-set
 *   keys inside UID SEARCH / UID SORT / UID THREAD (§3.2) and the sequence
 *   match data of a QRESYNC SELECT.
 * - Every untagged FETCH becomes `* <uid> UIDFETCH (...)`, the UID item left
 *   out unless asked for (§3.3); expunges are told as `* VANISHED` (§3.4).
 *
 * The checks run in one place (the connection, `uidOnlyRefusal`), before a
 * command's handler; the response shapes come from `fetchOpen` and
 * `omitUidItem`, used by every writer of FETCH responses.
 */
import { ImapError } from './errors.js';
import type { Session } from './session.js';
import type { SearchKey } from './wire/search-key.js';

/** Commands that name messages by sequence number, in their registry names. */
const SEQUENCE_COMMANDS = new Set(['FETCH', 'STORE', 'SEARCH', 'COPY', 'MOVE', 'SORT', 'THREAD']);

export function uidOnly(session: Session): boolean {
  return session.enabled.has('UIDONLY');
}

function required(what: string): ImapError {
  return new ImapError('BAD', 'UIDREQUIRED', `${what} with message sequence numbers is not allowed after ENABLE UIDONLY; use UIDs`);
}

/** A sequence-set key anywhere in `k` (RFC 9586 §3.2). */
function hasSequenceKey(k: SearchKey): boolean {
  switch (k.type) {
    case 'seq':
      return true;
    case 'not':
      return hasSequenceKey(k.key);
    case 'or':
      return hasSequenceKey(k.a) || hasSequenceKey(k.b);
    case 'and':
      return k.keys.some(hasSequenceKey);
    default:
      return false;
  }
}

/**
 * The error to answer instead of running command `name` (registry name, e.g.
 * `UID SEARCH`), or undefined; only with UIDONLY enabled. Asked twice: before
 * parsing (`args` undefined: the command itself) and with the parsed `args`.
 */
export function uidOnlyRefusal(session: Session, name: string, args?: unknown): ImapError | undefined {
  if (!uidOnly(session)) return undefined;
  if (SEQUENCE_COMMANDS.has(name)) return required(name);
  if (args === undefined || args === null) return undefined;
  const key = (args as { key?: SearchKey } | null)?.key;
  if (name.startsWith('UID ') && key !== undefined && typeof key === 'object' && hasSequenceKey(key)) {
    return required(`${name.slice(4)} key`);
  }
  if ((name === 'SELECT' || name === 'EXAMINE') && (args as { qresync?: { seqMatch?: boolean } }).qresync?.seqMatch) {
    return required('QRESYNC sequence match data');
  }
  return undefined;
}

/** The start of an untagged FETCH response for message `seq` / `uid`: `* 4 FETCH (` or `* 9 UIDFETCH (`. */
export function fetchOpen(session: Session, seq: number, uid: number): string {
  return uidOnly(session) ? `* ${uid} UIDFETCH (` : `* ${seq} FETCH (`;
}

/** True when a UID item the client did not ask for must be left out (the UID leads the UIDFETCH). */
export function omitUidItem(session: Session): boolean {
  return uidOnly(session);
}
