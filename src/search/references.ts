/**
 * THREAD=REFERENCES (RFC 5256 §3, after Jamie Zawinski's algorithm) and
 * THREAD=REFS (draft-ietf-morg-inthread; as Dovecot implements it: the same
 * steps without gathering by subject, threads ordered by their latest message).
 *
 * Containers are integers: one per interned msg-id of the group (a dummy until
 * a message claims it), then one fresh id per message without a usable
 * Message-ID (none, or a duplicate of an earlier message's). Step by step:
 *
 *  (1) per message in mailbox order: link its references first→last as parent
 *      →child where the child has no parent yet (1A), then make the last
 *      reference its parent, dropping any parent set earlier (1B); no link that
 *      would close a loop;
 *  (2, 3) roots are the parentless containers; a message hangs under its
 *      nearest ancestor that is a message, else under the topmost dummy; a dummy
 *      root left with one child gives way to it, with none it disappears;
 *  (4) roots ordered by sent date (a dummy by its first child's);
 *  (5) REFERENCES only: roots with the same base subject gathered (5.B table,
 *      5.C merge rules);
 *  (6) siblings ordered by sent date.
 * "Sent date" orders are the SORT (DATE) order: ties go by mailbox order.
 * Iterative throughout: a reply chain thousands deep does not grow the stack.
 */
import { subjects } from './columns.js';
import type { MessageKeys } from './keys.js';
import { threadIds } from './msgid.js';
import { sortOrder } from './sort.js';
import { NO_CHILDREN, type NodeInBuild, type ThreadNode } from './thread-node.js';

const NONE = -1;

/** Threads of the records `part` (ascending record indices) by References. */
export function threadByReferences(keys: MessageKeys, part: Uint32Array, gatherSubjects: boolean): ThreadNode[] {
  const ids = threadIds(keys);
  const m = part.length;
  const idCount = ids.table.size;
  const size = idCount + m;
  const parent = new Int32Array(size).fill(NONE);
  const msg = new Int32Array(size).fill(NONE);
  const childCount = new Int32Array(size);
  const containerOf = new Int32Array(keys.length).fill(NONE);
  let fresh = idCount;

  const wouldLoop = (p: number, c: number): boolean => {
    if (p === c) return true;
    if (childCount[c] === 0) return false;
    for (let x = parent[p]!; x !== NONE; x = parent[x]!) if (x === c) return true;
    return false;
  };
  const link = (p: number, c: number): void => {
    parent[c] = p;
    childCount[p]!++;
  };

  // (1)
  for (let k = 0; k < m; k++) {
    const i = part[k]!;
    const own = ids.own[i]!;
    const c = own !== NONE && msg[own] === NONE ? own : fresh++;
    msg[c] = i;
    containerOf[i] = c;
    const from = ids.refStart[i]!;
    const to = ids.refStart[i + 1]!;
    for (let j = from; j + 1 < to; j++) {
      const a = ids.refs[j]!;
      const b = ids.refs[j + 1]!;
      if (parent[b] === NONE && !wouldLoop(a, b)) link(a, b);
    }
    if (parent[c] !== NONE) {
      childCount[parent[c]!]!--;
      parent[c] = NONE;
    }
    if (to > from) {
      const p = ids.refs[to - 1]!;
      if (!wouldLoop(p, c)) link(p, c);
    }
  }

  // (2, 3): `up` = where a message hangs: nearest message ancestor, else the topmost dummy
  const via = new Int32Array(fresh).fill(NONE); // per dummy: its resolved attachment point
  const chain: number[] = [];
  const resolve = (d: number): number => {
    let x = d;
    while (msg[x] === NONE && parent[x] !== NONE && via[x] === NONE) {
      chain.push(x);
      x = parent[x]!;
    }
    const r = msg[x] === NONE && via[x] !== NONE ? via[x]! : x;
    for (const y of chain) via[y] = r;
    chain.length = 0;
    if (msg[d] === NONE) via[d] = r;
    return r;
  };
  const up = new Int32Array(fresh).fill(NONE);
  const dummyKids = new Int32Array(fresh);
  for (let k = 0; k < m; k++) {
    const c = containerOf[part[k]!]!;
    if (parent[c] === NONE) continue;
    const p = parent[c]!;
    const at = msg[p] !== NONE ? p : resolve(p);
    up[c] = at;
    if (msg[at] === NONE) dummyKids[at]!++;
  }
  // a dummy root with a single child: the child becomes the root
  for (let k = 0; k < m; k++) {
    const c = containerOf[part[k]!]!;
    const at = up[c]!;
    if (at !== NONE && msg[at] === NONE && dummyKids[at] === 1) up[c] = NONE;
  }

  // children lists (CSR), each in sent-date order: filled walking the DATE order
  const byDate = sortOrder(keys, [{ key: 'DATE' }], part);
  const rank = new Int32Array(fresh); // container → position in byDate (messages only)
  const start = new Uint32Array(fresh + 1);
  for (let k = 0; k < m; k++) {
    const c = containerOf[byDate[k]!]!;
    rank[c] = k;
    if (up[c] !== NONE) start[up[c]! + 1]!++;
  }
  for (let x = 0; x < fresh; x++) start[x + 1]! += start[x]!;
  const fill = start.slice(0, fresh);
  const kids = new Int32Array(m);
  const roots: number[] = [];
  for (let k = 0; k < m; k++) {
    const c = containerOf[byDate[k]!]!;
    const at = up[c]!;
    if (at === NONE) roots.push(c);
    else {
      // (4): a dummy root takes its place at its first (earliest) child
      if (msg[at] === NONE && fill[at] === start[at]) roots.push(at);
      kids[fill[at]!++] = c;
    }
  }

  const tree = new Tree(msg, rank, start, kids, fresh);
  if (gatherSubjects) gatherBySubject(keys, tree, roots);
  else orderByLatest(roots, byDate, containerOf, up);
  return tree.build(keys, roots);
}

