/**
 * THREAD (RFC 5256 §3; REFS from draft-ietf-morg-inthread):
 *
 *   C: a1 UID THREAD REFERENCES UTF-8 ALL
 *   S: * THREAD (2)(3 6 (4 23)(44 7 96))
 *
 * The result is a forest: each root starts a thread, and a node's children are
 * the replies to it in sent-date order. A node without a UID is a dummy: it
 * stands for a message that is not there (REFERENCES, REFS) and only groups its
 * children, as in `((3)(5))`. Rendering to the wire form is the IMAP layer's
 * business (`src/imap/render/thread.ts`).
 *
 * - ORDEREDSUBJECT ("poor man's threading"): messages sorted by base subject,
 *   then sent date; each run of one base subject is a thread whose first
 *   message is the root and whose other messages are all its children; threads
 *   ordered by the sent date of their first message.
 * - REFERENCES, REFS: see `references.ts`.
 */
import { subjects } from './columns.js';
import type { MessageKeys } from './keys.js';
import { threadIds } from './msgid.js';
import { threadByReferences } from './references.js';
import { NO_CHILDREN, type NodeInBuild, type ThreadNode } from './thread-node.js';

export type { NodeInBuild, ThreadNode };
import { ascendingIndices, sortOrder, sortRanks } from './sort.js';

export type ThreadAlgorithm = 'ORDEREDSUBJECT' | 'REFERENCES' | 'REFS';

export const THREAD_ALGORITHMS: readonly ThreadAlgorithm[] = ['ORDEREDSUBJECT', 'REFERENCES', 'REFS'];

/**
 * Threads of the messages of `keys`, or of those record indices in `subset`
 * (what a SEARCH selected; the others count as missing), by `algorithm`.
 * Every selected message appears exactly once. The threads of a whole group
 * are kept in `keys` until records are appended, packed (`PackedForest`): a
 * repeated THREAD unpacks the same forest again instead of building it.
 */
export function threadMessages(keys: MessageKeys, algorithm: ThreadAlgorithm, subset?: ArrayLike<number>): readonly ThreadNode[] {
  const n = keys.length;
  if (subset !== undefined) return threadsOf(keys, algorithm, ascendingIndices(subset, n));
  let built: ThreadNode[] | undefined;
  const packed = keys.whole(`thread:${algorithm}`, () => {
    const all = new Uint32Array(n);
    for (let i = 0; i < n; i++) all[i] = i;
    built = threadsOf(keys, algorithm, all);
    return packForest(built);
  });
  return built ?? unpackForest(packed);
}

/**
 * The threads of every message of `keys` by `algorithm`, packed: kept in
 * `keys` until records are appended (as `threadMessages` keeps them), so a
 * repeated THREAD hands out the same arrays (do not modify them).
 */
export function threadPacked(keys: MessageKeys, algorithm: ThreadAlgorithm): PackedForest {
  return keys.whole(`thread:${algorithm}`, () => {
    const all = new Uint32Array(keys.length);
    for (let i = 0; i < all.length; i++) all[i] = i;
    return packForest(threadsOf(keys, algorithm, all));
  });
}

/**
 * Computes ahead, and keeps in `keys`, what `threadMessages(keys, algorithm)`
 * reads: the sent-date order, the thread ids and base subjects as the
 * algorithm needs them, and with `whole` the forest of every message itself.
 * For a first THREAD whose In-Reply-To values are still being fetched: what
 * it computed stays when `MessageKeys.setInReplyTo` changes nothing (the
 * usual case in news, where a reply carries References), and what reads
 * In-Reply-To is computed again when it does.
 */
export function prepareThread(keys: MessageKeys, algorithm: ThreadAlgorithm, whole: boolean): void {
  if (whole) {
    threadPacked(keys, algorithm);
    return;
  }
  sortOrder(keys, [{ key: 'DATE' }]);
  if (algorithm !== 'ORDEREDSUBJECT') threadIds(keys);
  if (algorithm === 'REFERENCES') subjects(keys);
  if (algorithm === 'ORDEREDSUBJECT') sortOrder(keys, [{ key: 'SUBJECT' }, { key: 'DATE' }]);
}

