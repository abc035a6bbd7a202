import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  Base64Decoder,
  QpDecoder,
  decodeHeaderValue,
  decoderFor,
  textForSearch,
  type ChunkDecoder,
} from '../../../src/mime/decode.js';
import { MimeError } from '../../../src/mime/errors.js';

function run(d: ChunkDecoder, chunks: Buffer[]): Buffer {
  return Buffer.concat([...chunks.map((c) => d.update(c)), d.end()]);
}

function splitEvery(b: Buffer, n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += n) out.push(b.subarray(i, i + n));
  return out;
}

describe('base64', () => {
  it('matches Buffer base64 for any bytes, with line breaks, at any chunking', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 17 }), (bytes, n) => {
        const data = Buffer.from(bytes);
        const b64 = data.toString('base64').replace(/.{1,76}/g, '$&\r\n');
        expect(run(new Base64Decoder(), splitEvery(Buffer.from(b64), n)).equals(data)).toBe(true);
      }),
    );
  });

  it('count() equals the length update() would give, for junk input at any chunking', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('A', 'b', '9', '+', '/', '=', '\r\n', '*', '-', '_'), { maxLength: 200 }), fc.integer({ min: 1, max: 9 }), (toks, n) => {
        const b = Buffer.from(toks.join(''));
        const counter = new Base64Decoder();
        const counted = splitEvery(b, n).reduce((acc, c) => acc + counter.count(c), 0) + counter.end().length;
        expect(counted).toBe(run(new Base64Decoder(), [b]).length);
      }),
    );
  });

  it('count() of long chunks (counted two bytes at a time) leaves the state update() would: same length, same bytes after', () => {
    const plain = fc.constantFrom('QUJD', 'A', 'b', '9', '+', '/', '-', '_', '\r\n', '\n', '*', ' ', '\u00e9');
    // '=' seldom: a chunk holding one is counted byte by byte
    const tok = fc.oneof({ arbitrary: plain, weight: 1000 }, { arbitrary: fc.constant('='), weight: 1 });
    fc.assert(
      fc.property(fc.array(tok, { minLength: 30, maxLength: 400, size: 'max' }), fc.integer({ min: 1, max: 300 }), fc.nat(), (toks, n, at) => {
        const b = Buffer.from(toks.join(''), 'latin1');
        const whole = run(new Base64Decoder(), [b]);
        const counter = new Base64Decoder();
        const counted = splitEvery(b, n).reduce((acc, c) => acc + counter.count(c), 0) + counter.end().length;
        expect(counted).toBe(whole.length);
        // counted up to `cut` (odd offsets too), decoded after it: the bytes of the whole decode
        const cut = at % (b.length + 1);
        const d = new Base64Decoder();
        const head = splitEvery(b.subarray(0, cut), n).reduce((acc, c) => acc + d.count(c), 0);
        expect(run(d, [b.subarray(cut)]).equals(whole.subarray(head))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('count() split at every byte, at every alignment of the bytes in memory (words are read aligned), equals update()', () => {
    const text = Buffer.from(`${'QUJDREVG'.repeat(12)}\r\n*${'aGVsbG8-_w'.repeat(9)}\n\u00e9Zm9v\r\n${'YmFy'.repeat(20)}`, 'latin1');
    const whole = run(new Base64Decoder(), [text]).length;
    for (let align = 0; align < 4; align++) {
      const mem = Buffer.alloc(text.length + 8);
      const b = mem.subarray(align, align + text.length);
      text.copy(b);
      for (let cut = 0; cut <= b.length; cut++) {
        const d = new Base64Decoder();
        expect(d.count(b.subarray(0, cut)) + d.count(b.subarray(cut)) + d.end().length).toBe(whole);
      }
    }
  });

  it('count() of a long chunk holding less than the open quantum keeps the characters counted before it', () => {
    const d = new Base64Decoder();
    expect(d.count(Buffer.from('Q'))).toBe(0);
    expect(d.count(Buffer.from(`${'*\r\n'.repeat(30)}U`))).toBe(0); // 91 bytes, one alphabet character
    expect(run(d, [Buffer.from('JD')]).toString()).toBe('ABC');
  });

  it('ignores junk; decodes unpadded tails; resumes after padding', () => {
    expect(run(new Base64Decoder(), [Buffer.from('aGV*sb!G8')]).toString()).toBe('hello');
    expect(run(new Base64Decoder(), [Buffer.from('aGk')]).toString()).toBe('hi');
    expect(run(new Base64Decoder(), [Buffer.from('aGk=aGk=')]).toString()).toBe('hihi');
  });
});

describe('quoted-printable', () => {
  const cases: [string, string][] = [
    ['caf=C3=A9', 'café'],
    ['soft=\r\nbreak', 'softbreak'],
    ['soft=  \r\nbreak with padding', 'softbreak with padding'],
    ['soft=\nLF', 'softLF'],
    ['trailing   \r\nspace', 'trailing\r\nspace'],
    ['lower =c3=a9', 'lower é'],
    ['bad =ZZ and =4', 'bad =ZZ and =4'],
    ['x=3Dy', 'x=y'],
    ['end=', 'end'],
    ['cr\ralone', 'cr\ralone'],
  ];
  for (const [input, want] of cases) {
    it(JSON.stringify(input), () => {
      const inp = Buffer.from(input, 'latin1');
      const ref = run(new QpDecoder(), [inp]);
      expect(ref.toString('utf8')).toBe(want);
      for (let k = 0; k <= inp.length; k++) {
        expect(run(new QpDecoder(), [inp.subarray(0, k), inp.subarray(k)]).equals(ref)).toBe(true);
      }
      expect(run(new QpDecoder(), splitEvery(inp, 1)).equals(ref)).toBe(true);
    });
  }

  it('any input: output independent of chunking', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 1, max: 9 }), (bytes, n) => {
        const b = Buffer.from(bytes);
        expect(run(new QpDecoder(), splitEvery(b, n)).equals(run(new QpDecoder(), [b]))).toBe(true);
      }),
    );
  });
});

