/**
 * What SEARCH, SORT and THREAD must answer, computed without the index:
 * - `scan`: the IMAP scan's test (src/imap/commands/search.ts: fold both
 *   sides, substring) on the whole article, per IndexTerm;
 * - `rawRecord`: a SORT/THREAD record from the header as HEAD gives it (raw
 *   values, nothing pre-parsed), with INTERNALDATE and RFC822.SIZE as FETCH
 *   reports them; `oracleSort` / `oracleThread` run the src/search
 *   algorithms on such records;
 * - `checkMatch`: an index answer against the scan (sound, complete up to
 *   `unknown`); `checkSearch` and `checkSortThread` run a handle's answers
 *   through these checks (the archive and INN backend tests share them).
 */
import { expect } from 'vitest';
import type { IndexMatch, IndexTerm, MailboxHandle, MessageMeta, SortCriterion, ThreadAlgorithm, ThreadForest, ThreadNode } from '../../../src/export/interface.js';
import { MessageKeys, bodyText, fold, sortOrder, threadMessages, unpackForest, type MessageRecord, type PackedForest } from '../../../src/search/index.js';
import { bytesToText, decodeHeaderValue, headerEnd, parseHeader } from '../../../src/mime/index.js';
import { parseDate } from '../../../src/export/backend/dates.js';

/** The scan's answer for one term on one article. */
export function scanTerm(article: Buffer, t: IndexTerm): boolean {
  const fields = parseHeader(article.subarray(0, headerEnd(article)));
  const n = fold(t.needle);
  const f = t.field;
  if (typeof f === 'object' || f === 'subject' || f === 'from' || f === 'to' || f === 'cc' || f === 'bcc') {
    const name = typeof f === 'object' ? f.header.toLowerCase() : f;
    const values = fields.filter((x) => x.lname === name).map((x) => decodeHeaderValue(x.value));
    if (n === '') return values.length > 0;
    return values.some((v) => fold(v).includes(n));
  }
  if (f === 'text' && fields.some((x) => fold(`${x.name}: ${decodeHeaderValue(x.value)}`).includes(n))) return true;
  return fold(bodyText(article)).includes(n);
}

export const scan = (article: Buffer, terms: readonly IndexTerm[]): boolean => terms.every((t) => scanTerm(article, t));

/**
 * Checks an index answer over `uids` against the scan of `articles` (by UID):
 * every reported UID matches, every match is reported or unknown, nothing both.
 * Returns the scan's matches.
 */
export function checkMatch(r: IndexMatch, uids: Uint32Array, articles: ReadonlyMap<number, Buffer>, terms: readonly IndexTerm[]): number[] {
  const got = new Set(r.uids);
  const unknown = new Set(r.unknown);
  const want: number[] = [];
  for (const uid of uids) {
    const a = articles.get(uid)!;
    const m = scan(a, terms);
    if (m) want.push(uid);
    const ctx = JSON.stringify({ uid, terms });
    if (got.has(uid)) expect(m, `index says match: ${ctx}`).toBe(true);
    if (m) expect(got.has(uid) || unknown.has(uid), `scan match not reported: ${ctx}`).toBe(true);
    expect(got.has(uid) && unknown.has(uid), ctx).toBe(false);
  }
  const within = new Set(uids);
  for (const u of [...got, ...unknown]) expect(within.has(u), `UID ${u} outside the asked-for UIDs`).toBe(true);
  return want;
}

/**
 * Each term list matched on the handle, checked against the scan of `articles`
 * (checkMatch) over all its UIDs and, with `subset`, over the UIDs it keeps.
 * Returns how many UIDs the answers over all UIDs left unknown.
 */
export async function checkSearch(
  h: MailboxHandle, articles: ReadonlyMap<number, Buffer>, termLists: readonly IndexTerm[][], subset?: (uid: number) => boolean,
): Promise<number> {
  const uids = h.current().uids;
  const some = subset && uids.filter(subset);
  let unknown = 0;
  for (const terms of termLists) {
    const r = await h.search!.match(terms);
    checkMatch(r, uids, articles, terms);
    unknown += r.unknown.length;
    if (some) checkMatch(await h.search!.match(terms, some), some, articles, terms);
  }
  return unknown;
}

/**
 * The handle's SORT (every SORTS entry) and THREAD (every algorithm) over all
 * its UIDs and over those `some` keeps, equal to the oracle's on HEAD records.
 * The handle answers first (THREAD first: keys without To/Cc come from the
 * index's overview columns where they can); the oracle's records are read
 * after, since reading every header for them feeds the index.
 */
export async function checkSortThread(h: MailboxHandle, some: (uid: number) => boolean): Promise<void> {
  const all = h.current().uids;
  const subset = all.filter(some);
  const got: { what: string; uids: Uint32Array; answer: unknown }[] = [];
  for (const alg of THREADS) {
    for (const uids of [all, subset]) got.push({ what: alg, uids, answer: plain(await h.search!.thread(alg, uids)) });
  }
  for (const criteria of SORTS) {
    for (const uids of [all, subset]) got.push({ what: JSON.stringify(criteria), uids, answer: [...(await h.search!.sort(criteria, uids))] });
  }
  const keys = await rawRecords(h);
  for (const g of got) {
    const want = g.what.startsWith('[') ? oracleSort(keys, JSON.parse(g.what) as SortCriterion[], g.uids) : plain(oracleThread(keys, g.what as ThreadAlgorithm, g.uids));
    expect(g.answer, `${g.what} over ${g.uids.length}`).toEqual(want);
  }
}

