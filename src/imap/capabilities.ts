/**
 * The CAPABILITY list (RFC 9051 §6.1.1), which depends on TLS state,
 * configuration and whether the user is logged in. Each name is offered only
 * where it works: OBJECTID (RFC 8474, objectid.ts), UIDONLY (RFC 9586,
 * uidonly.ts) and PREVIEW (RFC 8970, render/preview.ts) always; ACL and
 * LIST-MYRIGHTS (RFC 8440) with a persistent flag store. MESSAGELIMIT (RFC
 * 9738) is not offered: no command stops at a number of messages.
 */
import type { ServerContext } from './context.js';
import type { Session } from './session.js';

export function capabilities(server: ServerContext, session: Session): string[] {
  const caps = ['IMAP4rev1', 'IMAP4rev2', 'LITERAL-', 'SASL-IR', 'ID', 'ENABLE', 'IDLE', 'NAMESPACE', 'UNSELECT',
    'CHILDREN', 'LIST-EXTENDED', 'LIST-STATUS', 'STATUS=SIZE', 'ESEARCH', 'BINARY', 'UTF8=ACCEPT', 'SPECIAL-USE',
    'SEARCHRES', 'PARTIAL', 'OBJECTID', 'UIDONLY', 'PREVIEW'];
  if (server.options.sortThread) {
    caps.push('SORT', 'SORT=DISPLAY', 'ESORT', 'THREAD=ORDEREDSUBJECT', 'THREAD=REFERENCES', 'THREAD=REFS');
  }
  if (server.options.persistentFlags) caps.push('CONDSTORE', 'QRESYNC', 'ACL', 'RIGHTS=texk', 'LIST-MYRIGHTS');
  if (server.tls && !session.tls && session.state === 'notauth') caps.push('STARTTLS');
  if (server.options.compress && !session.compressed && session.state !== 'notauth') caps.push('COMPRESS=DEFLATE');
  if (session.state === 'notauth') {
    if (!plaintextAllowed(server, session)) caps.push('LOGINDISABLED');
    else caps.push('AUTH=PLAIN');
    if (server.options.anonymous) caps.push('AUTH=ANONYMOUS');
  }
  return caps;
}

export function plaintextAllowed(server: ServerContext, session: Session): boolean {
  return session.tls || server.options.allowPlaintextAuth;
}
