/**
 * locateSection (src/mime/locate.ts) against the whole parse: generated MIME
 * articles — nested multiparts, message/rfc822 parts, digests, boundaries
 * that are prefixes of one another, missing final or missing boundary
 * parameters, a header without its blank line, lines longer than the
 * parser's probe, CRLF, LF or both — fed to the structure parser in chunks
 * cut at arbitrary points. After every chunk, for every section and every
 * `want`, the locator either declares it cannot decide yet (undefined) or
 * its range gives, for every partial within `want`, the bytes the complete
 * parse's `sectionRange` gives; once the parser has ended it decides every
 * section the whole parse has. locateBinary likewise, for BINARY[part] of
 * parts sent as is, and never for a part to decode.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { StructureParser, parseStructure } from '../../../src/mime/structure.js';
import { locateBinary, locateSection } from '../../../src/mime/locate.js';
import { childrenOf, partAt, sectionRange, type ByteRange, type SectionText } from '../../../src/mime/section.js';
import type { MimePart } from '../../../src/mime/part.js';

type Gen =
  | { kind: 'leaf'; ctype: string | null; enc: string; lines: string[]; noBlank: boolean }
  | { kind: 'multipart'; subtype: string; boundary: string | null; children: Gen[]; preamble: string; epilogue: string; final: boolean }
  | { kind: 'message'; enc: string; subject: string; inner: Gen };

const word = fc.stringMatching(/^[a-z0-9 .,=-]{0,12}$/);
const line = fc.oneof(
  { weight: 6, arbitrary: word },
  { weight: 1, arbitrary: fc.constantFrom('--b', '--bb', '--b1--', '--', '-', '--b--x') }, // look like delimiters
  { weight: 1, arbitrary: fc.nat({ max: 1500 }).map((n) => 'y'.repeat(n)) }, // past LINE_PROBE
);

const leaf: fc.Arbitrary<Gen> = fc.record({
  kind: fc.constant('leaf' as const),
  ctype: fc.constantFrom(null, 'text/plain', 'application/octet-stream', 'message/rfc822', 'image/png; name="a.png"', 'bogus'),
  enc: fc.constantFrom('7bit', 'base64', 'quoted-printable'),
  lines: fc.array(line, { maxLength: 5 }),
  noBlank: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

const tree: fc.Arbitrary<Gen> = fc.letrec<{ node: Gen }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({
      kind: fc.constant('multipart' as const),
      subtype: fc.constantFrom('mixed', 'alternative', 'digest'),
      boundary: fc.constantFrom('b', 'bb', 'b1', 'b', 'bb', null),
      children: fc.array(tie('node'), { minLength: 0, maxLength: 3 }),
      preamble: fc.constantFrom('', 'preamble', '--x'),
      epilogue: fc.constantFrom('', 'epilogue'),
      final: fc.boolean(),
    }),
    fc.record({ kind: fc.constant('message' as const), enc: fc.constantFrom('7bit', '7bit', 'base64'), subject: word, inner: tie('node') }),
  ),
})).node;

/** An entity (MIME header, blank line, body) with LF line ends. */
function serialise(g: Gen): string {
  switch (g.kind) {
    case 'leaf': {
      const ct = g.ctype === null ? '' : `Content-Type: ${g.ctype}\n`;
      return `${ct}Content-Transfer-Encoding: ${g.enc}\n${g.noBlank ? '' : '\n'}${g.lines.join('\n')}`;
    }
    case 'message':
      return `Content-Type: message/rfc822\nContent-Transfer-Encoding: ${g.enc}\n\nSubject: ${g.subject}\n${serialise(g.inner)}`;
    case 'multipart': {
      const b = g.boundary ?? 'b';
      let s = `Content-Type: multipart/${g.subtype}${g.boundary === null ? '' : `; boundary="${b}"`}\n\n`;
      if (g.preamble) s += `${g.preamble}\n`;
      for (const c of g.children) s += `--${b}\n${serialise(c)}\n`;
      if (g.final) s += `--${b}--`;
      if (g.epilogue) s += `\n${g.epilogue}`;
      return s;
    }
  }
}

