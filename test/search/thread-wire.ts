/** Reads RFC 5256 `thread-list`s back into a forest (test helper; strict about the grammar). */
import type { ThreadNode } from '../../src/search/index.js';

interface Node {
  uid: number | null;
  children: Node[];
}

export function parseThreads(text: string): ThreadNode[] {
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`${why} at ${i} in ${JSON.stringify(text)}`);
  };
  const number = (): number => {
    const m = /^[1-9][0-9]*/.exec(text.slice(i));
    if (m === null) return fail('nz-number expected');
    i += m[0].length;
    return Number(m[0]);
  };
  // thread-list = "(" (thread-members / thread-nested) ")"
  const list = (): Node => {
    if (text[i] !== '(') fail('"(" expected');
    i++;
    let top: Node;
    if (text[i] === '(') top = { uid: null, children: nested() };
    else {
      top = { uid: number(), children: [] };
      let last = top;
      while (text[i] === ' ') {
        i++;
        if (text[i] === '(') {
          last.children = nested();
          break;
        }
        const next: Node = { uid: number(), children: [] };
        last.children = [next];
        last = next;
      }
    }
    if (text[i] !== ')') fail('")" expected');
    i++;
    return top;
  };
  // thread-nested = 2*thread-list
  const nested = (): Node[] => {
    const out: Node[] = [];
    while (text[i] === '(') out.push(list());
    if (out.length < 2) fail('thread-nested needs two thread-lists');
    return out;
  };
  const forest: Node[] = [];
  while (i < text.length) forest.push(list());
  return forest;
}
