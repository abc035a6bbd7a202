import { describe, expect, it } from 'vitest';
import { ResponseParser, type ResponseSink } from '../../src/nntp/parser.js';
import { LineSplitter } from '../../src/nntp/lines.js';
import { NntpError } from '../../src/nntp/errors.js';

type Ev = { status: string } | { data: Buffer } | { end: true };

/** Codes followed by a data block in these tests. */
const DATA_CODES = new Set(['220', '221', '222', '224', '215', '101']);

function run(chunks: Buffer[], max = 1024): Ev[] {
  const evs: Ev[] = [];
  const sink: ResponseSink = {
    status: (line) => {
      evs.push({ status: line.toString('latin1') });
      return DATA_CODES.has(line.toString('latin1').slice(0, 3));
    },
    data: (c) => {
      // merge consecutive data events: splitting may change their number, not their bytes
      const last = evs[evs.length - 1];
      if (last && 'data' in last) last.data = Buffer.concat([last.data, c]);
      else evs.push({ data: Buffer.from(c) });
    },
    end: () => evs.push({ end: true }),
  };
  const p = new ResponseParser(sink, max);
  for (const c of chunks) expect(p.feed(c)).toBeUndefined();
  return evs;
}

const b = (s: string) => Buffer.from(s, 'latin1');

/** Each case: wire bytes and the events a correct parser must produce (written by hand). */
const CASES: Array<{ name: string; wire: Buffer; expected: Ev[] }> = [
  { name: 'status only', wire: b('211 3 1 3 misc.test\r\n'), expected: [{ status: '211 3 1 3 misc.test' }] },
  {
    name: 'two pipelined status lines',
    wire: b('211 3 1 3 a\r\n423 no\r\n'),
    expected: [{ status: '211 3 1 3 a' }, { status: '423 no' }],
  },
  {
    name: 'article with stuffed lines',
    wire: b('220 1 <a@b>\r\nSubject: x\r\n\r\n..hidden\r\n...two\r\nend\r\n.\r\n'),
    expected: [{ status: '220 1 <a@b>' }, { data: b('Subject: x\r\n\r\n.hidden\r\n..two\r\nend\r\n') }, { end: true }],
  },
  {
    name: 'a line that is a lone dot in the text (stuffed to "..")',
    wire: b('222 1 <a@b>\r\nbefore\r\n..\r\nafter\r\n.\r\n'),
    expected: [{ status: '222 1 <a@b>' }, { data: b('before\r\n.\r\nafter\r\n') }, { end: true }],
  },
  { name: 'empty body', wire: b('222 1 <a@b>\r\n.\r\n'), expected: [{ status: '222 1 <a@b>' }, { end: true }] },
  {
    name: '8-bit bytes',
    wire: Buffer.concat([b('220 2 <c@d>\r\n'), Buffer.from([0x80, 0xff, 0xc3, 0x28, 0x0d, 0x0a]), b('.\r\n')]),
    expected: [{ status: '220 2 <c@d>' }, { data: Buffer.from([0x80, 0xff, 0xc3, 0x28, 0x0d, 0x0a]) }, { end: true }],
  },
  {
    name: 'CR without LF inside lines, dot CR without LF',
    wire: b('220 3 <e@f>\r\na\rb\r\n.\rx\r\n\r\r\n.\r\n'),
    expected: [{ status: '220 3 <e@f>' }, { data: b('a\rb\r\n\rx\r\n\r\r\n') }, { end: true }],
  },
  {
    name: 'data then pipelined status then data',
    wire: b('224 ov\r\n1\tS\r\n.\r\n211 1 1 1 g\r\n215 list\r\n..x 1 1 y\r\n.\r\n'),
    expected: [
      { status: '224 ov' },
      { data: b('1\tS\r\n') },
      { end: true },
      { status: '211 1 1 1 g' },
      { status: '215 list' },
      { data: b('.x 1 1 y\r\n') },
      { end: true },
    ],
  },
  {
    name: 'status line ending in bare LF',
    wire: b('200 hello\n'),
    expected: [{ status: '200 hello' }],
  },
];