/** The thread structure after step (4), with the nodes step (5) adds. */
class Tree {
  /** Children added by step (5), and those of its new dummies (ids from `firstNew`). */
  readonly extra = new Map<number, number[]>();
  private next: number;

  constructor(
    readonly msg: Int32Array,
    /** Position of a message in the sent-date order. */
    readonly rank: Int32Array,
    readonly start: Uint32Array,
    readonly kids: Int32Array,
    readonly firstNew: number,
  ) {
    this.next = firstNew;
  }

  isDummy(x: number): boolean {
    return x >= this.firstNew || this.msg[x] === NONE;
  }

  newDummy(children: number[]): number {
    const d = this.next++;
    this.extra.set(d, children);
    return d;
  }

  /** Children in sent-date order (a dummy child by its first child). */
  children(x: number): number[] {
    const out: number[] = [];
    if (x < this.firstNew) for (let k = this.start[x]!; k < this.start[x + 1]!; k++) out.push(this.kids[k]!);
    const more = this.extra.get(x);
    if (more === undefined) return out;
    append(out, more);
    return this.byDate(out);
  }

  /** `nodes` sorted by sent date, in place (a dummy by its earliest child). */
  byDate(nodes: number[]): number[] {
    const key = new Map<number, number>();
    for (const x of nodes) key.set(x, this.dateKey(x));
    return nodes.sort((a, b) => key.get(a)! - key.get(b)!);
  }

  /** Sort key of a node: a message's date position; a dummy's earliest child's. */
  dateKey(x: number): number {
    if (!this.isDummy(x)) return this.rank[x]!;
    let key = Infinity;
    if (x < this.firstNew && this.start[x + 1]! > this.start[x]!) key = this.rank[this.kids[this.start[x]!]!]!;
    for (const c of this.extra.get(x) ?? []) key = Math.min(key, this.dateKey(c));
    return key;
  }

  /** The forest as ThreadNodes, roots in the given order (NONE entries skipped). */
  build(keys: MessageKeys, roots: readonly number[]): ThreadNode[] {
    const out: NodeInBuild[] = [];
    // UIDs read in mailbox order once: the walk below visits messages in thread order, and a record per visit missed the cache
    const uidOf = new Uint32Array(keys.length);
    for (let i = 0; i < uidOf.length; i++) uidOf[i] = keys.uid(i);
    // two parallel stacks: a node still to build, and the list it goes into
    const todo: number[] = [];
    const into: NodeInBuild[][] = [];
    for (let r = roots.length - 1; r >= 0; r--) {
      if (roots[r] === NONE) continue;
      todo.push(roots[r]!);
      into.push(out);
    }
    while (todo.length > 0) {
      const x = todo.pop()!;
      const plain = x < this.firstNew && !this.extra.has(x);
      const leaf = plain && this.start[x + 1] === this.start[x];
      const node: NodeInBuild = { uid: this.isDummy(x) ? null : uidOf[this.msg[x]!]!, children: leaf ? NO_CHILDREN : [] };
      into.pop()!.push(node);
      if (leaf) continue;
      if (plain) {
        for (let k = this.start[x + 1]! - 1; k >= this.start[x]!; k--) {
          todo.push(this.kids[k]!);
          into.push(node.children);
        }
      } else {
        const children = this.children(x);
        for (let k = children.length - 1; k >= 0; k--) {
          todo.push(children[k]!);
          into.push(node.children);
        }
      }
    }
    return out;
  }
}

