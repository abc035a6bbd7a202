/**
 * Object identifiers (RFC 8474, capability OBJECTID): MAILBOXID, EMAILID and
 * THREADID, computed from data that never changes, so every front-end gives
 * the same answer without storing anything (DESIGN: deterministic, no
 * per-user state).
 *
 *   C: a1 UID FETCH 7 (EMAILID THREADID)
 *   S: * 3 FETCH (UID 7 EMAILID (M1c0b6f…) THREADID (T9a41de…))
 *   C: a2 STATUS comp.lang.misc (MAILBOXID)
 *   S: * STATUS comp.lang.misc (MAILBOXID (F5e2a90…))
 *
 * - EMAILID: from the article's Message-ID, so a crossposted article (one
 *   Message-ID in several groups) has one EMAILID in every group, as RFC 8474
 *   §5.1 asks of a message copied between mailboxes. An article without a
 *   usable Message-ID (none, or not one `<…>` token) gets one from
 *   mailbox + UIDVALIDITY + UID: stable for as long as its UID is.
 * - THREADID: from the thread root: the first Message-ID of References, else
 *   the first of In-Reply-To, else the article's own Message-ID (so a thread
 *   starter and its replies share it). The first References entry is the
 *   root because netnews keeps it when trimming References (RFC 5537 §3.4.4)
 *   and follow-ups must carry References (RFC 5536 §3.2.10); a reply with only
 *   In-Reply-To (mail) is threaded under its parent, which is the root when
 *   the thread is two deep. The id depends only on the article's own header,
 *   so it never changes, and the same EMAILID always has the same THREADID
 *   (RFC 8474 §5.2). Without any usable Message-ID it is derived like EMAILID.
 * - MAILBOXID: from the group name and UIDVALIDITY: it changes exactly when
 *   the UIDs lose their meaning (a rebuilt UID map), which is when a client
 *   must treat the mailbox as new.
 *
 * Each id is a letter (M, T, F) and 24 hex digits of SHA-256 (96 bits): within
 * RFC 8474 §7 `objectid` (1*255 of ALPHA / DIGIT / "_" / "-") and safe as a
 * file name; SEARCH compares them exactly. The inputs are public articles and
 * group names, so the ids reveal nothing a client could not read anyway.
 */
import { createHash } from 'node:crypto';
import { findField, parseHeader } from '../mime/index.js';

/** `objectid` of RFC 8474 §7. */
export const OBJECTID_RE = /^[A-Za-z0-9_-]{1,255}$/;

function digest(prefix: string, input: string): string {
  return prefix + createHash('sha256').update(input, 'utf8').digest('hex').slice(0, 24);
}

const MSGID = /<[^<>\s]+>/g;

/** The `<…>` tokens of a header value (latin1 view: Message-IDs are ASCII). */
function msgIds(value: Buffer | undefined): string[] {
  if (value === undefined) return [];
  return value.toString('latin1').match(MSGID) ?? [];
}

/** What the ids of one article are made from (its header's Message-ID and thread root). */
export interface IdSource {
  /** The article's Message-ID, when usable. */
  messageId: string | undefined;
  /** The thread root's Message-ID (see the file comment), when any is usable. */
  root: string | undefined;
}

/** Reads Message-ID, References and In-Reply-To from a header block. */
export function idSource(header: Buffer): IdSource {
  const fields = parseHeader(header);
  const own = msgIds(findField(fields, 'message-id')?.value);
  const messageId = own.length === 1 ? own[0] : undefined;
  const root = msgIds(findField(fields, 'references')?.value)[0] ?? msgIds(findField(fields, 'in-reply-to')?.value)[0] ?? messageId;
  return { messageId, root };
}

/** The article's place, for articles without a usable Message-ID. */
export interface ArticlePlace {
  mailbox: string;
  uidValidity: number;
  uid: number;
}

const placeText = (p: ArticlePlace): string => `${p.mailbox}\u0000${p.uidValidity}\u0000${p.uid}`;

export function emailIdOf(src: IdSource, place: ArticlePlace): string {
  return src.messageId !== undefined ? digest('M', src.messageId) : digest('M', `\u0000${placeText(place)}`);
}

export function threadIdOf(src: IdSource, place: ArticlePlace): string {
  return src.root !== undefined ? digest('T', src.root) : digest('T', `\u0000${placeText(place)}`);
}

/** EMAILID of the Message-ID `messageId` (for an index look-up). */
export function emailIdOfMessageId(messageId: string): string {
  return digest('M', messageId);
}

export function mailboxIdOf(mailbox: string, uidValidity: number): string {
  return digest('F', `${mailbox}\u0000${uidValidity}`);
}
