/**
 * mboxrd scanning and unquoting, checked against a small string-based
 * reference reader and split at every byte boundary (STYLE §11).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MboxScanner, MboxFormatError, type MboxEntry } from '../../src/export/archive/scan.js';
import { MboxrdUnquote } from '../../src/export/archive/unquote.js';

/** Reference: split into lines, separators, drop one trailing blank, unquote, CRLF. */
function reference(file: string): { article: string; lines: number; head: string }[] {
  const lines = file.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const msgs: string[][] = [];
  for (const l of lines) {
    if (l.startsWith('From ')) msgs.push([]);
    else if (msgs.length === 0) {
      if (l !== '\n' && l !== '\r\n') throw new Error('not mbox');
    } else msgs[msgs.length - 1]!.push(l);
  }
  return msgs.map((m) => {
    const ls = [...m];
    const last = ls[ls.length - 1];
    if (last === '\n' || last === '\r\n') ls.pop();
    const out = ls.map((l) => {
      let s = /^>+From /.test(l) ? l.slice(1) : l;
      if (s.endsWith('\r\n')) return s;
      if (s.endsWith('\n')) return s.slice(0, -1) + '\r\n';
      return s + '\r\n';
    });
    const blank = out.indexOf('\r\n');
    const head = blank < 0 ? out.join('') + '\r\n' : out.slice(0, blank + 1).join('');
    return { article: out.join(''), lines: blank < 0 ? 0 : out.length - blank - 1, head };
  });
}

function scan(file: Buffer, split: (b: Buffer) => Buffer[]): MboxEntry[] {
  const out: MboxEntry[] = [];
  const s = new MboxScanner(0, (e) => out.push(e));
  for (const c of split(file)) s.push(c);
  s.end();
  return out;
}

async function unquote(chunks: Buffer[]): Promise<Buffer> {
  const t = new MboxrdUnquote();
  const parts: Buffer[] = [];
  t.on('data', (d: Buffer) => parts.push(d));
  const done = new Promise<void>((res, rej) => {
    t.on('end', res);
    t.on('error', rej);
  });
  for (const c of chunks) t.write(c);
  t.end();
  await done;
  return Buffer.concat(parts);
}

const whole = (b: Buffer): Buffer[] => [b];
const bytes = (b: Buffer): Buffer[] => [...b].map((x) => Buffer.from([x]));

const SAMPLE = [
  'From alice@example Mon Jan  1 00:00:00 2024',
  'Subject: first',
  'Message-ID: <1@example>',
  'From: Alice <alice@example>',
  '',
  'hello',
  '>From quoted once',
  '>>From quoted twice',
  '>Fro not a quote',
  '>>>',
  '',
  'From bob@example Mon Jan  1 00:00:01 2024',
  'Subject: second',
  '  continued',
  'Message-ID: <2@example>',
  '',
  'crlf line\r',
  'last',
  '',
  '',
].join('\n');

describe('mboxrd scanner and unquote', () => {
  it('finds messages, undoes one level of quoting and converts LF to CRLF', async () => {
    const file = Buffer.from(SAMPLE, 'latin1');
    const ref = reference(SAMPLE);
    for (const split of [whole, bytes]) {
      const entries = scan(file, split);
      expect(entries.map((e) => e.messageId)).toEqual(['<1@example>', '<2@example>']);
      expect(entries[1]!.subject).toBe('second  continued');
      for (const [i, e] of entries.entries()) {
        const raw = file.subarray(e.start, e.end);
        const out = await unquote(split(raw));
        expect(out.toString('latin1')).toBe(ref[i]!.article);
        expect(e.size).toBe(out.length);
        expect(e.lines).toBe(ref[i]!.lines);
        expect(e.headSize).toBe(ref[i]!.head.length);
      }
    }
    const first = (await unquote([file.subarray(scan(file, whole)[0]!.start, scan(file, whole)[0]!.end)])).toString('latin1');
    expect(first).toContain('\r\nFrom quoted once\r\n>From quoted twice\r\n>Fro not a quote\r\n>>>\r\n');
  });

  it('rejects data that does not start with a From line', () => {
    expect(() => scan(Buffer.from('Subject: x\n\nbody\n'), whole)).toThrow(MboxFormatError);
    expect(scan(Buffer.from('\n\nFrom x\nA: b\n\nc\n'), whole)).toHaveLength(1);
    expect(scan(Buffer.alloc(0), whole)).toHaveLength(0);
  });

  it('a message without header/body separator has headerEnd -1 and head = whole + CRLF', () => {
    const e = scan(Buffer.from('From x\nSubject: only\n'), whole);
    expect(e[0]!.headerEnd).toBe(-1);
    expect(e[0]!.headSize).toBe('Subject: only\r\n\r\n'.length);
  });

  it('agrees with the reference on random mbox text, split at random points', async () => {
    const line = fc.oneof(
      fc.constantFrom('', 'From x', '>From y', '>>From z', '>', '>>Fro', 'From', 'Subject: s', 'Message-ID: <a@b>', '.', '\r'),
      fc.string({ unit: fc.constantFrom('a', '>', 'F', 'r', 'o', 'm', ' ', '\r', ':'), maxLength: 12 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { maxLength: 40 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }),
        async (ls, finalNl, cuts) => {
          const text = 'From first\n' + ls.join('\n') + (finalNl ? '\n' : '');
          const file = Buffer.from(text, 'latin1');
          const split = (b: Buffer): Buffer[] => {
            const out: Buffer[] = [];
            let i = 0;
            let k = 0;
            while (i < b.length) {
              const n = cuts[k++ % cuts.length]!;
              out.push(b.subarray(i, i + n));
              i += n;
            }
            return out;
          };
          const ref = reference(text);
          const entries = scan(file, split);
          expect(entries.length).toBe(ref.length);
          for (const [i, e] of entries.entries()) {
            const out = await unquote(split(file.subarray(e.start, e.end)));
            expect(out.toString('latin1')).toBe(ref[i]!.article);
            expect(e.size).toBe(out.length);
            expect(e.lines).toBe(ref[i]!.lines);
            expect(e.headSize).toBe(ref[i]!.head.length);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
