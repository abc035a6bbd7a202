/**
 * SORT orders (RFC 5256 §3; DISPLAYFROM/DISPLAYTO from RFC 5957):
 *
 *   C: a1 UID SORT (REVERSE DATE SUBJECT) UTF-8 ALL
 *   S: * SORT 5 3 4 1 2
 *
 * Each criterion's key becomes a column of dense ranks, computed once per group
 * and kept in its `MessageKeys`; an order is then one stable counting-sort pass
 * per criterion (last criterion first), starting from mailbox order, so messages
 * equal under every criterion stay in mailbox order, REVERSE or not. The full
 * order of a criteria list is kept too: a repeated SORT filters it. Arriving
 * messages are ranked into the kept columns and merged into the kept orders
 * (no re-sort of the group).
 *
 * Keys: ARRIVAL = INTERNALDATE; DATE = sent date (Date header in UTC, else
 * INTERNALDATE); SIZE = RFC822.SIZE; SUBJECT = base subject (RFC 5256 §2.1);
 * FROM, TO, CC = addr-mailbox of the first address; DISPLAYFROM, DISPLAYTO =
 * display name of the first address, else its address. Strings compare under
 * i;ascii-casemap; a missing header is the empty string.
 */
import { countingSort, extendRanks, rankNumbers, rankStrings, type OpenRanks, type Ranks } from './collate.js';
import { arrivals, displayNames, firstMailboxes, sentDates, sizes, subjects } from './columns.js';
import type { Extending, MessageKeys } from './keys.js';

export type SortKey = 'ARRIVAL' | 'CC' | 'DATE' | 'FROM' | 'SIZE' | 'SUBJECT' | 'TO' | 'DISPLAYFROM' | 'DISPLAYTO';

export const SORT_KEYS: readonly SortKey[] = ['ARRIVAL', 'CC', 'DATE', 'FROM', 'SIZE', 'SUBJECT', 'TO', 'DISPLAYFROM', 'DISPLAYTO'];

/** One sort criterion: a key, descending when `reverse` (the REVERSE prefix). */
export interface SortCriterion {
  key: SortKey;
  reverse?: boolean;
}

/** Each record's key value for `key` (numbers or folded strings), kept per record in `keys`. */
function keyValues(keys: MessageKeys, key: SortKey): readonly number[] | readonly string[] {
  switch (key) {
    case 'ARRIVAL':
      return arrivals(keys);
    case 'DATE':
      return sentDates(keys);
    case 'SIZE':
      return sizes(keys);
    case 'SUBJECT':
      return subjects(keys).keys;
    case 'FROM':
      return firstMailboxes(keys, 'from');
    case 'TO':
      return firstMailboxes(keys, 'to');
    case 'CC':
      return firstMailboxes(keys, 'cc');
    case 'DISPLAYFROM':
      return displayNames(keys, 'from');
    case 'DISPLAYTO':
      return displayNames(keys, 'to');
  }
}

const NUMERIC = new Set<SortKey>(['ARRIVAL', 'DATE', 'SIZE']);

interface KeptRanks extends Extending {
  ranks: OpenRanks<number> | OpenRanks<string>;
}

/**
 * The rank column of one key: computed on first use and kept; when records
 * are appended, the new ones are ranked into it (collate.ts `extendRanks`)
 * rather than every record ranked again.
 */
export function sortRanks(keys: MessageKeys, key: SortKey): Ranks {
  const none = (): KeptRanks => ({ upTo: 0, ranks: { ranks: new Uint32Array(0), count: 0, distinct: [] } });
  return keys.extending<KeptRanks>(`ranks:${key}`, none, (k, from, to) => {
    const values = keyValues(keys, key);
    if (from === 0) {
      k.ranks = NUMERIC.has(key) ? rankNumbers(values as readonly number[]) : rankStrings(values as readonly string[]);
    } else {
      k.ranks = extendRanks(k.ranks as OpenRanks<string | number>, values.slice(from, to)) as OpenRanks<string> | OpenRanks<number>;
    }
  }).ranks;
}

