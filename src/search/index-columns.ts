/**
 * The columns SORT and THREAD (RFC 5256, RFC 5957 DISPLAY) read, straight
 * from `docs`: one row of `group_concat`s, because a row per member through
 * the driver costs more (10k members, every column: 39 → 26 ms CPU; at 100k,
 * SORT DATE's columns ~60 ms, THREAD's ~160 ms, every column ~300 ms CPU).
 * A SORT layer that keeps a mailbox's columns asks `changesSince` and reads
 * only the new tail.
 */
import { HeaderFlags, type Db } from './db.js';

/**
 * Groups of SORT/THREAD columns (RFC 5256 keys; `from`/`to`/`cc` give
 * mailbox, host and display name; `state` says how far the others are exact).
 */
export type SortField = 'date' | 'arrival' | 'size' | 'subject' | 'from' | 'to' | 'cc' | 'messageId' | 'references' | 'inReplyTo' | 'state';

/** Values of `SortColumns.state`. */
export const COLUMNS_EXACT = 0;
/** From the overview: date, subject, from, messageId and references exact; to, cc and inReplyTo unknown (''). */
export const COLUMNS_OVERVIEW = 1;
/** Not exact (a value the columns cannot carry, or an overview value that may differ): read the header. */
export const COLUMNS_INEXACT = 2;
/** As COLUMNS_OVERVIEW, with In-Reply-To known (IndexWriter.setInReplyTo). */
export const COLUMNS_OVERVIEW_IRT = 3;

/**
 * What SORT and THREAD read, one entry per member in ascending UID order;
 * only the asked-for fields are present. Strings have C0 controls turned into
 * spaces at index time (sort keys, not display).
 */
export interface SortColumns {
  uids: Uint32Array;
  /** Date header, ms since the epoch; NaN when absent or unparseable. */
  date?: Float64Array;
  /** INTERNALDATE, ms since the epoch. */
  arrival?: Float64Array;
  size?: Float64Array;
  /** First Subject, encoded words decoded, not folded ('' when absent). */
  subject?: string[];
  /** First address of From/To/Cc: addr-mailbox, addr-host, decoded display name ('' when absent). */
  fromMailbox?: string[];
  fromHost?: string[];
  fromName?: string[];
  toMailbox?: string[];
  toHost?: string[];
  toName?: string[];
  ccMailbox?: string[];
  ccHost?: string[];
  ccName?: string[];
  /** Message-ID, References, In-Reply-To as written ('' when absent). */
  messageId?: string[];
  references?: string[];
  inReplyTo?: string[];
  /** COLUMNS_EXACT, COLUMNS_OVERVIEW, COLUMNS_OVERVIEW_IRT or COLUMNS_INEXACT per member. */
  state?: Float64Array;
}

type NumberColumn = 'date' | 'arrival' | 'size' | 'state';
type StringColumn = Exclude<keyof SortColumns, NumberColumn | 'uids'>;

const SORT_SQL: Record<SortField, readonly (readonly [NumberColumn | StringColumn, string])[]> = {
  date: [['date', 'd.date_ms']],
  arrival: [['arrival', 'd.arrival_ms']],
  size: [['size', 'd.size']],
  subject: [['subject', 'd.subject']],
  from: [['fromMailbox', 'd.from_mailbox'], ['fromHost', 'd.from_host'], ['fromName', 'd.from_name']],
  to: [['toMailbox', 'd.to_mailbox'], ['toHost', 'd.to_host'], ['toName', 'd.to_name']],
  cc: [['ccMailbox', 'd.cc_mailbox'], ['ccHost', 'd.cc_host'], ['ccName', 'd.cc_name']],
  // the header's Message-ID (the document's key may be the caller's identity, db.ts v2)
  messageId: [['messageId', 'd.hdr_msgid']],
  references: [['references', 'd.refs']],
  inReplyTo: [['inReplyTo', 'd.in_reply_to']],
  state: [
    [
      'state',
      `CASE WHEN d.hdr_flags & ${HeaderFlags.SortInexact} <> 0 THEN ${COLUMNS_INEXACT}
         WHEN d.hdr_flags & ${HeaderFlags.Partial} = 0 THEN ${COLUMNS_EXACT}
         WHEN d.hdr_flags & ${HeaderFlags.InReplyToKnown} <> 0 THEN ${COLUMNS_OVERVIEW_IRT} ELSE ${COLUMNS_OVERVIEW} END`,
    ],
  ],
};

