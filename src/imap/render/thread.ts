/**
 * THREAD response rendering (RFC 5256 §4, `thread-list`):
 *
 *   forest 2; 3 → 6 → {4 → 23, 44 → 7 → 96}     renders as   (2)(3 6 (4 23)(44 7 96))
 *   a dummy with children 3 and 5                 renders as   ((3)(5))
 *
 * A node with one child continues on the same list (`thread-members`); with two
 * or more, each child opens a list of its own (`thread-nested`). A dummy writes
 * no number. Iterative, so a reply chain of any depth renders without recursion.
 * The caller writes `* THREAD ` before and CRLF after.
 */
import type { ThreadNode } from '../../export/interface.js';
import { ByteWriter } from '../wire/byte-writer.js';

/** What the stack holds: a node still to write, or a parenthesis. */
type Step = ThreadNode | '(' | ')';

/**
 * The thread lists of `forest` as bytes. `numberOf` maps a UID to the number to
 * write (the sequence number for THREAD; omitted for UID THREAD). Empty forest:
 * an empty Buffer.
 */
export function renderThreads(forest: readonly ThreadNode[], numberOf?: (uid: number) => number): Buffer {
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
