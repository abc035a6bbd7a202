/**
 * Errors of the IMAP layer. The connection (and only the connection) turns
 * them into responses: an `ImapError` is sent as it is (tagged NO/BAD, or an
 * untagged BYE that closes the connection); a `ParseError` from the wire layer
 * becomes `BAD [CLIENTBUG]`; anything else is logged and answered
 * `NO [SERVERBUG]` while the connection stays up (STYLE §6).
 */

export type ImapStatus = 'NO' | 'BAD' | 'BYE';

/** RFC 5530 response codes (and a few of RFC 9051 / RFC 7162) that we emit. */
export type ResponseCode =
  | 'ALERT' | 'AUTHENTICATIONFAILED' | 'AUTHORIZATIONFAILED' | 'CANNOT' | 'CLIENTBUG'
  | 'CONTACTADMIN' | 'EXPUNGEISSUED' | 'INUSE' | 'LIMIT' | 'NONEXISTENT' | 'NOPERM'
  | 'OVERQUOTA' | 'PRIVACYREQUIRED' | 'SERVERBUG' | 'TOOBIG' | 'UNAVAILABLE'
  | 'UNKNOWN-CTE' | 'READ-ONLY' | 'TRYCREATE' | 'BADCHARSET' | 'ALREADYEXISTS'
  | 'EXPIRED' | 'CORRUPTION' | 'HASCHILDREN' | 'COMPRESSIONACTIVE' | 'BADCHARSET (UTF-8 US-ASCII)';

export class ImapError extends Error {
  readonly status: ImapStatus;
  readonly code: string | undefined;
  constructor(status: ImapStatus, code: ResponseCode | string | undefined, text: string, options?: { cause?: unknown }) {
    super(text, options);
    this.name = 'ImapError';
    this.status = status;
    this.code = code;
  }
}

export const no = (code: ResponseCode | undefined, text: string, cause?: unknown): ImapError =>
  new ImapError('NO', code, text, cause === undefined ? undefined : { cause });
export const bad = (code: ResponseCode | undefined, text: string): ImapError => new ImapError('BAD', code, text);

/** Refusal used by every command that would change public data (DESIGN invariant 3). */
export const readOnlyRefusal = (what: string): ImapError =>
  no('CANNOT', `${what} is not possible: newsgroups are read-only public data`);