const isNumber = (name: string): name is NumberColumn => name === 'date' || name === 'arrival' || name === 'size' || name === 'state';

/** Separates values in one group_concat (never in a stored sort string, see doc-row.ts `sortText`). */
const SEP_BYTE = 0x01;

/**
 * A `group_concat` of `n` strings read as a BLOB, split at SEP_BYTE into strings of
 * their own. (Read as one string and split, each value ≥ 13 characters was a
 * V8 slice pinning the whole concatenation: ~10 MB per 100k-article group held
 * by the SORT/THREAD keys, issue 14; decoding the pieces costs what decoding
 * the whole string did.)
 */
function stringList(b: Uint8Array | null, n: number): string[] {
  // filled by push: `new Array(n)` beyond ~100k elements would make a slow dictionary array
  const out: string[] = [];
  const buf = b === null ? Buffer.alloc(0) : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  let at = 0;
  for (let i = 0; i < n; i++) {
    let end = at > buf.length ? at : buf.indexOf(SEP_BYTE, at);
    if (end < 0) end = buf.length;
    out.push(end > at ? buf.toString('utf8', at, end) : '');
    at = end + 1;
  }
  return out;
}

/** `group_concat` of integers (NULL as '') into a Float64Array (NaN for NULL). */
function numberList(s: string | null, n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 0) return out;
  const parts = s!.split(',');
  for (let i = 0; i < n; i++) out[i] = parts[i] === '' ? NaN : Number(parts[i]);
  return out;
}

const EMPTY = new Uint32Array(0);

/** `c` with every column permuted into ascending UID order. */
function sortedByUid(c: SortColumns, names: readonly string[]): SortColumns {
  const order = Array.from(c.uids.keys()).sort((a, b) => c.uids[a]! - c.uids[b]!);
  const src = c as unknown as Record<string, ArrayLike<unknown>>;
  const out: Record<string, unknown> = { uids: Uint32Array.from(order, (k) => c.uids[k]!) };
  for (const name of names) {
    const col = src[name]!;
    out[name] = col instanceof Float64Array ? Float64Array.from(order, (k) => col[k]!) : order.map((k) => col[k]);
  }
  return out as unknown as SortColumns;
}

/**
 * The asked-for columns of mailbox generation `mbid` (undefined: nothing
 * indexed) for members with UID > `sinceUid`, ascending UID. `stmt` prepares
 * (and may cache) a raw-mode statement.
 */
export function readSortColumns(
  stmt: (sql: string) => ReturnType<Db['prepare']>,
  mbid: number | undefined,
  fields: readonly SortField[],
  sinceUid: number,
): SortColumns {
  const cols = [...new Set(fields)].flatMap((f) => SORT_SQL[f]);
  if (mbid === undefined) {
    const none: SortColumns = { uids: EMPTY };
    for (const [name] of cols) (none as unknown as Record<string, unknown>)[name] = isNumber(name) ? new Float64Array(0) : [];
    return none;
  }
  // One row of columns, each a group_concat in UID order: far cheaper than a row per member through the driver.
  const select = ['count(*)', "group_concat(m.uid, ',')"];
  for (const [name, expr] of cols) {
    select.push(isNumber(name) ? `group_concat(coalesce(${expr}, ''), ',')` : `CAST(group_concat(${expr}, char(1)) AS BLOB)`);
  }
  const row = stmt(
    `SELECT ${select.join(', ')} FROM (SELECT uid, docid FROM members WHERE mbid = ? AND uid > ? ORDER BY uid) m JOIN docs d ON d.docid = m.docid`,
  ).get([mbid, sinceUid]) as [number, ...(string | Uint8Array | null)[]];
  const n = row[0];
  const out: SortColumns = { uids: new Uint32Array(numberList(row[1] as string, n)) };
  const rec = out as unknown as Record<string, unknown>;
  cols.forEach(([name], i) => {
    const v = row[i + 2]!;
    rec[name] = isNumber(name) ? numberList(v as string | null, n) : stringList(v as Uint8Array | null, n);
  });
  // Every group_concat saw the rows in one order, the members' (mbid, uid) order as planned;
  // SQLite does not promise it, so a different plan is put right here.
  for (let i = 1; i < n; i++) {
    if (out.uids[i - 1]! > out.uids[i]!) return sortedByUid(out, cols.map(([name]) => name));
  }
  return out;
}
