/**
 * The bulk OVER path (`parseOverRecord`, `itemsConsumer`, the range-based
 * LineSplitter) against the reference `parseOverLine`: the same records for
 * generated lines full of awkward bytes, and the same list whatever byte the
 * response is split at.
 */
import { describe, expect, it } from 'vitest';
import { parseOverLine, parseOverRecord } from '../../src/nntp/overview.js';
import { itemsConsumer } from '../../src/nntp/command.js';
import { ResponseParser } from '../../src/nntp/parser.js';
import type { OverRecord } from '../../src/nntp/types.js';
import { prng } from '../../src/export/sample/generate.js';

/** What the export made of `parseOverLine` before `parseOverRecord` existed (nntp-source's copy). */
function reference(line: Buffer, irt: number): OverRecord | undefined {
  const o = parseOverLine(line);
  if (o === undefined) return undefined;
  const r: OverRecord = {
    number: o.number, subject: o.subject, from: o.from, date: o.date, messageId: o.messageId,
    references: o.references, bytes: o.bytes, lines: o.lines,
  };
  if (o.xref !== undefined) r.xref = o.xref;
  if (irt >= 0) {
    const f = o.raw[irt];
    if (f === undefined || f.length === 0) r.inReplyTo = '';
    else {
      const text = f.toString('utf8');
      r.inReplyTo = (text.slice(0, 12).toLowerCase() === 'in-reply-to:' ? text.slice(12) : text).trim();
    }
  }
  return r;
}


const hex = (s: string): Buffer => Buffer.from(s.replace(/ /g, ''), 'hex');
/** Pieces a field is made of: ASCII, UTF-8, bytes that are not UTF-8, U+FFFD and BOM as UTF-8, NBSP alone and encoded, CR. */
const PIECES: Buffer[] = [
  Buffer.from('abc'), Buffer.from(' '), Buffer.from('<x@y>'), Buffer.from('Re: '), Buffer.from('12'), Buffer.from('\r'),
  hex('c3a9'), hex('e282ac'), hex('f09f9880'), hex('80'), hex('ff'), hex('c3'), hex('e282'), hex('efbfbd'), hex('efbbbf'),
  hex('a0'), hex('c2a0'), Buffer.from('Xref: h g:1'), Buffer.from('xref:\th'), Buffer.from('In-Reply-To: <p@q>'), Buffer.from('İn-reply-to:a'),
];
const NUMBERS = ['1', '42', '007', '9007199254740991', '9007199254740992', '12345678901234567890', '123456789012345678901', '', 'x1', ' 1', '1 ', '٣'];
const INTS = ['12', ' 12 ', '', '-1', '1e3', '0x10', '1.5', 'abc', '9007199254740993', '007', '0', '123456789012345', '1234567890123456'];
const INT_BYTES = [hex('a0') , hex('c2a0'), hex('80')];

function field(rand: () => number): Buffer {
  const parts: Buffer[] = [];
  const n = Math.floor(rand() * 4);
  for (let i = 0; i < n; i++) parts.push(PIECES[Math.floor(rand() * PIECES.length)]!);
  return Buffer.concat(parts);
}

function line(rand: () => number): Buffer {
  const fields: Buffer[] = [Buffer.from(NUMBERS[Math.floor(rand() * NUMBERS.length)]!, 'utf8')];
  const count = Math.floor(rand() * 12);
  for (let i = 0; i < count; i++) {
    if (i === 5 || i === 6) {
      let v = Buffer.from(INTS[Math.floor(rand() * INTS.length)]!);
      if (rand() < 0.2) v = Buffer.concat([v, INT_BYTES[Math.floor(rand() * INT_BYTES.length)]!]);
      fields.push(v);
    } else if (i >= 7 && rand() < 0.3) {
      fields.push(Buffer.from(rand() < 0.5 ? 'Xref: host g:3 h:4' : 'In-Reply-To: <r@s>'));
    } else fields.push(field(rand));
  }
  const parts: Buffer[] = [];
  fields.forEach((f, i) => parts.push(...(i > 0 ? [Buffer.from('\t'), f] : [f])));
  return Buffer.concat(parts);
}

