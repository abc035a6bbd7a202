import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { baseSubject } from '../../src/search/index.js';

const cases: [subject: string, base: string, reply: boolean][] = [
  ['x', 'x', false],
  ['', '', false],
  ['   ', '', false],
  ['Re: x', 'x', true],
  ['RE : x', 'x', true],
  ['re:x', 'x', true],
  ['Re[2]: x', 'x', true],
  ['Re [2] : x', 'x', true], // a subj-blob ends in *WSP
  ['fw: x', 'x', true],
  ['FWD:x', 'x', true],
  ['Fwd: Re: re: x', 'x', true],
  ['Rewrite: x', 'Rewrite: x', false],
  ['Re: [list] Fwd: x', 'x', true],
  ['[list] Re: x', 'x', true],
  ['[a][b] Re: x', 'x', true],
  ['[list] x', 'x', false],
  ['[a] [b] x', 'x', false],
  ['[list]', '[list]', false],
  ['Re: [list]', '[list]', true],
  ['[a] [b]', '[b]', false],
  ['x (fwd)', 'x', true],
  ['x (FWD) (fwd)  ', 'x', true],
  ['x(fwd)', 'x', true],
  ['[fwd: x]', 'x', true],
  ['[Fwd: Re: x]', 'x', true],
  ['Re: [fwd: x]', 'x', true],
  ['[fwd: [list] x (fwd)]', 'x', true],
  ['[fwd: x] y', 'y', false],
  ['[fwd: x', '[fwd: x', false],
  ['[fwd:]', '', true],
  ['Re: Re: (fwd)', '', true],
  ['x\t\r\n  y', 'x y', false],
  ['  Re:   x   y  ', 'x y', true],
  ['=?utf-8?q?Re=3A_caf=C3=A9?=', 'café', true],
  ['=?ISO-8859-1?Q?Fwd:_=E9t=E9?=', 'été', true],
  ['Re: =?utf-8?b?W2xpc3RdIHk=?=', 'y', true],
  ['Re: 日本語', '日本語', true],
];

describe('baseSubject (RFC 5256 §2.1)', () => {
  it.each(cases)('%j → %j', (subject, base, reply) => {
    const b = baseSubject(subject);
    expect(b.text).toBe(base);
    expect(b.isReplyOrForward).toBe(reply);
  });

  it('folds only ASCII letters (i;ascii-casemap)', () => {
    expect(baseSubject('Re: Café ß').key).toBe('CAFé ß');
    expect(baseSubject('hello').key).toBe('HELLO');
    expect(baseSubject('Re: x').key).toBe(baseSubject('X').key);
  });

  // pieces that exercise every rule, joined at random
  const piece = fc.constantFrom('Re:', 're', 'Fwd:', 'fw', ':', '[', ']', '[l]', '[fwd:', '(fwd)', '(', ')', ' ', '  ', '\t', 'a', 'B', 'é', '日');
  const subject = fc.array(piece, { maxLength: 12 }).map((p) => p.join(''));

  it('is idempotent and leaves no artifacts at the edges', () => {
    fc.assert(
      fc.property(subject, (s) => {
        const b = baseSubject(s);
        expect(baseSubject(b.text).text).toBe(b.text);
        expect(b.text).toBe(b.text.trim());
        expect(b.text).not.toMatch(/\s{2}|[\t\r\n]/);
        expect(b.text.toLowerCase().endsWith('(fwd)')).toBe(false);
        expect(/^(re|fwd?)\s*(\[[^\][]*\]\s*)?:/i.test(b.text)).toBe(false);
      }),
    );
  });

  it('marks a reply exactly when a reply or forward marker was stripped from a plain subject', () => {
    fc.assert(
      fc.property(subject, fc.constantFrom('Re: ', 'Fwd: ', 'RE[3]: ', '[l] fw: '), (s, prefix) => {
        const plain = baseSubject(s);
        if (plain.isReplyOrForward || plain.text === '' || plain.text.startsWith('[')) return;
        const b = baseSubject(prefix + plain.text);
        expect(b.text).toBe(plain.text);
        expect(b.isReplyOrForward).toBe(true);
      }),
    );
  });
});