/** A SORT/THREAD record from a message's meta: raw header values, INTERNALDATE and RFC822.SIZE as FETCH gives them. */
export function rawRecord(m: MessageMeta): MessageRecord {
  const fields = parseHeader(m.header);
  const first = (name: string): string => {
    const f = fields.find((x) => x.lname === name);
    return f === undefined ? '' : bytesToText(f.value);
  };
  const date = fields.find((x) => x.lname === 'date');
  return {
    uid: m.uid,
    date: date === undefined ? NaN : parseDate(date.value.toString('latin1')),
    arrival: m.internalDate.getTime(),
    size: m.size,
    subject: first('subject'),
    from: first('from'),
    to: first('to'),
    cc: first('cc'),
    messageId: first('message-id').trim(),
    references: first('references').trim(),
    inReplyTo: first('in-reply-to').trim(),
  };
}

/** Raw records of every UID of the handle's snapshot (through `meta`: HEAD and exact sizes). */
export async function rawRecords(h: MailboxHandle): Promise<MessageKeys> {
  const out: MessageRecord[] = [];
  for await (const m of h.meta([...h.current().uids], { exactSize: true })) out.push(rawRecord(m));
  return new MessageKeys(out);
}

/** `uids` in SORT order by the algorithm on raw records. */
export function oracleSort(keys: MessageKeys, criteria: readonly SortCriterion[], uids: Uint32Array): number[] {
  const at = new Map<number, number>();
  keys.records.forEach((r, i) => at.set(r.uid, i));
  const subset = [...uids].map((u) => at.get(u)!);
  return [...sortOrder(keys, criteria, subset)].map((i) => keys.uid(i));
}

/** Threads of `uids` by the algorithm on raw records. */
export function oracleThread(keys: MessageKeys, algorithm: ThreadAlgorithm, uids: Uint32Array): readonly ThreadNode[] {
  const at = new Map<number, number>();
  keys.records.forEach((r, i) => at.set(r.uid, i));
  return threadMessages(keys, algorithm, [...uids].map((u) => at.get(u)!));
}

/** Plain nested arrays of a forest, nodes or packed (toEqual-friendly). */
export function plain(forest: ThreadForest): unknown[] {
  const nodes: readonly ThreadNode[] = Array.isArray(forest) ? forest : unpackForest(forest as PackedForest);
  return nodes.map((n) => [n.uid, plain(n.children)]);
}

export const SORTS: SortCriterion[][] = [
  [{ key: 'DATE' }],
  [{ key: 'ARRIVAL', reverse: true }],
  [{ key: 'SUBJECT' }],
  [{ key: 'SUBJECT' }, { key: 'DATE', reverse: true }],
  [{ key: 'FROM' }],
  [{ key: 'DISPLAYFROM' }],
  [{ key: 'SIZE' }],
  [{ key: 'SIZE', reverse: true }, { key: 'SUBJECT' }],
  // last: the keys then hold To and Cc, read from headers where the index has the overview only
  [{ key: 'TO' }, { key: 'CC' }],
  [{ key: 'DISPLAYTO', reverse: true }],
];

export const THREADS: ThreadAlgorithm[] = ['ORDEREDSUBJECT', 'REFERENCES', 'REFS'];

/** Needles drawn from the articles themselves: words of subjects, senders, bodies; phrases; short and missing ones. */
export function needles(articles: readonly Buffer[]): IndexTerm[][] {
  const pick = <T>(xs: readonly T[], i: number): T => xs[(i * 7919) % xs.length]!;
  const subjects: string[] = [];
  const froms: string[] = [];
  const bodies: string[] = [];
  for (const a of articles) {
    const f = parseHeader(a.subarray(0, headerEnd(a)));
    const v = (n: string) => decodeHeaderValue(f.find((x) => x.lname === n)?.value ?? Buffer.alloc(0));
    subjects.push(v('subject'));
    froms.push(v('from'));
    bodies.push(bodyText(a));
  }
  const words = (s: string): string[] => s.split(/\s+/).filter((w) => w.length >= 3);
  const out: IndexTerm[][] = [];
  for (let i = 0; i < 6; i++) {
    const sw = words(pick(subjects, i));
    const bw = words(pick(bodies, i + 3));
    if (sw.length > 0) out.push([{ field: 'subject', needle: pick(sw, i).toUpperCase() }]);
    if (sw.length > 1) out.push([{ field: 'subject', needle: sw.slice(0, 2).join(' ') }]);
    if (bw.length > 0) out.push([{ field: 'body', needle: pick(bw, i) }]);
    if (bw.length > 2) out.push([{ field: 'text', needle: bw.slice(1, 3).join(' ') }]);
    const fw = words(pick(froms, i));
    if (fw.length > 0) out.push([{ field: 'from', needle: pick(fw, i).slice(0, 5) }]);
    if (sw.length > 0 && bw.length > 0) out.push([{ field: 'subject', needle: pick(sw, i + 1) }, { field: 'body', needle: pick(bw, i + 1) }]);
  }
  out.push(
    [{ field: 'body', needle: 'a' }],
    [{ field: 'subject', needle: 're' }],
    [{ field: 'to', needle: 'example' }],
    [{ field: 'cc', needle: '' }],
    [{ field: 'bcc', needle: 'x' }],
    [{ field: { header: 'newsgroups' }, needle: 's.two' }],
    [{ field: { header: 'message-id' }, needle: '@' }],
    [{ field: 'text', needle: 'no such words here' }],
    [{ field: 'body', needle: 'zzqqxx' }],
  );
  return out;
}
