import { describe, expect, it } from 'vitest';
import { Decoder } from '../../../src/imap/wire/decoder.js';
import { parseFetchItems } from '../../../src/imap/wire/fetch-att.js';
import { ParseError } from '../../../src/imap/wire/errors.js';

const parse = (s: string) => {
  const d = Decoder.ofText(s);
  const r = parseFetchItems(d);
  d.end();
  return r;
};
const names = (s: string): string[] => parse(s).items.map((i) => i.name);

describe('parseFetchItems', () => {
  it('expands the macros (RFC 9051 §6.4.5)', () => {
    expect(names('ALL')).toEqual(['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE']);
    expect(names('fast')).toEqual(['FLAGS', 'INTERNALDATE', 'RFC822.SIZE']);
    expect(names('FULL')).toEqual(['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY']);
    expect(parse('FULL').macro).toBe('FULL');
    expect(() => parse('(ALL)')).toThrow(ParseError); // macros cannot be inside a list
  });

  it('parses simple attributes, single or listed', () => {
    expect(names('UID')).toEqual(['UID']);
    expect(names('(FLAGS UID RFC822.SIZE ENVELOPE BODYSTRUCTURE BODY INTERNALDATE MODSEQ RFC822 RFC822.HEADER RFC822.TEXT)')).toEqual([
      'FLAGS', 'UID', 'RFC822.SIZE', 'ENVELOPE', 'BODYSTRUCTURE', 'BODY', 'INTERNALDATE', 'MODSEQ', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT',
    ]);
  });

  it('gives response names: PEEK answers as BODY/BINARY, partial as <origin>', () => {
    expect(names('BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)]<0.512>')).toEqual(['BODY[HEADER.FIELDS (SUBJECT FROM)]<0>']);
    expect(names('(BODY[] BODY[TEXT] BODY[1] BODY[1.2.HEADER] BODY[3.MIME] BODY[HEADER.FIELDS.NOT ("X Y" Z)])')).toEqual([
      'BODY[]', 'BODY[TEXT]', 'BODY[1]', 'BODY[1.2.HEADER]', 'BODY[3.MIME]', 'BODY[HEADER.FIELDS.NOT ("X Y" Z)]',
    ]);
    expect(names('(BINARY.PEEK[1.2]<10.20> BINARY[] BINARY.SIZE[4])')).toEqual(['BINARY[1.2]<10>', 'BINARY[]', 'BINARY.SIZE[4]']);
  });

  it('marks the items that set \\Seen', () => {
    const r = parse('(BODY[] BODY.PEEK[] RFC822 RFC822.HEADER RFC822.TEXT BINARY[1] BINARY.PEEK[1] FLAGS)');
    expect(r.items.map((i) => i.setsSeen)).toEqual([true, false, true, false, true, true, false, false]);
  });

  it('keeps section structure and partial values', () => {
    const [item] = parse('BODY.PEEK[2.1.HEADER.FIELDS (References)]<100.4096>').items;
    expect(item).toEqual({
      type: 'BODY[]', peek: true, section: { part: [2, 1], text: 'HEADER.FIELDS', fields: ['References'] },
      partial: { origin: 100, length: 4096 }, name: 'BODY[2.1.HEADER.FIELDS (References)]<100>', setsSeen: false,
    });
  });

  it('parses CONDSTORE/QRESYNC fetch modifiers (RFC 7162)', () => {
    expect(parse('(FLAGS) (CHANGEDSINCE 12345 VANISHED)')).toMatchObject({ changedSince: 12345, vanished: true });
    expect(parse('FLAGS (changedsince 7)')).toMatchObject({ changedSince: 7, vanished: false });
    expect(() => parse('FLAGS (VANISHED VANISHED)')).toThrow(ParseError);
    expect(() => parse('FLAGS (FOO)')).toThrow(ParseError);
  });

  it('rejects malformed attributes', () => {
    for (const bad of [
      'BODY[MIME]', 'BODY[1.]', 'BODY[1HEADER]', 'BODY[0]', 'BODY[HEADER.FIELDS ()]', 'BODY[HEADER.FIELDS]',
      'BODY[]<0.0>', 'BODY[]<1>', 'BODY.PEEK', 'BINARY[TEXT]', 'BINARY.SIZE', 'FOO', '()', '(FLAGS', 'FLAGS)', 'RFC822.PEEK',
    ]) {
      expect(() => parse(bad), bad).toThrow(ParseError);
    }
  });
});
