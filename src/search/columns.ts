/**
 * Per-record keys shared by SORT and THREAD, each computed once per record and
 * kept in the group's `MessageKeys` (extended as articles arrive).
 */
import { bytesToText, decodeHeaderValue, parseAddressList, type Address } from '../mime/index.js';
import { baseSubject } from './base-subject.js';
import { asciiCasemap } from './collate.js';
import { sentDate, type MessageKeys, type MessageRecord } from './keys.js';
import type { FirstAddress } from './text.js';

interface Column<T> {
  upTo: number;
  values: T[];
}

function column<T>(keys: MessageKeys, name: string, derive: (r: MessageRecord) => T): T[] {
  return keys.extending<Column<T>>(
    name,
    () => ({ upTo: 0, values: [] }),
    (c, from, to) => {
      const records = keys.records;
      for (let i = from; i < to; i++) c.values.push(derive(records[i]!));
    },
  ).values;
}

/** INTERNALDATEs, ms since the epoch. */
export function arrivals(keys: MessageKeys): number[] {
  return column(keys, 'arrival', (r) => r.arrival);
}

/** RFC822.SIZEs. */
export function sizes(keys: MessageKeys): number[] {
  return column(keys, 'size', (r) => r.size);
}

/** Sent dates (RFC 5256 §2.2), ms since the epoch. */
export function sentDates(keys: MessageKeys): number[] {
  return column(keys, 'sent-date', sentDate);
}

export interface SubjectColumn {
  upTo: number;
  /** Base subjects under i;ascii-casemap. */
  keys: string[];
  /** 1 when the subject marks a reply or forward. */
  reply: Uint8Array;
}

/** Base subjects (RFC 5256 §2.1) and their reply-or-forward flags. */
export function subjects(keys: MessageKeys): SubjectColumn {
  return keys.extending<SubjectColumn>(
    'subject',
    () => ({ upTo: 0, keys: [], reply: new Uint8Array(0) }),
    (c, from, to) => {
      const reply = new Uint8Array(to);
      reply.set(c.reply);
      const records = keys.records;
      for (let i = from; i < to; i++) {
        const r = records[i]!;
        const b = baseSubject(r.subject, r.subjectDecoded === true);
        c.keys.push(b.key);
        reply[i] = b.isReplyOrForward ? 1 : 0;
      }
      c.reply = reply;
    },
  );
}

export type AddressField = 'from' | 'to' | 'cc';

function firstAddress(value: string): Address | undefined {
  if (value === '') return undefined;
  return parseAddressList(Buffer.from(value, 'utf8'))?.[0];
}

/**
 * RFC 5256 §3 FROM/TO/CC: the addr-mailbox of the first address (a group's
 * name for a group), under i;ascii-casemap; `''` when there is none.
 */
export function firstMailboxes(keys: MessageKeys, field: AddressField): string[] {
  return column(keys, `mailbox:${field}`, (r) => {
    const v = r[field];
    if (typeof v !== 'string') return asciiCasemap(v.mailbox);
    const a = firstAddress(v);
    return a?.mailbox ? asciiCasemap(bytesToText(a.mailbox)) : '';
  });
}

/** `displayNames` of an address parsed already (text.ts `FirstAddress`: '' for what is absent). */
function displayOf(a: FirstAddress): string {
  if (a.name !== '') return asciiCasemap(a.name);
  if (a.mailbox === '') return '';
  return asciiCasemap(a.host !== '' ? `${a.mailbox}@${a.host}` : a.mailbox);
}

/**
 * RFC 5957 §3 display value of the first address, under i;ascii-casemap: its
 * display name with encoded words decoded when that is not empty, else
 * mailbox@host, else the mailbox, else `''`.
 */
export function displayNames(keys: MessageKeys, field: 'from' | 'to'): string[] {
  return column(keys, `display:${field}`, (r) => {
    const v = r[field];
    if (typeof v !== 'string') return displayOf(v);
    const a = firstAddress(v);
    if (a === undefined) return '';
    if (a.name !== null) {
      const name = decodeHeaderValue(a.name);
      if (name !== '') return asciiCasemap(name);
    }
    if (a.mailbox === null) return '';
    const mailbox = bytesToText(a.mailbox);
    return asciiCasemap(a.host !== null ? `${mailbox}@${bytesToText(a.host)}` : mailbox);
  });
}