/** Step (5) of REFERENCES, then the roots in sent-date order again (6). `roots` is changed in place. */
function gatherBySubject(keys: MessageKeys, tree: Tree, roots: number[]): void {
  const subject = subjects(keys);
  // (5.B.i) the thread subject of each root: a dummy's is its first child's
  const subjectAt = roots.map((x) => subject.keys[tree.msg[tree.isDummy(x) ? tree.kids[tree.start[x]!]! : x]!]!);
  const isReply = (x: number): boolean => !tree.isDummy(x) && subject.reply[tree.msg[x]!] === 1;

  // (5.B) subject → its group number (one Map lookup per root), group → position in `roots`
  const named = new Map<string, number>();
  const groupOf = new Int32Array(roots.length).fill(NONE);
  const holder: number[] = [];
  for (let p = 0; p < roots.length; p++) {
    const x = roots[p]!;
    const s = subjectAt[p]!;
    if (s === '') continue;
    let g = named.get(s);
    if (g === undefined) {
      g = holder.length;
      named.set(s, g);
      holder.push(p);
    } else {
      const t = roots[holder[g]!]!;
      if (!tree.isDummy(t) && (tree.isDummy(x) || (isReply(t) && !isReply(x)))) holder[g] = p;
    }
    groupOf[p] = g;
  }
  // (5.C)
  const adopt = (into: number, children: number[]): void => {
    const list = tree.extra.get(into);
    if (list === undefined) tree.extra.set(into, children);
    else append(list, children);
  };
  let merged = false;
  for (let p = 0; p < roots.length; p++) {
    const g = groupOf[p]!;
    if (g === NONE) continue;
    const q = holder[g]!;
    if (q === p) continue;
    const x = roots[p]!;
    const t = roots[q]!;
    merged = true;
    roots[p] = NONE;
    if (tree.isDummy(t) && tree.isDummy(x)) adopt(t, tree.children(x));
    else if (tree.isDummy(t) || (isReply(x) && !isReply(t))) adopt(t, [x]);
    else roots[q] = tree.newDummy([t, x]);
  }
  if (!merged) return;
  const live = roots.filter((x) => x !== NONE);
  roots.length = 0;
  append(roots, inDateOrder(tree, live));
}

/**
 * Live roots in sent-date order. Each root's key is the date position of a
 * message in its own tree, so the keys are distinct positions < rank.length:
 * one bucket pass instead of a comparison sort (a comparison sort again if
 * that ever did not hold).
 */
function inDateOrder(tree: Tree, live: number[]): number[] {
  const slot = new Int32Array(tree.rank.length).fill(NONE);
  for (const x of live) {
    const key = tree.dateKey(x);
    if (!(key >= 0 && key < slot.length) || slot[key] !== NONE) return tree.byDate(live);
    slot[key] = x;
  }
  const out: number[] = [];
  for (let k = 0; k < slot.length; k++) if (slot[k] !== NONE) out.push(slot[k]!);
  return out;
}

/**
 * Appends `src` to `dst` in a loop: `dst.push(...src)` passes each element as
 * an argument and throws RangeError beyond ~100k of them (a THREAD of a 1M
 * group gathers more roots than that).
 */
function append(dst: number[], src: readonly number[]): void {
  for (let i = 0; i < src.length; i++) dst.push(src[i]!);
}

/**
 * REFS: roots ordered by their thread's latest message, found walking the
 * sent-date order backwards (date positions are unique, so there are no ties).
 */
function orderByLatest(roots: number[], byDate: Uint32Array, containerOf: Int32Array, up: Int32Array): void {
  const rootOf = new Int32Array(up.length).fill(NONE);
  const path: number[] = [];
  const findRoot = (c: number): number => {
    let x = c;
    while (rootOf[x] === NONE && up[x] !== NONE) {
      path.push(x);
      x = up[x]!;
    }
    const r = rootOf[x] !== NONE ? rootOf[x]! : x;
    for (const y of path) rootOf[y] = r;
    path.length = 0;
    rootOf[x] = r;
    return r;
  };
  const latestFirst: number[] = [];
  const seen = new Uint8Array(up.length);
  for (let k = byDate.length - 1; k >= 0; k--) {
    const r = findRoot(containerOf[byDate[k]!]!);
    if (seen[r] === 0) {
      seen[r] = 1;
      latestFirst.push(r);
    }
  }
  roots.length = 0;
  for (let k = latestFirst.length - 1; k >= 0; k--) roots.push(latestFirst[k]!);
}
