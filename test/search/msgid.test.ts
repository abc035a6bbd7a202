import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { IdTable, MsgIdScanner, hasMsgId } from '../../src/search/msgid.js';

/** Every id of `value` as `next()` reads it (the strings). */
function idsOf(value: string): string[] {
  const scan = new MsgIdScanner().reset(value);
  const out: string[] = [];
  for (let id = scan.next(); id !== null; id = scan.next()) out.push(id);
  return out;
}

/** Every id of `value` as `nextId` numbers it in `table`. */
function numbersOf(value: string, table: IdTable): number[] {
  const scan = new MsgIdScanner().reset(value);
  const out: number[] = [];
  for (let id = scan.nextId(table); id !== -1; id = scan.nextId(table)) out.push(id);
  return out;
}

describe('MsgIdScanner.nextId and IdTable', () => {
  it('numbers ids as next() reads them: equal after normalizing, dense from 0', () => {
    const table = new IdTable();
    expect(numbersOf('<a@b> <"a"@b> <c@d>', table)).toEqual([0, 0, 1]);
    expect(numbersOf('<a\\@b> x <c @d> <a @b> <<e@f>', table)).toEqual([0, 1, 0, 2]);
    expect(numbersOf('<ab> <a@> <@> <x@y', table)).toEqual([]);
    expect(table.size).toBe(3);
  });

  it('gives two values the same numbers exactly when next() gives them the same ids', () => {
    const part = fc.constantFrom('a', 'b', '@', '<', '>', ' ', '"', '\\', 'é', '\t', 'x@y', '<a@b>', '<a@c>');
    const value = fc.array(part, { maxLength: 30 }).map((xs) => xs.join(''));
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 12 }), (values) => {
        const table = new IdTable();
        const seen = new Map<string, number>();
        for (const v of values) {
          const expected = idsOf(v).map((id) => {
            if (!seen.has(id)) seen.set(id, seen.size);
            return seen.get(id)!;
          });
          expect(numbersOf(v, table)).toEqual(expected);
        }
        expect(table.size).toBe(seen.size);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps ids apart through growth (100,000 distinct ids, each found again)', () => {
    const table = new IdTable();
    const n = 100_000;
    const wrong: number[] = [];
    for (let i = 0; i < n; i++) if (table.intern(`<${i}.x@host>`, 1, `<${i}.x@host>`.length - 1, true) !== i) wrong.push(i);
    for (let i = 0; i < n; i += 97) if (table.intern(`${i}.x@host`, 0, `${i}.x@host`.length, false) !== i) wrong.push(i);
    expect(wrong).toEqual([]);
    expect(table.size).toBe(n);
  });
});

describe('hasMsgId', () => {
  it('is true exactly when next() finds an id', () => {
    expect(hasMsgId('<a@b>')).toBe(true);
    expect(hasMsgId('x <a @b> y')).toBe(true);
    expect(hasMsgId('< @ >')).toBe(false);
    expect(hasMsgId('<"" @x>')).toBe(false);
    expect(hasMsgId('<ab> <@>')).toBe(false);
    const part = fc.constantFrom('a', '@', '<', '>', ' ', '"', '\\', 'x@y', '<a@b>', '\t');
    fc.assert(
      fc.property(fc.array(part, { maxLength: 20 }).map((xs) => xs.join('')), (v) => {
        expect(hasMsgId(v)).toBe(idsOf(v).length > 0);
      }),
      { numRuns: 1000 },
    );
  });
});