describe('decoderFor', () => {
  it('streams base64 through a Transform', async () => {
    const data = Buffer.from('The quick brown fox');
    const enc = Buffer.from(data.toString('base64').replace(/(.{4})/g, '$1\r\n'));
    const out = await buffer(Readable.from(splitEvery(enc, 3)).pipe(decoderFor('Base64')));
    expect(out.equals(data)).toBe(true);
  });

  it('identity for 7bit/8bit/binary/absent', async () => {
    for (const e of ['7bit', '8BIT', 'binary', '', null]) {
      const out = await buffer(Readable.from([Buffer.from('a\r\n'), Buffer.from('\xff', 'latin1')]).pipe(decoderFor(e)));
      expect(out.toString('latin1')).toBe('a\r\n\xff');
    }
  });

  it('unknown encodings throw MimeError UNKNOWN_CTE', () => {
    try {
      decoderFor('x-uuencode');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(MimeError);
      expect((err as MimeError).code).toBe('UNKNOWN_CTE');
    }
  });
});

describe('textForSearch / decodeHeaderValue', () => {
  it('decodes transfer encoding then charset', () => {
    const part = { type: 'text', encoding: 'QUOTED-PRINTABLE', params: [['charset', 'iso-8859-1']] as [string, string][] };
    expect(textForSearch(part, Buffer.from('Gr=FC=DFe'))).toBe('Grüße');
    const b64 = { type: 'text', encoding: 'BASE64', params: [['charset', 'utf-8']] as [string, string][] };
    expect(textForSearch(b64, Buffer.from(Buffer.from('naïve').toString('base64')))).toBe('naïve');
  });

  it('no charset: UTF-8 when valid, else latin-1; unknown CTE: raw bytes', () => {
    const p = { type: 'text', encoding: '8BIT', params: [] };
    expect(textForSearch(p, Buffer.from('ünï'))).toBe('ünï');
    expect(textForSearch(p, Buffer.from('\xfc', 'latin1'))).toBe('ü');
    expect(textForSearch({ type: 'text', encoding: 'X-WEIRD', params: [] }, Buffer.from('raw'))).toBe('raw');
  });

  it('header values: encoded words, raw UTF-8, raw latin-1', () => {
    expect(decodeHeaderValue(Buffer.from('=?iso-8859-1?q?caf=E9?= =?utf-8?b?w6k=?='))).toBe('caféé');
    expect(decodeHeaderValue(Buffer.from('déjà vu'))).toBe('déjà vu');
    expect(decodeHeaderValue(Buffer.from('d\xe9j\xe0', 'latin1'))).toBe('déjà');
    expect(decodeHeaderValue(Buffer.from('=?bogus'))).toBe('=?bogus');
  });
});
