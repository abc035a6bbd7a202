import { describe, expect, it } from 'vitest';
import { Decoder } from '../../../src/imap/wire/decoder.js';
import { ParseError } from '../../../src/imap/wire/errors.js';
import { isUnnamable, wireName } from '../../../src/imap/wire/mutf7.js';

const D = (s: string, utf8 = false) => Decoder.ofText(s, { utf8 });
/** A decoder over `text {n}` + literal + `after`. */
const withLiteral = (before: string, lit: Buffer, after: string, binary = false) =>
  new Decoder({ parts: [Buffer.from(before), lit, Buffer.from(after)], literals: [{ binary, sync: true }] });

describe('Decoder', () => {
  it('reads tags, atoms and astrings by their grammar', () => {
    const d = D('a.1 LOGIN us]er "p w"');
    expect(d.tag()).toBe('a.1');
    d.sp();
    expect(d.atom()).toBe('LOGIN');
    d.sp();
    expect(d.astring()).toBe('us]er'); // "]" is an ASTRING-CHAR
    d.sp();
    expect(d.astring()).toBe('p w');
    d.end();
    expect(() => D('+tag').tag()).toThrow(ParseError);
    expect(() => D('a]b').atom()).not.toThrow();
    const a = D('a]b');
    expect(a.atom()).toBe('a');
  });

  it('unescapes quoted strings and refuses bad escapes, CR, LF and unterminated quotes', () => {
    expect(D('"a\\"b\\\\c"').quoted()).toBe('a"b\\c');
    for (const bad of ['"a\\b"', '"abc', '"a\rb"', 'abc']) expect(() => D(bad).quoted(), bad).toThrow(ParseError);
  });

  it('crosses literals and reports offsets counting literal bytes', () => {
    const d = withLiteral('x LOGIN {5}', Buffer.from('alice'), ' bob!');
    d.tag(); d.sp(); d.atom(); d.sp();
    expect(d.astring()).toBe('alice');
    expect(d.offset).toBe('x LOGIN {5}'.length + 5);
    d.sp();
    expect(d.astring()).toBe('bob!');
    d.end();
    const e = withLiteral('x {3}', Buffer.from('abc'), ' )');
    e.tag(); e.sp(); e.string(); e.sp();
    expect(() => e.astring()).toThrow(new ParseError('astring', 5 + 3 + 1));
  });

  it('accepts literal8 only through literal8()', () => {
    const d = withLiteral('~{3}', Buffer.from([0, 1, 2]), '', true);
    expect([...d.literal8()]).toEqual([0, 1, 2]);
    expect(() => withLiteral('~{3}', Buffer.from('abc'), '', true).string()).toThrow(ParseError);
    expect(() => withLiteral('{3}', Buffer.from('abc'), '').literal8()).toThrow(ParseError);
  });

  it('refuses a literal announcement that is not at the end of a line', () => {
    expect(() => D('{3}abc').string()).toThrow(/literal announcement/);
  });

  it('reads nstring NIL in any case but not NILS', () => {
    expect(D('nil').nstring()).toBeNull();
    expect(D('"NIL"').nstring()).toBe('NIL');
    expect(() => D('NILS').nstring()).toThrow(ParseError);
  });

  it('bounds numbers by their rule', () => {
    expect(D('4294967295').number()).toBe(4294967295);
    expect(() => D('4294967296').number()).toThrow(ParseError);
    expect(() => D('0').nzNumber()).toThrow(ParseError);
    expect(D('9223372036854775807').number64()).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => D('9223372036854775808').number64()).toThrow(ParseError);
    expect(D('12345').number64()).toBe(12345);
  });

  it('decodes mailbox names: INBOX in any case, modified UTF-7, or UTF-8 when enabled', () => {
    expect(D('iNbOx').mailbox()).toBe('INBOX');
    expect(D('"INBOX.sub"').mailbox()).toBe('INBOX.sub');
    expect(D('&ZeVnLIqe-').mailbox()).toBe('日本語');
    expect(D('"&ZeVnLIqe-"', true).mailbox()).toBe('&ZeVnLIqe-'); // UTF8=ACCEPT: no mUTF-7 decoding
    expect(D('"日本語"', true).mailbox()).toBe('日本語');
    expect(D('"日本語"').mailbox()).toBe('日本語'); // lenient: raw UTF-8 before ENABLE
    // not modified UTF-7 (encoded printable ASCII), yet a valid astring: no error, a name that names nothing
    const odd = D('&AGE-').mailbox();
    expect(isUnnamable(odd)).toBe(true);
    expect(wireName(odd)).toBe('&AGE-');
    expect(isUnnamable(D('"&AGE-"', true).mailbox()), 'UTF8=ACCEPT: taken as UTF-8').toBe(false);
    expect(isUnnamable(D('a&b*').listMailbox())).toBe(true);
    expect(D('comp.*.%').listMailbox()).toBe('comp.*.%');
  });

  it('canonicalises system flags and refuses \\Recent in client flag lists', () => {
    expect(D('(\\seen \\ANSWERED $Junk \\Custom)').flagList()).toEqual(['\\Seen', '\\Answered', '$Junk', '\\Custom']);
    expect(D('()').flagList()).toEqual([]);
    expect(() => D('(\\Recent)').flagList()).toThrow(ParseError);
    expect(() => D('(\\Seen ').flagList()).toThrow(ParseError);
  });

  it('parses date-time with zone into the right instant, and validates it', () => {
    expect(D('"17-Jul-1996 02:44:25 -0700"').dateTime().toISOString()).toBe('1996-07-17T09:44:25.000Z');
    expect(D('" 1-Jan-2024 00:00:00 +0100"').dateTime().toISOString()).toBe('2023-12-31T23:00:00.000Z');
    for (const bad of ['"1-Jan-2024 00:00:00 +0100"', '"31-Feb-2024 00:00:00 +0000"', '"01-Jan-2024 24:00:00 +0000"', '"01-Foo-2024 00:00:00 +0000"', '"01-Jan-2024 00:00:00 0000"']) {
      expect(() => D(bad).dateTime(), bad).toThrow(ParseError);
    }
  });

  it('parses dates with 1 or 2 digit days, quoted or not', () => {
    expect(D('1-Feb-2024').date()).toEqual({ year: 2024, month: 2, day: 1 });
    expect(D('"29-feb-2024"').date()).toEqual({ year: 2024, month: 2, day: 29 });
    expect(() => D('29-Feb-2023').date()).toThrow(ParseError);
    expect(() => D('123-Feb-2023').date()).toThrow(ParseError);
  });

  it('parses sequence sets and the saved result marker', () => {
    expect(D('1:3,5').sequenceSet().toString()).toBe('1:3,5');
    expect(D('$').sequenceSetOrSaved()).toBe('$');
    expect(() => D('$').sequenceSet()).toThrow(ParseError);
    expect(() => D('x 1,,2').sequenceSet()).toThrow(ParseError);
    const d = D('xx 1:0');
    d.atom(); d.sp();
    expect(() => d.sequenceSet()).toThrow(new ParseError('nz-number or "*"', 5));
  });

  it('parses lists and enforces allowEmpty', () => {
    const d = D('(A B)');
    expect(d.list(() => d.atom())).toEqual(['A', 'B']);
    const e = D('()');
    expect(() => e.list(() => e.atom())).toThrow(ParseError);
  });

  it('matches peek/maybe case-insensitively for letters only', () => {
    const d = D('return (x)');
    expect(d.peek('RETURN')).toBe(true);
    expect(d.maybe('RETURN ')).toBe(true);
    expect(D('[').peek('{')).toBe(false); // 0x5b vs 0x7b differ only in bit 0x20
  });
});
