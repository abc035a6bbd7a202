import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FieldNames, headerEnd, parseHeader, selectFields } from '../../../src/mime/header.js';
import { ENVELOPE_FIELDS, envelopeOf } from '../../../src/mime/envelope.js';
import { msg } from './helpers.js';

describe('headerEnd', () => {
  it('finds CRLF CRLF, LF LF, mixed, and an empty header', () => {
    const a = msg(['A: 1', 'B: 2', '', 'body']);
    expect(headerEnd(a)).toBe(a.indexOf('body'));
    const b = Buffer.from('A: 1\nB: 2\n\nbody');
    expect(headerEnd(b)).toBe(b.indexOf('body'));
    const c = Buffer.from('A: 1\r\n\nbody');
    expect(headerEnd(c)).toBe(c.indexOf('body'));
    expect(headerEnd(Buffer.from('\r\nbody'))).toBe(2);
    expect(headerEnd(Buffer.from('\nbody'))).toBe(1);
    expect(headerEnd(Buffer.from('A: 1\r\nB: 2\r\n'))).toBe(-1);
    expect(headerEnd(Buffer.alloc(0))).toBe(-1);
  });
});

describe('parseHeader', () => {
  it('names as written, lower-case names, raw fields with folding, unfolded values', () => {
    const block = msg(['Subject: hello', '  world', 'X-Empty:', 'to :  a@b', '', 'Body: not a header']);
    const f = parseHeader(block);
    expect(f.map((x) => x.name)).toEqual(['Subject', 'X-Empty', 'to']);
    expect(f.map((x) => x.lname)).toEqual(['subject', 'x-empty', 'to']);
    expect(f[0]!.raw.toString()).toBe('Subject: hello\r\n  world\r\n');
    expect(f[0]!.value.toString()).toBe('hello  world');
    expect(f[1]!.value.length).toBe(0);
    expect(f[2]!.value.toString()).toBe('a@b');
  });

  it('skips junk lines, a leading continuation, mbox From_ lines; keeps 8-bit and NUL', () => {
    const block = Buffer.from(' leading continuation\r\nFrom someone Mon Jan  1 00:00:00 2001\r\nno colon here\r\nX-8: caf\xe9\x00!\r\n\r\n', 'latin1');
    const f = parseHeader(block);
    expect(f.map((x) => x.name)).toEqual(['X-8']);
    expect(f[0]!.value.toString('latin1')).toBe('caf\xe9\x00!');
  });

  it('bare LF and obs-fold with a fold right after the colon', () => {
    const f = parseHeader(Buffer.from('Subject:\n\tfolded\nA: b\n'));
    expect(f[0]!.value.toString()).toBe('folded');
    expect(f[0]!.raw.toString()).toBe('Subject:\n\tfolded\n');
    expect(f[1]!.value.toString()).toBe('b');
  });

  it('a 1 MB header line', () => {
    const big = 'r'.repeat(1024 * 1024);
    const f = parseHeader(msg([`References: ${big}`, 'Subject: s', '', '']));
    expect(f[0]!.value.length).toBe(big.length);
    expect(f[1]!.value.toString()).toBe('s');
  });

  it('a missing header gives no fields', () => {
    expect(parseHeader(Buffer.from('\r\nbody: x\r\n'))).toEqual([]);
    expect(parseHeader(Buffer.alloc(0))).toEqual([]);
  });
});

describe('selectFields (BODY[HEADER.FIELDS])', () => {
  const block = msg(['From: a@b', 'Subject: one', ' two', 'X-Junk', 'subject: again', 'To: c@d', '', '']);

  it('matching fields verbatim, original order, plus the blank line', () => {
    expect(selectFields(block, ['SUBJECT', 'to'], false).toString()).toBe('Subject: one\r\n two\r\nsubject: again\r\nTo: c@d\r\n\r\n');
  });

  it('HEADER.FIELDS.NOT', () => {
    expect(selectFields(block, ['subject'], true).toString()).toBe('From: a@b\r\nTo: c@d\r\n\r\n');
  });

  it('no match: just the blank line', () => {
    expect(selectFields(block, ['x-none'], false).toString()).toBe('\r\n');
  });

  it('a last field without line end gets one', () => {
    expect(selectFields(Buffer.from('A: 1'), ['a'], false).toString()).toBe('A: 1\r\n\r\n');
  });
});

describe('parseHeader limited to some names (FieldNames)', () => {
  // lines a header may hold: envelope fields in any case, other fields, folds, junk
  const line = fc.oneof(
    fc.tuple(fc.constantFrom('From', 'FROM', 'from', 'Subject', 'sUbJeCt', 'To', 'Cc', 'BCC', 'Reply-To', 'In-Reply-To', 'Message-ID', 'Date', 'Sender', 'Path', 'Xref', 'Fromage', 'T', 'X-To', 'Reply-Tox'), fc.constantFrom(':', ' :', '\t:'), fc.string({ maxLength: 30 })).map(([n, c, v]) => `${n}${c} ${v}`),
    fc.string({ maxLength: 20 }).map((v) => ` ${v}`), // continuation
    fc.string({ maxLength: 20 }).map((v) => `\t${v}`),
    fc.string({ maxLength: 20 }), // junk or a field of any name
  );

  it('gives exactly the fields of those names that the full parse gives, in order', () => {
    const names = ['date', 'subject', 'from', 'sender', 'reply-to', 'to', 'cc', 'bcc', 'in-reply-to', 'message-id'];
    const only = new FieldNames(names);
    fc.assert(
      fc.property(fc.array(line, { maxLength: 25 }), fc.constantFrom('\r\n', '\n'), (lines, eol) => {
        const block = Buffer.from(lines.map((l) => l.replace(/[\r\n]/g, ' ') + eol).join('') + eol, 'latin1');
        const all = parseHeader(block).filter((f) => names.includes(f.lname));
        expect(parseHeader(block, only)).toEqual(all);
        expect(envelopeOf(parseHeader(block, ENVELOPE_FIELDS))).toEqual(envelopeOf(parseHeader(block)));
      }),
      { numRuns: 2000 },
    );
  });

  it('matches names ASCII case-insensitively and by whole name only', () => {
    const only = new FieldNames(['to', 'Reply-To']);
    const b = Buffer.from('TO: a\r\nTox: b\r\nreply-to: c\r\n d\r\nXTo: e\r\nrEPLY-tO: f\r\n\r\n');
    expect(parseHeader(b, only).map((f) => [f.lname, f.value.toString()])).toEqual([
      ['to', 'a'],
      ['reply-to', 'c d'],
      ['reply-to', 'f'],
    ]);
  });
});