function orderOf(keys: MessageKeys, criteria: readonly SortCriterion[], start: Uint32Array): Uint32Array {
  let order = start;
  for (let c = criteria.length - 1; c >= 0; c--) {
    const { key, reverse = false } = criteria[c]!;
    order = countingSort(order, sortRanks(keys, key), reverse);
  }
  return order;
}

interface KeptOrder extends Extending {
  order: Uint32Array;
}

/**
 * The full order of `criteria` (record indices), kept: when records are
 * appended, the new ones are sorted among themselves and merged into it
 * (the old order stays sorted, since extended ranks keep the old keys'
 * order), so a SORT after new articles costs their number plus one pass.
 */
function fullOrder(keys: MessageKeys, criteria: readonly SortCriterion[], name: string): Uint32Array {
  return keys.extending<KeptOrder>(name, () => ({ upTo: 0, order: new Uint32Array(0) }), (k, from, to) => {
    const added = new Uint32Array(to - from);
    for (let i = 0; i < added.length; i++) added[i] = from + i;
    const sorted = orderOf(keys, criteria, added);
    if (from === 0) {
      k.order = sorted;
      return;
    }
    const cmp = sortComparator(keys, criteria);
    const old = k.order;
    const out = new Uint32Array(old.length + sorted.length);
    let a = 0;
    let b = 0;
    for (let w = 0; w < out.length; w++) {
      if (b >= sorted.length || (a < old.length && cmp(old[a]!, sorted[b]!) < 0)) out[w] = old[a++]!;
      else out[w] = sorted[b++]!;
    }
    k.order = out;
  }).order;
}

/** The record indices below `n` of `subset`, ascending, without duplicates. */
export function ascendingIndices(subset: ArrayLike<number>, n: number): Uint32Array {
  const a = Uint32Array.from(subset).sort();
  let w = 0;
  for (let r = 0; r < a.length; r++) if (a[r]! < n && (w === 0 || a[r] !== a[w - 1])) a[w++] = a[r]!;
  return a.subarray(0, w);
}

/**
 * Record indices of `keys` in SORT order for `criteria`; only the indices in
 * `subset` (the messages a SEARCH selected) when given. A fresh array each call.
 * Throws a RangeError for an empty criteria list (the grammar needs one).
 */
export function sortOrder(keys: MessageKeys, criteria: readonly SortCriterion[], subset?: ArrayLike<number>): Uint32Array {
  if (criteria.length === 0) throw new RangeError('SORT needs at least one criterion');
  const n = keys.length;
  const name = `order:${criteria.map((c) => (c.reverse ? '-' : '') + c.key).join(' ')}`;
  const part = subset === undefined ? undefined : ascendingIndices(subset, n);
  // a small subset is cheaper sorted alone than filtered out of the full order
  if (part !== undefined && part.length * 4 < n && !keys.holds(name)) return orderOf(keys, criteria, part);
  const full = fullOrder(keys, criteria, name);
  if (part === undefined) return full.slice();
  const wanted = new Uint8Array(n);
  for (let k = 0; k < part.length; k++) wanted[part[k]!] = 1;
  const out = new Uint32Array(part.length);
  let w = 0;
  for (let k = 0; k < n; k++) if (wanted[full[k]!] === 1) out[w++] = full[k]!;
  return out.subarray(0, w);
}

/**
 * A comparator of record indices for `criteria` (negative when `a` sorts first),
 * ending in mailbox order; `sortOrder` agrees with it.
 */
export function sortComparator(keys: MessageKeys, criteria: readonly SortCriterion[]): (a: number, b: number) => number {
  const columns = criteria.map((c) => ({ ranks: sortRanks(keys, c.key).ranks, sign: c.reverse ? -1 : 1 }));
  return (a, b) => {
    for (const { ranks, sign } of columns) {
      const d = ranks[a]! - ranks[b]!;
      if (d !== 0) return d * sign;
    }
    return a - b;
  };
}
