/** Test records for SORT and THREAD: every header empty unless given; dates as RFC 5322 text or ms. */
import type { MessageRecord } from '../../src/search/index.js';

export interface Partial {
  uid: number;
  /** Date header text (parsed with its zone) or ms; absent: NaN (no usable Date header). */
  date?: string | number;
  arrival?: number;
  size?: number;
  subject?: string;
  from?: string;
  to?: string;
  cc?: string;
  id?: string;
  refs?: string;
  irt?: string;
}

export function rec(p: Partial): MessageRecord {
  const date = p.date === undefined ? NaN : typeof p.date === 'number' ? p.date : Date.parse(p.date);
  return {
    uid: p.uid,
    date,
    arrival: p.arrival ?? p.uid * 1000,
    size: p.size ?? 100,
    subject: p.subject ?? '',
    from: p.from ?? '',
    to: p.to ?? '',
    cc: p.cc ?? '',
    messageId: p.id ?? '',
    references: p.refs ?? '',
    inReplyTo: p.irt ?? '',
  };
}
