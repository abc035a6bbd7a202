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
import type { MessageKeys } from './keys.js';
import { threadByReferences } from './references.js';
import type { NodeInBuild, ThreadNode } from './thread-node.js';

export type { NodeInBuild, ThreadNode };
import { ascendingIndices, sortOrder, sortRanks } from './sort.js';

export type ThreadAlgorithm = 'ORDEREDSUBJECT' | 'REFERENCES' | 'REFS';

export const THREAD_ALGORITHMS: readonly ThreadAlgorithm[] = ['ORDEREDSUBJECT', 'REFERENCES', 'REFS'];

/**
 * Threads of the messages of `keys`, or of those record indices in `subset`
 * (what a SEARCH selected; the others count as missing), by `algorithm`.
 * Every selected message appears exactly once. The threads of a whole group
 * are kept in `keys` until records are appended: a repeated THREAD gets the same
 * (read-only) forest back.
 */
export function threadMessages(keys: MessageKeys, algorithm: ThreadAlgorithm, subset?: ArrayLike<number>): readonly ThreadNode[] {
  const n = keys.length;
  if (subset !== undefined) return threadsOf(keys, algorithm, ascendingIndices(subset, n));
  return keys.whole(`thread:${algorithm}`, () => {
    const all = new Uint32Array(n);
    for (let i = 0; i < n; i++) all[i] = i;
    return threadsOf(keys, algorithm, all);
  });
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
    const node: NodeInBuild = { uid: keys.uid(i), children: [] };
    if (current !== undefined && subject[i] === subject[order[k - 1]!]) current.children.push(node);
    else {
      current = node;
      threads.push({ first: datePos[i]!, node });
    }
  }
  return threads.sort((a, b) => a.first - b.first).map((t) => t.node);
}
