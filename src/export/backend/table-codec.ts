/**
 * A view's article table saved in the metadata LMDB, so that after a restart a
 * group opens at once (one GROUP for news since) instead of re-reading the
 * whole overview. Stored as raw typed-array bytes (msgpack keeps Buffers
 * binary): 28 bytes per article.
 *
 * `decodeTable` validates everything it reads (lengths, ascending UIDs) and
 * answers undefined for anything unusable: the caller then ingests afresh.
 */
import type { ArticleTable } from './table.js';

export interface SavedView {
  uidValidity: number;
  /** Id of the source whose article numbers the table holds. */
  carrier: string;
  /** Highest article number ingested. */
  high: number;
  /** Upstream low at the last look. */
  low: number;
  table: ArticleTable;
}

/**
 * Format 3: tables saved by format 2 could hold an archive mailbox whose duplicate articles had
 * collapsed into one row (issue 12 item 1); they are read afresh once (UIDs stay: the UID map keeps them).
 */
const FORMAT = 3;

/** [format, uidValidity, carrier, high, low, uids, numbers, sizes, dates] */
export type SavedViewRecord = [typeof FORMAT, number, string, number, number, Buffer, Buffer, Buffer, Buffer];

const bytesOf = (a: Uint32Array | Float64Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

export function encodeView(v: SavedView): SavedViewRecord {
  const t = v.table;
  return [FORMAT, v.uidValidity, v.carrier, v.high, v.low, bytesOf(t.uids), bytesOf(t.numbers), bytesOf(t.sizes), bytesOf(t.dates)];
}

function u32(b: unknown, n: number): Uint32Array | undefined {
  if (!(b instanceof Uint8Array) || b.byteLength !== n * 4) return undefined;
  const out = new Uint32Array(n);
  new Uint8Array(out.buffer).set(b);
  return out;
}

function f64(b: unknown, n: number): Float64Array | undefined {
  if (!(b instanceof Uint8Array) || b.byteLength !== n * 8) return undefined;
  const out = new Float64Array(n);
  new Uint8Array(out.buffer).set(b);
  return out;
}

export function decodeView(rec: unknown): SavedView | undefined {
  if (!Array.isArray(rec) || rec.length !== 9 || rec[0] !== FORMAT) return undefined;
  const [, uidValidity, carrier, high, low, ub] = rec as unknown[];
  if (typeof uidValidity !== 'number' || typeof carrier !== 'string' || typeof high !== 'number' || typeof low !== 'number') return undefined;
  if (!(ub instanceof Uint8Array) || ub.byteLength % 4 !== 0) return undefined;
  const n = ub.byteLength / 4;
  const uids = u32(ub, n);
  const numbers = f64(rec[6], n);
  const sizes = f64(rec[7], n);
  const dates = f64(rec[8], n);
  if (uids === undefined || numbers === undefined || sizes === undefined || dates === undefined) return undefined;
  for (let i = 1; i < n; i++) if (uids[i]! <= uids[i - 1]!) return undefined;
  if (n > 0 && uids[0] === 0) return undefined;
  return { uidValidity, carrier, high, low, table: { uids, numbers, sizes, dates } };
}
