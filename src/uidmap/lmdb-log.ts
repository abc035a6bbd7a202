/**
 * The assignment log of the LMDB UID map (lmdb.ts, format 2): one LMDB value
 * per `assign` batch holding every entry the batch inserted, so a batch is
 * durable after one put instead of two per article. The log is folded into
 * the per-article sub-databases (`byMsgid`, `byUid`) later, one record per
 * transaction, once the map has been quiet a moment (issue 14: a first
 * SELECT of a 100k group waited ~0.8 s for 200k puts).
 *
 * A record (key [mailboxId, first UID]) is written once and deleted once,
 * when folded; its UIDs are ascending and above every UID of the records
 * before it (UIDs are assigned ascending), and none of them is in `byUid`
 * while it exists.
 *
 * Encoding (little-endian): byte 1 (version), u32 entries, u16 locations,
 * then each location as two strings (upstream, group), then each entry as
 * u32 UID, u16 location index, f64 article number, string Message-ID; a
 * string is u16 UTF-8 byte length + bytes (every name is bounded well below
 * 64 KiB: limits.ts).
 *
 * `LogIndex` finds a Message-ID among the records without keeping their
 * strings: a table of (32-bit hash, UID) pairs (id-hashes.ts), filled from
 * records as they are first looked in; a hit is confirmed in its record.
 */
import { UidMapError } from './errors.js';
import { IdTable, idHash } from './id-hashes.js';
import type { UidEntry } from './types.js';

const VERSION = 1;

/** Encodes a batch's inserted entries (ascending UIDs, at least one). */
export function encodeLog(entries: readonly UidEntry[]): Buffer {
  const locs = new Map<string, number>();
  const locList: [string, string][] = [];
  const locOf = new Uint16Array(entries.length);
  let size = 1 + 4 + 2;
  let lastUpstream: string | undefined;
  let lastGroup: string | undefined;
  let last = -1;
  for (let i = 0; i < entries.length; i++) {
    const l = entries[i]!.location;
    if (l.upstream === lastUpstream && l.group === lastGroup) {
      locOf[i] = last; // a batch names one location as a rule: no key made per entry
      size += 4 + 2 + 8 + 2 + 3 * entries[i]!.messageId.length;
      continue;
    }
    const k = `${l.upstream}\0${l.group}`;
    let x = locs.get(k);
    if (x === undefined) {
      x = locList.length;
      locs.set(k, x);
      locList.push([l.upstream, l.group]);
      size += 4 + 3 * (l.upstream.length + l.group.length);
    }
    locOf[i] = x;
    lastUpstream = l.upstream;
    lastGroup = l.group;
    last = x;
    size += 4 + 2 + 8 + 2 + 3 * entries[i]!.messageId.length;
  }
  if (locList.length > 0xffff) throw new UidMapError('INVALID_INPUT', 'too many locations in one batch');
  const b = Buffer.allocUnsafe(size);
  let p = 0;
  const str = (s: string): void => {
    const n = b.write(s, p + 2, 'utf8');
    b.writeUInt16LE(n, p);
    p += 2 + n;
  };
  b[p++] = VERSION;
  b.writeUInt32LE(entries.length, p);
  p += 4;
  b.writeUInt16LE(locList.length, p);
  p += 2;
  for (const [u, g] of locList) {
    str(u);
    str(g);
  }
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    b.writeUInt32LE(e.uid, p);
    b.writeUInt16LE(locOf[i]!, p + 4);
    b.writeDoubleLE(e.location.number, p + 6);
    p += 14;
    str(e.messageId);
  }
  return b.subarray(0, p);
}

/**
 * The entry of `uid` in an encoded record, read without decoding the others
 * (their Message-IDs are skipped, not made into strings), or undefined.
 */
