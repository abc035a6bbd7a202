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

const NO_ID = -1;
const SKIP = -2;

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
  /** The '<' of the id `nextBrackets` found last. */
  private open = 0;

  reset(value: string): this {
    this.value = value;
    this.p = 0;
    this.quoted = value.includes('"');
    return this;
  }

  /** The next valid msg-id, normalized; null when there is none left. */
  next(): string | null {
    for (;;) {
      const close = this.nextBrackets();
      if (close === NO_ID) return null;
      if (close === SKIP) continue;
      const id = normalize(this.value.slice(this.open + 1, close));
      if (id.length > 2 && id.includes('@')) return id;
    }
  }

  /** True when `next()` would give an id (nothing cut out unless the id needs normalizing). */
  hasNext(): boolean {
    for (;;) {
      const close = this.nextBrackets();
      if (close === NO_ID) return false;
      if (close === SKIP) continue;
      if (!this.quoted && isPlain(this.value, this.open + 1, close)) return true;
      const id = normalize(this.value.slice(this.open + 1, close));
      if (id.length > 2 && id.includes('@')) return true;
    }
  }

  /** `next()` as its number in `table` (interned when new); -1 when there is none left. */
  nextId(table: IdTable): number {
    for (;;) {
      const close = this.nextBrackets();
      if (close === NO_ID) return -1;
      if (close === SKIP) continue;
      if (!this.quoted) {
        // '<' … '@' … '>' spanning 3+ characters: valid as it stands unless normalizing changes it
        const n = table.intern(this.value, this.open + 1, close, true);
        if (n !== NOT_PLAIN) return n;
      }
      const id = normalize(this.value.slice(this.open + 1, close));
      if (id.length > 2 && id.includes('@')) return table.intern(id, 0, id.length, false);
    }
  }

  /** Where the id opened at `this.open` closes; NO_ID when none is left; SKIP for brackets holding no id. */
  private nextBrackets(): number {
    const value = this.value;
    let open = value.indexOf('<', this.p);
    if (open < 0) return NO_ID;
    const close = this.quoted ? closeOfQuoted(value, open) : value.indexOf('>', open + 1);
    if (close < 0) return NO_ID;
    this.p = close + 1;
    // "<<a@b>": the innermost '<' opens the id
    if (!this.quoted) {
      const inner = value.lastIndexOf('<', close);
      if (inner > open) open = inner;
    }
    this.open = open;
    const at = value.indexOf('@', open);
    if (at < 0) return NO_ID;
    if (at > close || close - open < 4) return SKIP;
    return close;
  }
}

/** `IdTable.intern` with `plain`: the text holds a character `normalize` changes. */
const NOT_PLAIN = -2;

/**
 * Distinct msg-ids as dense numbers 0 … size-1: open addressing over a hash
 * of the id's code units, so an id inside a header value is looked up
 * without being cut out as a string first (only a new id is).
 */
export class IdTable {
  size = 0;
  /** Per slot: the id there, -1 when empty; at most half full. */
  private slots = new Int32Array(1024).fill(-1);
  private hashes = new Int32Array(512);
  private texts: string[] = [];
  /** Per table, so ids made to collide (a poster's) do not collide in every table alike. */
  private readonly seed = (Math.random() * 0x1_0000_0000) | 0;

  /**
   * The number of `text[from…to)` as an id, a new one when it was not seen.
   * With `plain`: NOT_PLAIN (nothing interned) when the range holds a
   * backslash, a quote or folding white space (`normalize` would change it).
   */
  intern(text: string, from: number, to: number, plain: boolean): number {
    let h = this.seed ^ (to - from);
    for (let i = from; i < to; i++) {
      const c = text.charCodeAt(i);
      if (plain && (c === 0x5c || c === 0x22 || c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a)) return NOT_PLAIN;
      h = Math.imul(h ^ c, 0x01000193);
    }
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    const mask = this.slots.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const id = this.slots[slot]!;
      if (id === -1) return this.add(text.slice(from, to), h, slot);
      if (this.hashes[id] === h && sameText(this.texts[id]!, text, from, to)) return id;
    }
  }

  private add(text: string, h: number, slot: number): number {
    const id = this.size++;
    this.slots[slot] = id;
    if (id === this.hashes.length) {
      const more = new Int32Array(id * 2);
      more.set(this.hashes);
      this.hashes = more;
    }
    this.hashes[id] = h;
    this.texts.push(text);
    if (this.size * 2 > this.slots.length) this.rehash();
    return id;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let id = 0; id < this.size; id++) {
      let slot = this.hashes[id]! & mask;
      while (slots[slot] !== -1) slot = (slot + 1) & mask;
      slots[slot] = id;
    }
    this.slots = slots;
  }
}

function sameText(a: string, text: string, from: number, to: number): boolean {
  if (a.length !== to - from) return false;
  for (let i = 0; i < a.length; i++) if (a.charCodeAt(i) !== text.charCodeAt(from + i)) return false;
  return true;
}

/** The ids of a group: interned Message-IDs and parents per record. */
export interface ThreadIds {
  upTo: number;
  /** Id number of each distinct msg-id seen. */
  table: IdTable;
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
    () => ({ upTo: 0, table: new IdTable(), own: new Int32Array(0), refStart: new Uint32Array(1), refs: new Int32Array(0), refCount: 0 }),
    (t, from, to) => {
      const { table } = t;
      const scan = new MsgIdScanner();
      t.own = grow(t.own, to, (n) => new Int32Array(n));
      t.refStart = grow(t.refStart, to + 1, (n) => new Uint32Array(n));
      const records = keys.records;
      for (let i = from; i < to; i++) {
        const r = records[i]!;
        t.own[i] = scan.reset(r.messageId).nextId(table);
        const before = t.refCount;
        scan.reset(r.references);
        for (let id = scan.nextId(table); id !== -1; id = scan.nextId(table)) {
          if (t.refCount === t.refs.length) t.refs = grow(t.refs, t.refCount + 1, (n) => new Int32Array(n));
          t.refs[t.refCount++] = id;
        }
        if (t.refCount === before) {
          const parent = scan.reset(r.inReplyTo).nextId(table);
          if (parent !== -1) {
            if (t.refCount === t.refs.length) t.refs = grow(t.refs, t.refCount + 1, (n) => new Int32Array(n));
            t.refs[t.refCount++] = parent;
          }
        }
        t.refStart[i + 1] = t.refCount;
      }
    },
  );
}

/** True when `text[from…to)` holds nothing `normalize` changes. */
function isPlain(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c || c === 0x22 || c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) return false;
  }
  return true;
}

/** One scanner for `hasMsgId` (synchronous: no call can interleave). */
const probe = new MsgIdScanner();

/** True when `value` holds a valid msg-id (a References value that does, makes In-Reply-To irrelevant to THREAD). */
export function hasMsgId(value: string): boolean {
  return probe.reset(value).hasNext();
}
