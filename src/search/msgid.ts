/**
 * Message-IDs for THREAD=REFERENCES and THREAD=REFS (RFC 5256 §3 step 1):
 * parsed from Message-ID, References and In-Reply-To, normalized, and interned
 * as small integers once per group.
 *
 * A msg-id is `<…>` holding an '@'. Normalization (RFC 5256: `<"01KF8J"@x.y>`
 * and `<01KF8J@x.y>` are the same id) drops quotes, backslash escapes and folding
 * white space inside the brackets. Text outside the brackets (comments, the
 * phrases old mailers put in In-Reply-To) is ignored.
 */
import { THREAD_IDS, type MessageKeys } from './keys.js';

/** True for the characters that make an id need normalizing. */
const UNUSUAL = /["\\\s]/;

function normalize(inner: string): string {
  if (!UNUSUAL.test(inner)) return inner;
  let out = '';
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    if (c === '\\' && i + 1 < inner.length) out += inner[++i];
    else if (c !== '"' && c !== ' ' && c !== '\t' && c !== '\r' && c !== '\n') out += c;
  }
  return out;
}

/** Index of the '>' closing an id opened at `open`, skipping quoted text; -1 when unclosed. */
function closeOfQuoted(value: string, open: number): number {
  let inQuote = false;
  for (let i = open + 1; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22) inQuote = !inQuote;
    else if (c === 0x3e && !inQuote) return i;
  }
  return -1;
}

/**
 * Reads the msg-ids of one header value after another: `reset(value)`, then
 * `next()` until it gives null. One scanner serves a whole group (no allocation
 * per header beyond the ids themselves).
 */
export class MsgIdScanner {
  private value = '';
  private p = 0;
  /** The value holds a '"': ids may be quoted (rare; the slow path). */
  private quoted = false;

  reset(value: string): this {
    this.value = value;
    this.p = 0;
    this.quoted = value.includes('"');
    return this;
  }

  /** The next valid msg-id, normalized; null when there is none left. */
  next(): string | null {
    const value = this.value;
    for (;;) {
      let open = value.indexOf('<', this.p);
      if (open < 0) return null;
      const close = this.quoted ? closeOfQuoted(value, open) : value.indexOf('>', open + 1);
      if (close < 0) return null;
      this.p = close + 1;
      // "<<a@b>": the innermost '<' opens the id
      if (!this.quoted) {
        const inner = value.lastIndexOf('<', close);
        if (inner > open) open = inner;
      }
      const at = value.indexOf('@', open);
      if (at < 0) return null;
      if (at > close || close - open < 4) continue;
      const id = normalize(value.slice(open + 1, close));
      if (id.length > 2 && id.includes('@')) return id;
    }
  }
}

/** The ids of a group: interned Message-IDs and parents per record. */
export interface ThreadIds {
  upTo: number;
  /** Id number of each distinct msg-id seen. */
  table: Map<string, number>;
  /** Per record: its Message-ID's number, -1 when it has no valid one. */
  own: Int32Array;
  /**
   * Per record: its references (References, else the first id of In-Reply-To),
   * oldest first, as id numbers: `refs[refStart[i] … refStart[i+1]-1]`.
   */
  refStart: Uint32Array;
  refs: Int32Array;
  /** Filled length of `refs`. */
  refCount: number;
}

function grow<T extends Int32Array | Uint32Array>(a: T, need: number, make: (n: number) => T): T {
  if (need <= a.length) return a;
  const b = make(Math.max(need, a.length * 2, 16));
  b.set(a);
  return b;
}

/** The group's thread ids, parsed once per record. */
export function threadIds(keys: MessageKeys): ThreadIds {
  return keys.extending<ThreadIds>(
    THREAD_IDS,
    () => ({ upTo: 0, table: new Map(), own: new Int32Array(0), refStart: new Uint32Array(1), refs: new Int32Array(0), refCount: 0 }),
    (t, from, to) => {
      const { table } = t;
      const scan = new MsgIdScanner();
      const intern = (id: string): number => {
        let v = table.get(id);
        if (v === undefined) {
          v = table.size;
          table.set(id, v);
        }
        return v;
      };
      t.own = grow(t.own, to, (n) => new Int32Array(n));
      t.refStart = grow(t.refStart, to + 1, (n) => new Uint32Array(n));
      const records = keys.records;
      for (let i = from; i < to; i++) {
        const r = records[i]!;
        const own = scan.reset(r.messageId).next();
        t.own[i] = own === null ? -1 : intern(own);
        const before = t.refCount;
        scan.reset(r.references);
        for (let id = scan.next(); id !== null; id = scan.next()) {
          if (t.refCount === t.refs.length) t.refs = grow(t.refs, t.refCount + 1, (n) => new Int32Array(n));
          t.refs[t.refCount++] = intern(id);
        }
        if (t.refCount === before) {
          const parent = scan.reset(r.inReplyTo).next();
          if (parent !== null) {
            if (t.refCount === t.refs.length) t.refs = grow(t.refs, t.refCount + 1, (n) => new Int32Array(n));
            t.refs[t.refCount++] = intern(parent);
          }
        }
        t.refStart[i + 1] = t.refCount;
      }
    },
  );
}

/** True when `value` holds a valid msg-id (a References value that does, makes In-Reply-To irrelevant to THREAD). */
export function hasMsgId(value: string): boolean {
  return new MsgIdScanner().reset(value).next() !== null;
}