/**
 * A forest in preorder, 8 bytes a node: its UID (0 for a dummy) and its
 * number of children, DUMMY set for a dummy. A kept forest of 100k messages
 * as objects (a node and a children array each) held ~12.5 MB (issue 14).
 */
export interface PackedForest {
  uids: Uint32Array;
  kids: Uint32Array;
}

const DUMMY = 0x80000000;

/** `forest` packed (iterative: any depth). */
export function packForest(forest: readonly ThreadNode[]): PackedForest {
  const stack: ThreadNode[] = [];
  for (let r = forest.length - 1; r >= 0; r--) stack.push(forest[r]!);
  let uids = new Uint32Array(Math.max(16, forest.length * 2));
  let kids = new Uint32Array(uids.length);
  let n = 0;
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (n === uids.length) {
      const u = new Uint32Array(n * 2);
      const k = new Uint32Array(n * 2);
      u.set(uids);
      k.set(kids);
      uids = u;
      kids = k;
    }
    uids[n] = node.uid ?? 0;
    kids[n++] = (node.children.length | (node.uid === null ? DUMMY : 0)) >>> 0;
    for (let k = node.children.length - 1; k >= 0; k--) stack.push(node.children[k]!);
  }
  return { uids: uids.slice(0, n), kids: kids.slice(0, n) };
}

/** The forest `packForest` packed, as fresh nodes. */
export function unpackForest(p: PackedForest): ThreadNode[] {
  const roots: NodeInBuild[] = [];
  const open: NodeInBuild[] = [];
  const left: number[] = [];
  for (let i = 0; i < p.uids.length; i++) {
    const k = p.kids[i]!;
    const n = (k & ~DUMMY) >>> 0;
    const node: NodeInBuild = { uid: (k & DUMMY) !== 0 ? null : p.uids[i]!, children: n === 0 ? NO_CHILDREN : [] };
    const top = open.length - 1;
    if (top < 0) roots.push(node);
    else {
      open[top]!.children.push(node);
      left[top]!--;
    }
    if (n > 0) {
      open.push(node);
      left.push(n);
    }
    while (open.length > 0 && left[left.length - 1] === 0) {
      open.pop();
      left.pop();
    }
  }
  return roots;
}

function threadsOf(keys: MessageKeys, algorithm: ThreadAlgorithm, part: Uint32Array): ThreadNode[] {
  switch (algorithm) {
    case 'ORDEREDSUBJECT':
      return orderedSubject(keys, part);
    case 'REFERENCES':
      return threadByReferences(keys, part, true);
    case 'REFS':
      return threadByReferences(keys, part, false);
  }
}

function orderedSubject(keys: MessageKeys, part: Uint32Array): ThreadNode[] {
  const order = sortOrder(keys, [{ key: 'SUBJECT' }, { key: 'DATE' }], part);
  const subject = sortRanks(keys, 'SUBJECT').ranks;
  // the position of each message in the sent-date order orders the threads
  const byDate = sortOrder(keys, [{ key: 'DATE' }], part);
  const datePos = new Uint32Array(keys.length);
  for (let k = 0; k < byDate.length; k++) datePos[byDate[k]!] = k;
  const threads: { first: number; node: NodeInBuild }[] = [];
  let current: NodeInBuild | undefined;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (current !== undefined && subject[i] === subject[order[k - 1]!]) current.children.push({ uid: keys.uid(i), children: NO_CHILDREN });
    else {
      const node: NodeInBuild = { uid: keys.uid(i), children: [] };
      current = node;
      threads.push({ first: datePos[i]!, node });
    }
  }
  return threads.sort((a, b) => a.first - b.first).map((t) => t.node);
}