/** Every section path of the finished tree, plus a few that name nothing. */
function pathsOf(root: MimePart): number[][] {
  const out: number[][] = [];
  const walk = (p: MimePart, path: number[], isRoot: boolean): void => {
    const kids = childrenOf(p, isRoot);
    if (path.length > 6) return;
    kids.forEach((k, i) => {
      out.push([...path, i + 1]);
      if (k !== p) walk(k, [...path, i + 1], false);
      else if (k.message !== undefined) walk(k, [...path, i + 1], false);
    });
    out.push([...path, kids.length + 1]);
  };
  walk(root, [], true);
  out.push([0], [1, 0]);
  return out;
}

const TEXTS: SectionText[] = ['', 'MIME', 'HEADER', 'TEXT'];
const WANTS = [0, 1, 7, 60, 700, Infinity];

function truth(root: MimePart, path: number[], text: SectionText): ByteRange | 'error' {
  try {
    return sectionRange(root, path, text);
  } catch {
    return 'error';
  }
}

/** IMAP's <origin.length> clip (src/imap/fetch/body.ts `clip`). */
function clip(r: ByteRange, origin: number, length: number): [number, number] {
  const s = Math.min(r.start + origin, r.end);
  return [s, Math.min(s + length, r.end)];
}

/** Checks every section's answer at one point of the parse; returns how many were decided. */
function checkAt(p: StructureParser, whole: MimePart, paths: number[][]): number {
  const at = p.progress();
  let decided = 0;
  for (const path of paths) {
    for (const text of TEXTS) {
      const want0 = truth(whole, path, text);
      for (const want of WANTS) {
        const got = locateSection(at, path, text, want);
        if (got === undefined) continue;
        decided++;
        expect(want0, `${path.join('.')}.${text} want ${want}: an error, located`).not.toBe('error');
        const t = want0 as ByteRange;
        expect(got.start, `${path.join('.')}.${text} start`).toBe(t.start);
        expect(got.end, `${path.join('.')}.${text} end within the section`).toBeLessThanOrEqual(t.end);
        if (got.end !== t.end) expect(got.end - got.start).toBeGreaterThanOrEqual(want);
        for (const [o, l] of [[0, want], [Math.floor(want / 2), want - Math.floor(want / 2)], [want, 0]] as const) {
          if (!Number.isFinite(want)) continue;
          expect(clip(got, o, l)).toEqual(clip(t, o, l));
        }
      }
    }
  }
  for (const path of paths) decided += checkBinaryAt(at, whole, path);
  return decided;
}

/** BINARY[path] of the whole parse when it is sent as is (identity transfer encoding), else undefined. */
function binaryTruth(root: MimePart, path: number[]): ByteRange | undefined {
  let p: MimePart;
  try {
    p = partAt(root, path);
  } catch {
    return undefined;
  }
  const enc = p.encoding.toUpperCase();
  return enc === '7BIT' || enc === '8BIT' || enc === 'BINARY' ? { start: p.bodyStart, end: p.bodyEnd } : undefined;
}

/** locateBinary at one point: undefined, or the whole parse's octets for every partial within `want`; never for a part to decode. */
function checkBinaryAt(at: ReturnType<StructureParser['progress']>, whole: MimePart, path: number[]): number {
  const t = binaryTruth(whole, path);
  let decided = 0;
  for (const want of WANTS) {
    const got = locateBinary(at, path, want);
    if (got === undefined) continue;
    decided++;
    expect(t, `BINARY[${path.join('.')}] want ${want}: located, but the whole parse decodes it or has no such part`).toBeDefined();
    expect(got.start).toBe(t!.start);
    expect(got.end).toBeLessThanOrEqual(t!.end);
    if (got.end !== t!.end) expect(got.end - got.start).toBeGreaterThanOrEqual(want);
    if (Number.isFinite(want)) expect(clip(got, 0, want)).toEqual(clip(t!, 0, want));
  }
  return decided;
}

const article = fc.tuple(tree, fc.constantFrom('crlf', 'lf', 'mixed'), fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }));

