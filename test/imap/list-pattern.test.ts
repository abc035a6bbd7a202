import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ListPattern } from '../../src/imap/commands/mailboxes.js';

/** The obvious (backtracking) definition, fine for short inputs. */
function naive(pattern: string, name: string): boolean {
  if (pattern === '') return name === '';
  const [c, rest] = [pattern[0]!, pattern.slice(1)];
  if (c === '*') return [...Array(name.length + 1).keys()].some((k) => naive(rest, name.slice(k)));
  if (c === '%') {
    for (let k = 0; k <= name.length; k++) {
      if (k > 0 && name[k - 1] === '.') break;
      if (naive(rest, name.slice(k))) return true;
    }
    return false;
  }
  return name[0] === c && naive(rest, name.slice(1));
}

describe('LIST pattern matching', () => {
  it('agrees with the backtracking definition', () => {
    const alpha = fc.constantFrom('a', 'b', '.', '*', '%');
    fc.assert(
      fc.property(fc.string({ unit: alpha, maxLength: 8 }), fc.string({ unit: fc.constantFrom('a', 'b', '.'), maxLength: 10 }), (p, n) => {
        expect(new ListPattern(p).test(n)).toBe(naive(p, n));
      }),
      { numRuns: 3000 },
    );
  });

  it('examples', () => {
    expect(new ListPattern('comp.%').test('comp.lang')).toBe(true);
    expect(new ListPattern('comp.%').test('comp.lang.misc')).toBe(false);
    expect(new ListPattern('comp.*').test('comp.lang.misc')).toBe(true);
    expect(new ListPattern('*').test('')).toBe(true);
    expect(new ListPattern('%.%').test('a.b')).toBe(true);
  });

  it('a pathological pattern is answered at once (no backtracking)', () => {
    const p = new ListPattern('%a'.repeat(500) + 'x');
    expect(p.test('a'.repeat(300))).toBe(false);
  });
});
