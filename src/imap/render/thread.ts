/**
 * THREAD response rendering (RFC 5256 §4, `thread-list`):
 *
 *   forest 2; 3 → 6 → {4 → 23, 44 → 7 → 96}     renders as   (2)(3 6 (4 23)(44 7 96))
 *   a dummy with children 3 and 5                 renders as   ((3)(5))
 *
 * A node with one child continues on the same list (`thread-members`); with two
 * or more, each child opens a list of its own (`thread-nested`). A dummy writes
 * no number. Iterative, so a reply chain of any depth renders without recursion.
 * The caller writes `* THREAD ` before and CRLF after. A forest may come as
 * nodes or packed (`PackedThreads`: a whole group's answer, rendered without
 * a node object per message: ~100k of them took ~60 ms of a first THREAD).
 */
import type { PackedThreads, ThreadForest, ThreadNode } from '../../export/interface.js';
import { ByteWriter } from '../wire/byte-writer.js';

/** What the stack holds: a node still to write, or a parenthesis. */
type Step = ThreadNode | '(' | ')';

/**
 * The thread lists of `forest` as bytes. `numberOf` maps a UID to the number to
 * write (the sequence number for THREAD; omitted for UID THREAD). Empty forest:
 * an empty Buffer.
 */
export function renderThreads(forest: ThreadForest, numberOf?: (uid: number) => number): Buffer {
  if (!Array.isArray(forest)) return renderPacked(forest as PackedThreads, numberOf);
  return renderNodes(forest as readonly ThreadNode[], numberOf);
}

function renderNodes(forest: readonly ThreadNode[], numberOf?: (uid: number) => number): Buffer {
  const w = new ByteWriter(1024);
  /** Whether the last thing written was a number: the next number or '(' then needs a space. */
  let afterNumber = false;
  const stack: Step[] = [];
  const pushList = (node: ThreadNode): void => {
    stack.push(')', node, '(');
  };
  for (let r = forest.length - 1; r >= 0; r--) pushList(forest[r]!);
  while (stack.length > 0) {
    const step = stack.pop()!;
    if (step === ')') {
      w.ascii(')');
      afterNumber = false;
      continue;
    }
    if (step === '(') {
      w.ascii(afterNumber ? ' (' : '(');
      afterNumber = false;
      continue;
    }
    if (step.uid !== null) {
      const n = numberOf === undefined ? step.uid : numberOf(step.uid);
      w.ascii(afterNumber ? ` ${n}` : String(n));
      afterNumber = true;
    }
    const children = step.children;
    if (children.length === 1) stack.push(children[0]!);
    else for (let k = children.length - 1; k >= 0; k--) pushList(children[k]!);
  }
  return w.take();
}

/** Set in `PackedThreads.kids` for a dummy. */
const DUMMY = 0x80000000;

/**
 * `renderNodes` over the preorder arrays: a stack of the nodes whose
 * children are being written (how many are left, and whether each child
 * opens a list of its own); the forest's roots are the children of a
 * bottom entry that never ends, each in a list of its own.
 */
function renderPacked(p: PackedThreads, numberOf?: (uid: number) => number): Buffer {
  const n = p.uids.length;
  // about 7 bytes a message: digits, a space or parentheses
  const w = new ByteWriter(Math.max(1024, n * 8));
  const left: number[] = [Infinity];
  const own: boolean[] = [true];
  let afterNumber = false;
  for (let i = 0; i < n; i++) {
    if (own[own.length - 1]) {
      w.ascii(afterNumber ? ' (' : '(');
      afterNumber = false;
    }
    const k = p.kids[i]!;
    const count = (k & ~DUMMY) >>> 0;
    if ((k & DUMMY) === 0) {
      const uid = p.uids[i]!;
      const num = numberOf === undefined ? uid : numberOf(uid);
      w.ascii(afterNumber ? ` ${num}` : String(num));
      afterNumber = true;
    }
    if (count > 0) {
      left.push(count);
      own.push(count > 1);
      continue;
    }
    // a leaf: it ends, and with it every node whose last child it ends
    for (;;) {
      const top = left.length - 1;
      if (own[top]) {
        w.ascii(')');
        afterNumber = false;
      }
      if (--left[top]! > 0) break;
      left.pop();
      own.pop();
    }
  }
  return w.take();
}