export function readLogEntry(b: Uint8Array, uid: number): UidEntry | undefined {
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (buf[0] !== VERSION) throw new UidMapError('STORAGE', `UID map log record has version ${buf[0]}`);
  const n = buf.readUInt32LE(1);
  const nl = buf.readUInt16LE(5);
  let p = 7;
  const locStart = p;
  for (let i = 0; i < 2 * nl; i++) p += 2 + buf.readUInt16LE(p);
  for (let i = 0; i < n; i++) {
    const u = buf.readUInt32LE(p);
    const len = buf.readUInt16LE(p + 14);
    if (u === uid) {
      let q = locStart;
      const str = (): string => {
        const l = buf.readUInt16LE(q);
        const s = buf.toString('utf8', q + 2, q + 2 + l);
        q += 2 + l;
        return s;
      };
      const loc = buf.readUInt16LE(p + 4);
      for (let k = 0; k < loc; k++) q += 4 + buf.readUInt16LE(q) + buf.readUInt16LE(q + 2 + buf.readUInt16LE(q));
      const upstream = str();
      const group = str();
      return { uid, messageId: buf.toString('utf8', p + 16, p + 16 + len), location: { upstream, group, number: buf.readDoubleLE(p + 6) } };
    }
    if (u > uid) return undefined;
    p += 16 + len;
  }
  return undefined;
}

/** A decoded record: entries by position (UIDs ascending). */
export class LogRecord {
  readonly uids: Uint32Array;
  private readonly numbers: Float64Array;
  private readonly locIdx: Uint16Array;
  readonly ids: string[];
  private readonly locs: [string, string][];

  constructor(b: Uint8Array) {
    const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    if (buf[0] !== VERSION) throw new UidMapError('STORAGE', `UID map log record has version ${buf[0]}`);
    let p = 1;
    const n = buf.readUInt32LE(p);
    const nl = buf.readUInt16LE(p + 4);
    p += 6;
    const str = (): string => {
      const len = buf.readUInt16LE(p);
      const s = buf.toString('utf8', p + 2, p + 2 + len);
      p += 2 + len;
      return s;
    };
    this.locs = [];
    for (let i = 0; i < nl; i++) this.locs.push([str(), str()]);
    this.uids = new Uint32Array(n);
    this.numbers = new Float64Array(n);
    this.locIdx = new Uint16Array(n);
    this.ids = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      this.uids[i] = buf.readUInt32LE(p);
      this.locIdx[i] = buf.readUInt16LE(p + 4);
      this.numbers[i] = buf.readDoubleLE(p + 6);
      p += 14;
      this.ids[i] = str();
    }
  }

  get length(): number {
    return this.uids.length;
  }

  /** Position of `uid`, or -1. */
  indexOf(uid: number): number {
    let lo = 0;
    let hi = this.uids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const u = this.uids[mid]!;
      if (u === uid) return mid;
      if (u < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  entry(i: number): UidEntry {
    const [upstream, group] = this.locs[this.locIdx[i]!]!;
    return { uid: this.uids[i]!, messageId: this.ids[i]!, location: { upstream, group, number: this.numbers[i]! } };
  }
}

/**
 * (hash of Message-ID, UID) pairs of the log records met so far (`covered`),
 * for `candidates`: the UIDs whose Message-ID may be the one asked for.
 */
export class LogIndex {
  private readonly table = new IdTable();
  /** First UIDs of the records whose entries are in the table. */
  readonly covered = new Set<number>();

  add(first: number, r: LogRecord): void {
    this.covered.add(first);
    for (let i = 0; i < r.length; i++) this.table.add(idHash(r.ids[i]!), r.uids[i]!);
  }

  /** The entries of a record written by this process (no need to decode it). */
  addEntries(first: number, entries: readonly UidEntry[]): void {
    this.covered.add(first);
    for (const e of entries) this.table.add(idHash(e.messageId), e.uid);
  }

  /** UIDs whose Message-ID hashes like `id`'s. */
  candidates(id: string): number[] {
    return this.table.candidates(idHash(id));
  }
}
