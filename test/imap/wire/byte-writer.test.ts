import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../../../src/imap/wire/byte-writer.js';
import { nstring } from '../../../src/imap/wire/encoder.js';

describe('ByteWriter', () => {
  it('uint writes any non-negative integer as String() does, and range copies a slice, growing the buffer', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.nat(), fc.maxSafeNat(), fc.constantFrom(0, 9, 10, 99, 100, 4294967295))), (ns) => {
        const w = new ByteWriter(4);
        for (const n of ns) w.uint(n).ascii(' ');
        expect(w.take().toString('latin1')).toBe(ns.map((n) => `${n} `).join(''));
      }),
    );
    const src = Buffer.from('0123456789abcdef');
    expect(new ByteWriter(2).ascii('<').range(src, 3, 12).ascii('>').range(src, 5, 5).take().toString()).toBe('<3456789ab>');
  });

  it('nstring gives the encoder’s bytes for any octets, in both UTF-8 modes', () => {
    fc.assert(
      fc.property(fc.option(fc.uint8Array({ maxLength: 300 })), fc.boolean(), (arr, utf8) => {
        const b = arr === null ? null : Buffer.from(arr);
        const w = new ByteWriter(4); // tiny start: every write grows the buffer
        w.ascii('(').nstring(b, utf8).ascii(')');
        expect(w.finish()).toEqual(Buffer.concat([Buffer.from('('), nstring(b, { utf8 }), Buffer.from(')')]));
      }),
      { numRuns: 2000 },
    );
  });

  it('quotes, escapes and falls back to literals like RFC 9051 §4.3 says', () => {
    const w = new ByteWriter();
    w.nstring(Buffer.from('a "b" \\c'), false).ascii(' ').nstring(Buffer.from('caf\xc3\xa9', 'latin1'), false).ascii(' ').nstring(Buffer.from('caf\xc3\xa9', 'latin1'), true);
    expect(w.finish().toString('latin1')).toBe('"a \\"b\\" \\\\c" {5}\r\ncaf\xc3\xa9 "caf\xc3\xa9"');
  });

  it('reused after reset (with or without a bound) writes what a fresh writer writes; finished results stay intact', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 5000 }), { maxLength: 12 }), fc.boolean(), (pieces, bounded) => {
        const w = new ByteWriter(16);
        const got = pieces.map((p) => w.reset(bounded ? 1024 : Infinity, 16).ascii('(').nstring(Buffer.from(p), false).ascii(')').finish());
        const want = pieces.map((p) => new ByteWriter().ascii('(').nstring(Buffer.from(p), false).ascii(')').finish());
        expect(got).toEqual(want);
      }),
      { numRuns: 300 },
    );
  });
});
