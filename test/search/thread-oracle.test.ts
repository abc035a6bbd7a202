/**
 * THREAD=REFERENCES and REFS against a plain model: containers as objects,
 * msg-ids in a Map, each step of RFC 5256 §3 written out as the prose of
 * references.ts states it, no typed arrays and no shortcuts. The model is
 * slow and small; the property is that the real algorithm (integer
 * containers, interned ids, bucket orders) builds the same forests on random
 * groups full of duplicates, loops, missing parents and shared subjects.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MessageKeys, baseSubject, sentDate, threadMessages, type MessageRecord } from '../../src/search/index.js';
import { MsgIdScanner } from '../../src/search/msgid.js';

interface Box {
  msg: number | null; // record index
  parent: Box | null;
  kids: Box[]; // where messages hang (steps 2, 3, 5)
}

type Plain = [number | null, Plain[]];

function ids(value: string): string[] {
  const scan = new MsgIdScanner().reset(value);
  const out: string[] = [];
  for (let id = scan.next(); id !== null; id = scan.next()) out.push(id);
  return out;
}

function model(records: MessageRecord[], part: number[], gather: boolean): Plain[] {
  const byId = new Map<string, Box>();
  const box = (id: string): Box => {
    let b = byId.get(id);
    if (b === undefined) byId.set(id, (b = { msg: null, parent: null, kids: [] }));
    return b;
  };
  const isAncestor = (a: Box, of: Box): boolean => {
    for (let x = of.parent; x !== null; x = x.parent) if (x === a) return true;
    return false;
  };
  const loops = (p: Box, c: Box): boolean => p === c || isAncestor(c, p);
  const boxes: Box[] = [];
  // (1)
  for (const i of part) {
    const r = records[i]!;
    const own = ids(r.messageId)[0];
    let c: Box;
    if (own !== undefined && box(own).msg === null) c = box(own);
    else c = { msg: null, parent: null, kids: [] };
    c.msg = i;
    boxes.push(c);
    let refs = ids(r.references);
    if (refs.length === 0) refs = ids(r.inReplyTo).slice(0, 1);
    const chain = refs.map(box);
    for (let k = 0; k + 1 < chain.length; k++) if (chain[k + 1]!.parent === null && !loops(chain[k]!, chain[k + 1]!)) chain[k + 1]!.parent = chain[k]!;
    c.parent = null;
    const last = chain[chain.length - 1];
    if (last !== undefined && !loops(last, c)) c.parent = last;
  }
  // sent-date order: date, then mailbox order
  const pos = new Map<number, number>();
  [...part].sort((a, b) => (sentDate(records[a]!) || 0) - (sentDate(records[b]!) || 0) || a - b).forEach((i, k) => pos.set(i, k));
  const keyOf = (b: Box): number => (b.msg !== null ? pos.get(b.msg)! : Math.min(...b.kids.map(keyOf)));
  // (2, 3)
  const roots: Box[] = [];
  for (const c of boxes) {
    if (c.parent === null) {
      roots.push(c);
      continue;
    }
    let x = c.parent;
    while (x.msg === null && x.parent !== null) x = x.parent;
    if (x.kids.length === 0 && x.msg === null) roots.push(x);
    x.kids.push(c);
  }
  let live = roots.flatMap((x) => (x.msg === null && x.kids.length === 1 ? [x.kids[0]!] : [x]));
  live.sort((a, b) => keyOf(a) - keyOf(b));
  // (5)
  if (gather) {
    const subjectOf = (x: Box): string => {
      const m = x.msg ?? [...x.kids].sort((a, b) => keyOf(a) - keyOf(b))[0]!.msg!;
      return baseSubject(records[m]!.subject).key;
    };
    const reply = (x: Box): boolean => x.msg !== null && baseSubject(records[x.msg]!.subject).isReplyOrForward;
    const subjects = live.map(subjectOf);
    const table = new Map<string, number>();
    live.forEach((x, p) => {
      const s = subjects[p]!;
      if (s === '') return;
      const q = table.get(s);
      if (q === undefined) table.set(s, p);
      else if (live[q]!.msg !== null && (x.msg === null || (reply(live[q]!) && !reply(x)))) table.set(s, p);
    });
    const at: (Box | null)[] = [...live];
    live.forEach((x, p) => {
      const s = subjects[p]!;
      const q = table.get(s);
      if (s === '' || q === p) return;
      const t = at[q!]!;
      at[p] = null;
      if (t.msg === null && x.msg === null) t.kids.push(...x.kids);
      else if (t.msg === null || (reply(x) && !reply(t))) t.kids.push(x);
      else at[q!] = { msg: null, parent: null, kids: [t, x] };
    });
    live = at.filter((x): x is Box => x !== null);
    live.sort((a, b) => keyOf(a) - keyOf(b));
  } else {
    const latest = (x: Box): number => Math.max(x.msg !== null ? pos.get(x.msg)! : -1, ...x.kids.map(latest));
    live.sort((a, b) => latest(a) - latest(b));
  }
  // (6)
  const out = (x: Box): Plain => [x.msg === null ? null : records[x.msg]!.uid, [...x.kids].sort((a, b) => keyOf(a) - keyOf(b)).map(out)];
  return live.map(out);
}

const plain = (nodes: readonly { uid: number | null; children: readonly unknown[] }[]): Plain[] =>
  nodes.map((n) => [n.uid, plain(n.children as typeof nodes)]);

const idArb = fc.integer({ min: 0, max: 12 }).map((k) => `<m${k}@x>`);
const recordsArb = fc
  .array(
    fc.record({
      id: fc.oneof(idArb, idArb, fc.constant(''), fc.constant('<"m1"@x>')),
      refs: fc.array(fc.oneof(idArb, fc.constant('<m 2@x>')), { maxLength: 5 }).map((l) => l.join(' ')),
      irt: fc.oneof(fc.constant(''), idArb),
      subject: fc.constantFrom('', 'x', 'Re: x', 'X', 'y', 'Fwd: y', '[l] Re: x', 'Re:', 'z', '=?utf-8?q?Re=3A_y?='),
      date: fc.oneof(fc.constant(NaN), fc.integer({ min: 0, max: 8 })),
      arrival: fc.integer({ min: 0, max: 8 }),
    }),
    { maxLength: 40 },
  )
  .map((list): MessageRecord[] =>
    list.map((r, i) => ({ uid: i * 2 + 1, date: r.date, arrival: r.arrival, size: 0, subject: r.subject, from: '', to: '', cc: '', messageId: r.id, references: r.refs, inReplyTo: r.irt })),
  );

describe('THREAD REFERENCES and REFS equal the plain model', () => {
  for (const algorithm of ['REFERENCES', 'REFS'] as const) {
    it(`${algorithm}: whole groups and subsets`, () => {
      fc.assert(
        fc.property(recordsArb, fc.option(fc.array(fc.nat({ max: 45 })), { nil: undefined }), (records, subset) => {
          const part = subset === undefined ? records.map((_, i) => i) : [...new Set(subset.filter((i) => i < records.length))].sort((a, b) => a - b);
          const got = threadMessages(new MessageKeys(records), algorithm, subset);
          expect(plain(got)).toEqual(model(records, part, algorithm === 'REFERENCES'));
        }),
        { numRuns: 1500 },
      );
    });
  }
});
