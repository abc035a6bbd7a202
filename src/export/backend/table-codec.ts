/**
 * A view's article table saved in the metadata LMDB, so that after a restart a
 * group opens at once (one GROUP for news since) instead of re-reading the
 * whole overview. Stored as raw typed-array bytes: 28 bytes per article.
 *
 * Format 4 (`encodeViewBytes`) is one binary value. Format 3 was a msgpack
 * record (`encodeView`, read by `decodeView` for views saved by earlier
 * versions): msgpackr encodes into one module-wide buffer that grows to the
 * largest value ever encoded and is never shrunk below 1 GB, so saving a
 * 1M-article view (28 MB) held ~40 MB for the life of the process (issue 14,
 * heap snapshot after a 1M listing).
 *
 * The decoders validate everything they read (lengths, ascending UIDs) and
 * answer undefined for anything unusable: the caller then ingests afresh.
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

/** Fixed part of format 4: format and carrier length (u32), count, uidValidity, high, low (f64); then the carrier, padded to 8 bytes. */
const HEAD = 40;
const FORMAT_BYTES = 4;

/** Format 4: one Buffer (see the file comment); numbers little-endian, then numbers, sizes, dates (f64) and UIDs (u32). */
export function encodeViewBytes(v: SavedView): Buffer {
  const t = v.table;
  const n = t.uids.length;
  const carrier = Buffer.from(v.carrier, 'utf8');
  const body = HEAD + Math.ceil(carrier.length / 8) * 8;
  const out = Buffer.alloc(body + n * 28);
  out.writeUInt32LE(FORMAT_BYTES, 0);
  out.writeUInt32LE(carrier.length, 4);
  out.writeDoubleLE(n, 8);
  out.writeDoubleLE(v.uidValidity, 16);
  out.writeDoubleLE(v.high, 24);
  out.writeDoubleLE(v.low, 32);
  carrier.copy(out, HEAD);
  let at = body;
  for (const a of [t.numbers, t.sizes, t.dates, t.uids]) at += bytesOf(a).copy(out, at);
  return out;
}

/** Reads format 4 (a value of `encodeViewBytes`); the arrays are copies (`b` may be a reused read buffer). */
export function decodeViewBytes(b: Uint8Array | undefined): SavedView | undefined {
  if (b === undefined || b.byteLength < HEAD) return undefined;
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (buf.readUInt32LE(0) !== FORMAT_BYTES) return undefined;
  const clen = buf.readUInt32LE(4);
  const n = buf.readDoubleLE(8);
  const body = HEAD + Math.ceil(clen / 8) * 8;
  if (!Number.isSafeInteger(n) || n < 0 || buf.byteLength !== body + n * 28) return undefined;
  const part = (from: number, bytes: number): Buffer => buf.subarray(from, from + bytes);
  return checked(
    buf.readDoubleLE(16), buf.toString('utf8', HEAD, HEAD + clen), buf.readDoubleLE(24), buf.readDoubleLE(32),
    u32(part(body + n * 24, n * 4), n), f64(part(body, n * 8), n), f64(part(body + n * 8, n * 8), n), f64(part(body + n * 16, n * 8), n),
  );
}

/** Format 3, as earlier versions saved it (a msgpack record); read so that their views need no new ingest. */
export function decodeView(rec: unknown): SavedView | undefined {
  if (!Array.isArray(rec) || rec.length !== 9 || rec[0] !== FORMAT) return undefined;
  const [, uidValidity, carrier, high, low, ub] = rec as unknown[];
  if (typeof uidValidity !== 'number' || typeof carrier !== 'string' || typeof high !== 'number' || typeof low !== 'number') return undefined;
  if (!(ub instanceof Uint8Array) || ub.byteLength % 4 !== 0) return undefined;
  const n = ub.byteLength / 4;
  return checked(uidValidity, carrier, high, low, u32(ub, n), f64(rec[6], n), f64(rec[7], n), f64(rec[8], n));
}

function checked(
  uidValidity: number, carrier: string, high: number, low: number,
  uids: Uint32Array | undefined, numbers: Float64Array | undefined, sizes: Float64Array | undefined, dates: Float64Array | undefined,
): SavedView | undefined {
  if (uids === undefined || numbers === undefined || sizes === undefined || dates === undefined) return undefined;
  const n = uids.length;
  for (let i = 1; i < n; i++) if (uids[i]! <= uids[i - 1]!) return undefined;
  if (n > 0 && uids[0] === 0) return undefined;
  return { uidValidity, carrier, high, low, table: { uids, numbers, sizes, dates } };
}
