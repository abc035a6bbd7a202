import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decoder } from '../../../src/imap/wire/decoder.js';
import { parseSearch, renderSearchKey, type SearchKey } from '../../../src/imap/wire/search-key.js';
import { SequenceSet, STAR } from '../../../src/imap/wire/sequence-set.js';
import { ParseError } from '../../../src/imap/wire/errors.js';
import { MAX_SEARCH_KEYS } from '../../../src/imap/limits.js';

const parse = (s: string, utf8 = false) => {
  const d = Decoder.ofText(' ' + s, { utf8 });
  const r = parseSearch(d);
  d.end();
  return r;
};

const text = fc.string({ unit: fc.oneof(fc.constantFrom('"', '\\', ' ', '(', ')', '*', '%', '{'), fc.string({ minLength: 1, maxLength: 1 }), fc.constantFrom('é', '日', '😀')), maxLength: 12 })
  .filter((s) => !/[\r\n\0]/.test(s));
const atom = fc.stringMatching(/^[A-Za-z$][A-Za-z0-9$_.-]{0,10}$/);
const date = fc.date({ min: new Date(Date.UTC(1900, 0, 1)), max: new Date(Date.UTC(2100, 11, 31)), noInvalidDate: true })
  .map((d) => ({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() }));
const seqSet = fc.array(fc.record({ start: fc.oneof(fc.integer({ min: 1, max: 5000 }), fc.constant(STAR)), end: fc.oneof(fc.integer({ min: 1, max: 5000 }), fc.constant(STAR)) }), { minLength: 1, maxLength: 4 })
  .map((r) => SequenceSet.from(r));
const setOrSaved = fc.oneof({ weight: 4, arbitrary: seqSet }, { weight: 1, arbitrary: fc.constant('$' as const) });
const op = fc.constantFrom('before' as const, 'on' as const, 'since' as const);
const systemFlag = fc.constantFrom(
  ...(['\\Answered', '\\Deleted', '\\Draft', '\\Flagged', '\\Seen'] as const).flatMap((f) => [{ flag: f, set: true }, { flag: f, set: false }]),
  { flag: '\\Recent', set: true },
);

const leaf: fc.Arbitrary<SearchKey> = fc.oneof(
  fc.constant<SearchKey>({ type: 'all' }),
  fc.constant<SearchKey>({ type: 'new' }),
  fc.constant<SearchKey>({ type: 'old' }),
  systemFlag.map((f): SearchKey => ({ type: 'flag', ...f })),
  fc.record({ flag: atom, set: fc.boolean() }).map((f): SearchKey => ({ type: 'flag', ...f })),
  fc.record({ field: atom.map((a) => a.toLowerCase()), value: text }).map((h): SearchKey => ({ type: 'header', ...h })),
  text.map((value): SearchKey => ({ type: 'body', value })),
  text.map((value): SearchKey => ({ type: 'text', value })),
  fc.record({ op, date }).map((x): SearchKey => ({ type: 'internaldate', ...x })),
  fc.record({ op, date }).map((x): SearchKey => ({ type: 'sentdate', ...x })),
  fc.nat().map((size): SearchKey => ({ type: 'larger', size })),
  fc.nat().map((size): SearchKey => ({ type: 'smaller', size })),
  setOrSaved.map((set): SearchKey => ({ type: 'uid', set })),
  setOrSaved.map((set): SearchKey => ({ type: 'seq', set })),
  fc.nat().map((modseq): SearchKey => ({ type: 'modseq', modseq })),
  fc.record({ modseq: fc.nat(), flag: fc.oneof(atom, atom.map((a) => '\\' + a)), kind: fc.constantFrom('priv' as const, 'shared' as const, 'all' as const) })
    .map(({ modseq, flag, kind }): SearchKey => ({ type: 'modseq', modseq, entry: { flag, kind } })),
);

const { key } = fc.letrec<{ key: SearchKey }>((tie) => ({
  key: fc.oneof(
    { depthSize: 'small', maxDepth: 6 },
    leaf,
    tie('key').map((k): SearchKey => ({ type: 'not', key: k })),
    fc.tuple(tie('key'), tie('key')).map(([a, b]): SearchKey => ({ type: 'or', a, b })),
    fc.array(tie('key'), { minLength: 1, maxLength: 4 }).map((keys): SearchKey => ({ type: 'and', keys })),
  ),
}));

describe('parseSearch', () => {
  it('parse(render(ast)) gives the same AST', () => {
    fc.assert(
      fc.property(key, (k) => {
        expect(parse(renderSearchKey(k), true).key).toEqual(k);
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 500) },
    );
  });

  it('reads RETURN options and CHARSET before the keys', () => {
    expect(parse('RETURN (MIN MAX COUNT) CHARSET UTF-8 ALL')).toEqual({ returnOptions: ['MIN', 'MAX', 'COUNT'], charset: 'UTF-8', key: { type: 'all' } });
    expect(parse('RETURN () SEEN')).toEqual({ returnOptions: [], key: { type: 'flag', flag: '\\Seen', set: true } });
    expect(parse('CHARSET "US-ASCII" UNSEEN').charset).toBe('US-ASCII');
    expect(parse('RETURN (SAVE) 1:5').returnOptions).toEqual(['SAVE']);
    expect(() => parse('RETURN (FOO) ALL')).toThrow(ParseError);
  });

  it('normalises aliases and keeps the meaning of top-level key lists', () => {
    expect(parse('FROM bob SUBJECT "hello world"').key).toEqual({
      type: 'and',
      keys: [{ type: 'header', field: 'from', value: 'bob' }, { type: 'header', field: 'subject', value: 'hello world' }],
    });
    expect(parse('OR 1:3 UID 7:* NOT DELETED').key).toEqual({
      type: 'and',
      keys: [
        { type: 'or', a: { type: 'seq', set: SequenceSet.parse('1:3') }, b: { type: 'uid', set: SequenceSet.parse('7:*') } },
        { type: 'not', key: { type: 'flag', flag: '\\Deleted', set: true } },
      ],
    });
    expect(parse('since 1-Feb-2024').key).toEqual({ type: 'internaldate', op: 'since', date: { year: 2024, month: 2, day: 1 } });
  });

  it('decodes strings as Latin-1 under a foreign charset so the handler can answer BADCHARSET', () => {
    const d = new Decoder({ parts: [Buffer.from(' CHARSET ISO-8859-1 TEXT {1}'), Buffer.from([0xe9]), Buffer.alloc(0)], literals: [{ binary: false, sync: true }] });
    expect(parseSearch(d)).toEqual({ charset: 'ISO-8859-1', key: { type: 'text', value: 'é' } });
  });

  it('rejects malformed programs', () => {
    for (const bad of [
      '', 'FOO', 'FROM', 'SINCE 31-Feb-2024', 'SINCE 1-Foo-2024', 'LARGER -1', 'OR SEEN', 'NOT', '(SEEN', 'SEEN)', '()',
      'UID', 'MODSEQ "/flag/x" all 1', 'MODSEQ "/flags/x" mine 1', 'KEYWORD \\Seen', 'HEADER Subject', '0', 'ALL  SEEN',
    ]) {
      expect(() => parse(bad), bad).toThrow(ParseError);
    }
  });

  it('bounds the number of keys', () => {
    expect(() => parse(Array(MAX_SEARCH_KEYS + 1).fill('ALL').join(' '))).toThrow(/at most/);
    expect(parse(Array(MAX_SEARCH_KEYS).fill('ALL').join(' ')).key).toMatchObject({ type: 'and' });
  });
});