describe('ResponseParser', () => {
  for (const c of CASES) {
    it(`${c.name}: whole input`, () => {
      expect(run([c.wire])).toEqual(c.expected);
    });
    it(`${c.name}: split at every byte boundary`, () => {
      for (let i = 1; i < c.wire.length; i++) {
        expect(run([c.wire.subarray(0, i), c.wire.subarray(i)]), `split at ${i}`).toEqual(c.expected);
      }
    });
    it(`${c.name}: one byte at a time and every 3-way split`, () => {
      const bytes = [...c.wire].map((x) => Buffer.from([x]));
      expect(run(bytes)).toEqual(c.expected);
      for (let i = 1; i < c.wire.length; i++)
        for (let j = i + 1; j < c.wire.length; j++)
          expect(run([c.wire.subarray(0, i), c.wire.subarray(i, j), c.wire.subarray(j)])).toEqual(c.expected);
    });
  }

  it('all cases concatenated, split at every boundary', () => {
    const wire = Buffer.concat(CASES.map((c) => c.wire));
    const expected = CASES.flatMap((c) => c.expected);
    const whole = run([wire]);
    expect(whole).toEqual(mergeData(expected));
    for (let i = 1; i < wire.length; i++) expect(run([wire.subarray(0, i), wire.subarray(i)])).toEqual(whole);
  });

  it('throws PROTOCOL on a status line over the limit, even without LF', () => {
    const p = new ResponseParser({ status: () => false, data: () => {}, end: () => {} }, 16);
    expect(() => p.feed(b('200 ' + 'x'.repeat(40)))).toThrow(NntpError);
    const q = new ResponseParser({ status: () => false, data: () => {}, end: () => {} }, 16);
    try {
      q.feed(b('200 ' + 'x'.repeat(10)));
      q.feed(b('y'.repeat(10) + '\r\n'));
      expect.unreachable();
    } catch (e) {
      expect((e as NntpError).code).toBe('PROTOCOL');
    }
  });

  it('does not limit data lines (articles are streamed)', () => {
    const long = 'z'.repeat(5000);
    expect(run([b(`220 1 <a@b>\r\n${long}\r\n.\r\n`)], 64)).toEqual([
      { status: '220 1 <a@b>' },
      { data: b(`${long}\r\n`) },
      { end: true },
    ]);
  });

  it('halt() returns the unconsumed remainder', () => {
    let p!: ResponseParser;
    const seen: string[] = [];
    p = new ResponseParser(
      {
        status: (l) => {
          seen.push(l.toString());
          p.halt();
          return false;
        },
        data: () => {},
        end: () => {},
      },
      100,
    );
    const rest = p.feed(b('206 ok\r\n\x01\x02binary'));
    expect(seen).toEqual(['206 ok']);
    expect(rest).toEqual(b('\x01\x02binary'));
  });

  it('a large data block passes through in few slices (no per-line copies)', () => {
    const lines = Array.from({ length: 10000 }, (_, i) => `line ${i}\r\n`).join('');
    let slices = 0;
    const p = new ResponseParser({ status: () => true, data: () => slices++, end: () => {} }, 100);
    p.feed(b(`220 1 <a@b>\r\n${lines}.\r\n`));
    expect(slices).toBe(1);
  });
});

function mergeData(evs: Ev[]): Ev[] {
  const out: Ev[] = [];
  for (const e of evs) {
    const last = out[out.length - 1];
    if ('data' in e && last && 'data' in last) last.data = Buffer.concat([last.data, e.data]);
    else out.push('data' in e ? { data: Buffer.from(e.data) } : e);
  }
  return out;
}

describe('LineSplitter', () => {
  it('splits on LF, strips one CR, keeps other bytes, at every boundary', () => {
    const wire = b('a\tb\r\n\r\nc\rd\r\n\xff\xfe\n');
    const expected = ['a\tb', '', 'c\rd', '\xff\xfe'];
    for (let i = 0; i <= wire.length; i++) {
      const got: string[] = [];
      const s = new LineSplitter((buf, start, end) => got.push(buf.toString('latin1', start, end)), 100);
      s.push(wire.subarray(0, i));
      s.push(wire.subarray(i));
      s.end();
      expect(got).toEqual(expected);
    }
  });

  it('counts the limit with the CR, in one chunk and across chunks', () => {
    for (const [wire, ok] of [['123\r\n', true], ['1234\r\n', false]] as const) {
      for (let i = 0; i <= wire.length; i++) {
        const got: string[] = [];
        const s = new LineSplitter((buf, start, end) => got.push(buf.toString('latin1', start, end)), 4);
        const feed = (): void => {
          s.push(b(wire.slice(0, i)));
          s.push(b(wire.slice(i)));
        };
        if (ok) {
          feed();
          expect(got).toEqual([wire.slice(0, -2)]);
        } else expect(feed).toThrow(/longer than 4/);
      }
    }
  });

  it('throws PROTOCOL for a line over the limit across chunks', () => {
    const s = new LineSplitter(() => {}, 8);
    s.push(b('12345'));
    expect(() => s.push(b('67890'))).toThrow(/longer than 8/);
  });
});
