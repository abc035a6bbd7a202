/**
 * Property test with the generator as oracle: random well-formed MIME trees are
 * serialised to bytes (CRLF or LF), parsed, and every part's body range, type,
 * line count and decoded size must be what the generator put there.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseStructure } from '../../../src/mime/structure.js';
import type { MimePart } from '../../../src/mime/part.js';
import { json, parseSplit } from './helpers.js';

type Gen =
  | { kind: 'leaf'; type: string; enc: '7bit' | 'base64' | 'quoted-printable'; body: string; decoded: number }
  | { kind: 'multipart'; subtype: string; children: Gen[]; preamble: string; epilogue: string }
  | { kind: 'message'; subject: string; inner: Gen };

const textLine = fc.stringMatching(/^x[a-z0-9 .,]{0,30}[a-z]$/);

const leaf: fc.Arbitrary<Gen> = fc.oneof(
  fc.array(textLine, { minLength: 0, maxLength: 4 }).map((ls) => ({ kind: 'leaf' as const, type: 'text/plain', enc: '7bit' as const, body: ls.join('\n'), decoded: -1 })),
  fc.uint8Array({ maxLength: 120 }).map((b) => {
    const body = Buffer.from(b).toString('base64').replace(/.{1,40}/g, '$&\n').replace(/\n$/, '');
    return { kind: 'leaf' as const, type: 'application/octet-stream', enc: 'base64' as const, body, decoded: b.length };
  }),
  fc.array(fc.tuple(textLine, fc.boolean()), { maxLength: 4 }).map((ls) => {
    // "=3D" decodes to one byte, a trailing "=" is a soft break.
    const lines = ls.map(([l, eq]) => (eq ? `${l}=3D` : l));
    const body = lines.join('\n');
    return { kind: 'leaf' as const, type: 'text/html', enc: 'quoted-printable' as const, body, decoded: -2 };
  }),
);

const tree: fc.Arbitrary<Gen> = fc.letrec<{ node: Gen }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({
      kind: fc.constant('multipart' as const),
      subtype: fc.constantFrom('mixed', 'alternative', 'related'),
      children: fc.array(tie('node'), { minLength: 1, maxLength: 3 }),
      preamble: fc.constantFrom('', 'This is a multi-part message in MIME format.'),
      epilogue: fc.constantFrom('', 'epilogue text'),
    }),
    fc.record({ kind: fc.constant('message' as const), subject: textLine, inner: tie('node') }),
  ),
})).node;

/** Serialises the entity (header + body) with LF line ends; boundaries are unique. */
function serialise(g: Gen, counter: { n: number }): string {
  switch (g.kind) {
    case 'leaf':
      return `Content-Type: ${g.type}\nContent-Transfer-Encoding: ${g.enc}\n\n${g.body}`;
    case 'message':
      return `Content-Type: message/rfc822\n\nSubject: ${g.subject}\n${serialise(g.inner, counter)}`;
    case 'multipart': {
      const b = `=_b${counter.n++}_=`;
      let s = `Content-Type: multipart/${g.subtype}; boundary="${b}"\n\n`;
      if (g.preamble) s += `${g.preamble}\n`;
      for (const c of g.children) s += `--${b}\n${serialise(c, counter)}\n`;
      s += `--${b}--`;
      if (g.epilogue) s += `\n${g.epilogue}`;
      return s;
    }
  }
}

function check(g: Gen, p: MimePart, buf: Buffer, eol: string): void {
  switch (g.kind) {
    case 'leaf': {
      expect(`${p.type}/${p.subtype}`).toBe(g.type);
      expect(p.encoding).toBe(g.enc.toUpperCase());
      const body = g.body.replace(/\n/g, eol);
      expect(buf.subarray(p.bodyStart, p.bodyEnd).toString('latin1')).toBe(body);
      expect(p.lines).toBe(body.split('\n').length - 1);
      if (g.enc === 'base64') expect(p.decodedSize).toBe(g.decoded);
      else if (g.enc === '7bit') expect(p.decodedSize).toBe(body.length);
      else expect(p.decodedSize).toBe(body.length - 2 * (body.match(/=3D/g) ?? []).length);
      break;
    }
    case 'message': {
      expect(`${p.type}/${p.subtype}`).toBe('message/rfc822');
      expect(p.message!.envelope.subject!.toString('latin1')).toBe(g.subject);
      expect(p.message!.body.headerStart).toBe(p.bodyStart);
      check(g.inner, p.message!.body, buf, eol);
      break;
    }
    case 'multipart': {
      expect(`${p.type}/${p.subtype}`).toBe(`multipart/${g.subtype}`);
      expect(p.parts).toHaveLength(g.children.length);
      g.children.forEach((c, i) => check(c, p.parts![i]!, buf, eol));
      break;
    }
  }
}

describe('generated well-formed MIME trees', () => {
  it('offsets, types, lines and decoded sizes match the generator; chunking-independent', () => {
    fc.assert(
      fc.property(tree, fc.constantFrom('\r\n', '\n'), fc.array(fc.nat(), { maxLength: 5 }), (g, eol, rawCuts) => {
        const text = `From: gen@example.com\n${serialise(g, { n: 0 })}`.replace(/\n/g, eol);
        const buf = Buffer.from(text, 'latin1');
        const root = parseStructure(buf);
        check(g, root, buf, eol);
        expect(root.bodyEnd).toBe(buf.length);
        const cuts = [...new Set(rawCuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
        expect(json(parseSplit(buf, cuts))).toBe(json(root));
      }),
      { numRuns: 500 },
    );
  });
});
