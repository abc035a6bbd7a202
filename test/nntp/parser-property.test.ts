/**
 * Property: for any article bytes whose lines end in CRLF, dot-stuffing them
 * (as a server does), appending ".\r\n", and feeding the result to the parser
 * in arbitrary chunks gives back exactly the original bytes.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ResponseParser } from '../../src/nntp/parser.js';
import { dotStuff } from './fake-peer.js';

/** Lines of bytes biased towards '.', CR and LF; each line ends with CRLF. */
const articleArb = fc
  .array(
    fc.array(fc.oneof(fc.constantFrom(0x2e, 0x0d, 0x0a, 0x2e, 0x00, 0xff, 0x80), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }),
    { maxLength: 20 },
  )
  .map((lines) =>
    Buffer.concat(
      lines.map((l) => {
        // a line is ended by LF; bytes inside a line may be anything but LF
        const inner = Buffer.from(l.filter((b) => b !== 0x0a));
        return Buffer.concat([inner, Buffer.from('\r\n')]);
      }),
    ),
  );

function parseInChunks(wire: Buffer, cuts: number[]): { body: Buffer; ends: number; statuses: string[] } {
  const parts: Buffer[] = [];
  const statuses: string[] = [];
  let ends = 0;
  const p = new ResponseParser(
    {
      status: (l) => {
        statuses.push(l.toString('latin1'));
        return l.toString('latin1').startsWith('220');
      },
      data: (c) => parts.push(Buffer.from(c)),
      end: () => ends++,
    },
    1000,
  );
  const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
  let prev = 0;
  for (const pt of [...points, wire.length]) {
    p.feed(wire.subarray(prev, pt));
    prev = pt;
  }
  return { body: Buffer.concat(parts), ends, statuses };
}

describe('ResponseParser property', () => {
  it('un-stuffs exactly what dot-stuffing added, at any chunking', () => {
    fc.assert(
      fc.property(articleArb, fc.array(fc.nat(), { maxLength: 8 }), (article, cuts) => {
        const wire = Buffer.concat([
          Buffer.from('220 1 <p@x>\r\n'),
          dotStuff(article),
          Buffer.from('.\r\n223 1 <p@x>\r\n'),
        ]);
        const r = parseInChunks(wire, cuts);
        expect(r.body.equals(article)).toBe(true);
        expect(r.ends).toBe(1);
        expect(r.statuses).toEqual(['220 1 <p@x>', '223 1 <p@x>']);
      }),
      { numRuns: 500 },
    );
  });
});