describe('parseOverRecord', () => {
  it('gives what parseOverLine gives, for generated lines, read from inside a bigger buffer', () => {
    const rand = prng(14);
    for (let k = 0; k < 20_000; k++) {
      const l = line(rand);
      const irt = Math.floor(rand() * 12) - 1;
      const around = Buffer.concat([hex('c3'), l, hex('a9ff')]);
      const want = reference(l, irt);
      expect(parseOverRecord(around, 1, 1 + l.length, irt)).toStrictEqual(want);
    }
  });

  it('gives what parseOverLine gives for Xref names in any case and followed by any one space, and for number fields of every shape', () => {
    const xrefs = ['Xref: h g:1', 'XREF:h g:1', 'xRef:\u00a0h g:1', 'xref:  h g:1', 'xref:\u3000h', 'Xref:', 'Xre: h', 'yref: h', 'Xref :h', '\u00a0Xref: h'];
    const ints = ['', '0', '7', '007', '123456789012345', '1234567890123456', ' 12', '12 ', '1e3', '-1', '\u0661', '12\u00a0'];
    for (const x of xrefs) {
      for (const n of ints) {
        const l = Buffer.from(`9\ts\tf\td\t<m@x>\t\t${n}\t${n}\tOther: 1\t${x}`);
        expect(parseOverRecord(l, 0, l.length), `${x} / ${n}`).toStrictEqual(reference(l, -1));
      }
    }
  });

  it('reads INN lines: fields, Xref without its name, In-Reply-To by index, numbers', () => {
    const l = Buffer.from('3000234\tI am just a test article\t"Demo User" <nobody@example.com>\t6 Oct 1998 04:38:40 -0500\t<45223423@example.com>\t<45454@example.net>\t1234\t17\tXref: news.example.com misc.test:3000363\tIn-Reply-To: <45454@example.net> ');
    expect(parseOverRecord(l, 0, l.length, 8)).toStrictEqual({
      number: 3000234, subject: 'I am just a test article', from: '"Demo User" <nobody@example.com>', date: '6 Oct 1998 04:38:40 -0500',
      messageId: '<45223423@example.com>', references: '<45454@example.net>', bytes: 1234, lines: 17,
      xref: 'news.example.com misc.test:3000363', inReplyTo: '<45454@example.net>',
    });
    expect(parseOverRecord(l, 0, l.length)).not.toHaveProperty('inReplyTo');
    const bare = Buffer.from('5\ts');
    expect(parseOverRecord(bare, 0, bare.length, 7)).toStrictEqual({ number: 5, subject: 's', from: '', date: '', messageId: '', references: '', bytes: 0, lines: 0, inReplyTo: '' });
    for (const bad of ['', '\tx', 'x\ty', '123456789012345678901\tx', '9007199254740992\tx']) expect(parseOverRecord(Buffer.from(bad), 0, bad.length)).toBeUndefined();
  });
});

const LINES = [
  '1\tone\tA <a@x>\tMon, 1 Jan 2024 00:00:00 +0000\t<1@x>\t\t120\t3\tXref: h g:1',
  '2\t.starts with a dot\tB\td\t<2@x>\t<1@x>\t50\t1\tXref: h g:2',
  '3\tcaf\u00e9 \u20ac\tC\td\t<3@x>\t\t10\t1',
  'junk line without a number',
  '4\t..\tD\td\t<4@x>\t\t7\t0\tXref: h g:4 g2:9',
];

/** The wire form of an OVER response: status, lines dot-stuffed, some CRLF and one bare LF, terminator. */
function wire(): Buffer {
  const body = LINES.map((l, i) => (l.startsWith('.') ? '.' : '') + l + (i === 2 ? '\n' : '\r\n')).join('');
  return Buffer.concat([Buffer.from('224 overview follows\r\n'), Buffer.from(body, 'utf8'), Buffer.from('.\r\n')]);
}

/** Feeds `chunks` through the response parser into `itemsConsumer(parseOverRecord)`; the records and how many were counted. */
async function collect(chunks: Buffer[], irt = -1): Promise<{ recs: OverRecord[]; counted: number }> {
  let counted = 0;
  const { consumer, result } = itemsConsumer(1024, (b, s, e) => parseOverRecord(b, s, e, irt), () => counted++);
  const parser = new ResponseParser({
    status: (l) => {
      consumer.ok(Number(l.toString('latin1', 0, 3)), l.toString('latin1', 4));
      return true;
    },
    data: (c) => consumer.data!(c),
    end: () => consumer.end(),
  }, 1024);
  for (const c of chunks) {
    parser.feed(c);
    c.fill(0x21); // the parser's caller may reuse its chunk: records must not refer to it
  }
  return { recs: (await result).lines, counted };
}

describe('OVER records through the response parser and line splitter', () => {
  const expected = LINES.map((l) => reference(Buffer.from(l, 'utf8'), -1)).filter((r) => r !== undefined);

  it('are the reference records, one chunk', async () => {
    const { recs, counted } = await collect([Buffer.from(wire())]);
    expect(recs.map((r) => r.number)).toEqual([1, 2, 3, 4]);
    expect(recs[1]!.subject).toBe('.starts with a dot');
    expect(recs[2]!.subject).toBe('caf\u00e9 \u20ac');
    expect(recs).toStrictEqual(expected);
    expect(counted).toBe(4);
  });

  it('are the same whatever byte the response is split at (two and three chunks)', async () => {
    const w = wire();
    for (let i = 0; i <= w.length; i++) {
      const { recs } = await collect([Buffer.from(w.subarray(0, i)), Buffer.from(w.subarray(i))]);
      expect(recs).toStrictEqual(expected);
    }
    for (let i = 0; i <= w.length; i += 3) {
      for (let j = i; j <= w.length; j += 5) {
        const { recs } = await collect([Buffer.from(w.subarray(0, i)), Buffer.from(w.subarray(i, j)), Buffer.from(w.subarray(j))]);
        expect(recs).toStrictEqual(expected);
      }
    }
  });

  it('one byte at a time', async () => {
    const w = wire();
    const { recs } = await collect(Array.from(w, (b) => Buffer.from([b])));
    expect(recs).toStrictEqual(expected);
  });
});