function bytesOf(g: Gen, mode: string, coin: boolean[]): Buffer {
  let i = 0;
  const text = `From: gen@example.com\nSubject: t\n${serialise(g)}`.replace(/\n/g, () => (mode === 'lf' ? '\n' : mode === 'crlf' ? '\r\n' : coin[i++ % coin.length] ? '\r\n' : '\n'));
  return Buffer.from(text, 'latin1');
}

describe('locateSection over a growing prefix', () => {
  it('equals the whole parse for every section and partial, or cannot decide yet', () => {
    fc.assert(
      fc.property(article, fc.array(fc.nat(), { maxLength: 24 }), ([g, mode, coin], rawCuts) => {
        const buf = bytesOf(g, mode, coin);
        const whole = parseStructure(buf);
        const paths = pathsOf(whole);
        const cuts = [...new Set(rawCuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
        const p = new StructureParser();
        let prev = 0;
        for (const c of [...cuts, buf.length]) {
          p.push(buf.subarray(prev, c));
          prev = c;
          checkAt(p, whole, paths);
        }
        p.end();
        checkAt(p, whole, paths);
        // finished: every section the whole parse has is decided, whole
        for (const path of paths) {
          for (const text of TEXTS) {
            const t = truth(whole, path, text);
            if (t !== 'error') expect(locateSection(p.progress(), path, text, Infinity)).toEqual(t);
          }
          expect(locateBinary(p.progress(), path, Infinity)).toEqual(binaryTruth(whole, path));
        }
      }),
      { numRuns: 400 },
    );
  });

  it('byte by byte: the same, every octet', () => {
    fc.assert(
      fc.property(article, ([g, mode, coin]) => {
        const buf = bytesOf(g, mode, coin);
        if (buf.length > 1000) return;
        const whole = parseStructure(buf);
        const paths = pathsOf(whole);
        const p = new StructureParser();
        for (let i = 0; i < buf.length; i++) {
          p.push(buf.subarray(i, i + 1));
          checkAt(p, whole, paths);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('answers a partial of a long attachment from a short prefix, and a short part once it has ended', () => {
    const head = 'From: a@example.com\r\nSubject: big\r\nContent-Type: multipart/mixed; boundary="XX"\r\n\r\n';
    const part1 = '--XX\r\nContent-Type: text/plain\r\n\r\nhello\r\n';
    const part2 = '--XX\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n';
    const line = 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n';
    const prefix = Buffer.from(head + part1 + part2 + line.repeat(30), 'latin1');
    const whole = Buffer.concat([prefix, Buffer.from(line.repeat(1000) + '--XX--\r\n', 'latin1')]);
    const p = new StructureParser();
    p.push(prefix.subarray(0, 100));
    expect(locateSection(p.progress(), [2], '', 1024)).toBeUndefined(); // part 2 not begun
    p.push(prefix.subarray(100));
    const got = locateSection(p.progress(), [2], '', 1024)!;
    const truthRange = sectionRange(parseStructure(whole), [2], '');
    expect(got.start).toBe(truthRange.start);
    expect(got.end - got.start).toBeGreaterThanOrEqual(1024);
    expect(whole.subarray(got.start, got.start + 1024)).toEqual(whole.subarray(truthRange.start, truthRange.start + 1024));
    expect(locateSection(p.progress(), [2], '', Infinity)).toBeUndefined(); // its end is not in
    expect(locateSection(p.progress(), [1], '', Infinity)).toEqual(sectionRange(parseStructure(whole), [1], ''));
    expect(locateSection(p.progress(), [2], 'MIME', Infinity)).toEqual(sectionRange(parseStructure(whole), [2], 'MIME'));
    expect(locateSection(p.progress(), [3], '', 10)).toBeUndefined(); // may come yet
    expect(locateBinary(p.progress(), [2], 10)).toBeUndefined(); // base64: its decoded length waits for its end
    expect(locateBinary(p.progress(), [1], 10)).toEqual(sectionRange(parseStructure(whole), [1], '')); // no CTE: 7bit
  });
});
