import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CommandFramer, type ContinuationDecision, type FramedItem } from '../../../src/imap/wire/framer.js';
import { Decoder } from '../../../src/imap/wire/decoder.js';
import { ParseError } from '../../../src/imap/wire/errors.js';
import { parseSearch } from '../../../src/imap/wire/search-key.js';
import { parseFetchItems } from '../../../src/imap/wire/fetch-att.js';
import { MAX_LINE_LENGTH, MAX_LITERAL_SIZE, MAX_NONSYNC_LITERAL_SIZE, MAX_SKIPPED_LITERAL_SIZE, MAX_COMMAND_SIZE } from '../../../src/imap/limits.js';
import { CORPUS, decodeCommand } from './corpus.js';

function framer(decide: (size: number) => ContinuationDecision = () => 'accept') {
  const asked: number[] = [];
  const f = new CommandFramer({
    onContinuationNeeded: (size) => {
      asked.push(size);
      return decide(size);
    },
  });
  return { f, asked };
}

const cmdTexts = (items: FramedItem[]): string[] =>
  items.map((i) => (i.kind === 'command' ? i.parts.map((p) => p.toString('latin1')).join('|') : `ERR ${i.tag ?? '*'} ${i.status} ${i.code ?? ''}`));

describe('CommandFramer: hostile input', () => {
  it('refuses a 100 MB synchronizing literal before any continuation, then frames the next command', () => {
    const { f, asked } = framer();
    const items = f.push(Buffer.from('a1 APPEND INBOX {104857600}\r\na2 NOOP\r\n'));
    expect(asked).toEqual([]);
    expect(cmdTexts(items)).toEqual(['ERR a1 BAD TOOBIG', 'a2 NOOP']);
  });

  it('refuses a literal just over MAX_LITERAL_SIZE but asks for one at the limit', () => {
    const over = framer();
    expect(cmdTexts(over.f.push(Buffer.from(`a1 LOGIN {${MAX_LITERAL_SIZE + 1}}\r\n`)))).toEqual(['ERR a1 BAD TOOBIG']);
    const at = framer();
    expect(at.f.push(Buffer.from(`a1 LOGIN {${MAX_LITERAL_SIZE}}\r\n`))).toEqual([]);
    expect(at.asked).toEqual([MAX_LITERAL_SIZE]);
  });

  it('passes a rejection chosen by the connection through as an error item and resyncs', () => {
    const { f } = framer(() => ({ reject: 'NO', code: 'CANNOT', text: 'read-only' }));
    const items = f.push(Buffer.from('a1 APPEND INBOX {10}\r\na2 NOOP\r\n'));
    expect(items[0]).toEqual({ kind: 'error', tag: 'a1', status: 'NO', code: 'CANNOT', text: 'read-only', fatal: false });
    expect(cmdTexts(items.slice(1))).toEqual(['a2 NOOP']);
  });

  it('skips an oversized non-synchronizing literal without buffering it', () => {
    const { f } = framer();
    const n = MAX_NONSYNC_LITERAL_SIZE + 1;
    const items: FramedItem[] = [...f.push(Buffer.from(`a1 LOGIN {${n}+}\r\n`))];
    let maxBuffered = 0;
    for (let i = 0; i < n; i += 1000) {
      items.push(...f.push(Buffer.alloc(Math.min(1000, n - i), 0x41)));
      maxBuffered = Math.max(maxBuffered, f.buffered);
    }
    items.push(...f.push(Buffer.from(' rest {3+}\r\nabc more\r\na2 NOOP\r\n')));
    expect(maxBuffered).toBe(0);
    expect(cmdTexts(items)).toEqual(['ERR a1 BAD TOOBIG', 'a2 NOOP']);
  });

  it('gives up with a fatal BYE on a non-synchronizing literal too large even to skip', () => {
    const { f } = framer();
    const items = f.push(Buffer.from(`a1 LOGIN {${MAX_SKIPPED_LITERAL_SIZE + 1}+}\r\na2 NOOP\r\n`));
    expect(items.map((i) => (i.kind === 'error' ? [i.status, i.fatal] : 'cmd'))).toEqual([['BAD', false], ['BYE', true]]);
    expect(f.push(Buffer.from('a3 NOOP\r\n'))).toEqual([]);
  });

  it('answers a 1 MB line with BAD, buffers at most MAX_LINE_LENGTH, and frames the next command', () => {
    const { f } = framer();
    const items: FramedItem[] = [...f.push(Buffer.from('x99 SEARCH TEXT '))];
    let maxBuffered = 0;
    const chunk = Buffer.alloc(16 * 1024, 0x61);
    for (let i = 0; i < 64; i++) {
      items.push(...f.push(chunk));
      maxBuffered = Math.max(maxBuffered, f.buffered);
    }
    items.push(...f.push(Buffer.from('\r\nx100 NOOP\r\n')));
    expect(maxBuffered).toBeLessThanOrEqual(MAX_LINE_LENGTH);
    expect(cmdTexts(items)).toEqual(['ERR x99 BAD ', 'x100 NOOP']);
  });

  it('answers an overlong line after a literal with the tag of the command', () => {
    const { f } = framer();
    const items = f.push(Buffer.from(`a1 LOGIN {1+}\r\nx ${'p'.repeat(MAX_LINE_LENGTH + 1)}\r\na2 NOOP\r\n`));
    expect(cmdTexts(items)).toEqual(['ERR a1 BAD ', 'a2 NOOP']);
  });

  it('follows {n+} announcements at the end of a skipped overlong line', () => {
    const { f } = framer();
    const long = 'a'.repeat(MAX_LINE_LENGTH + 10);
    const items = f.push(Buffer.from(`t1 SEARCH TEXT ${long} {5+}\r\na2 NO b\r\nt2 NOOP\r\n`));
    // the 5 literal bytes "a2 NO" must not be taken for a command
    expect(cmdTexts(items)).toEqual(['ERR t1 BAD ', 't2 NOOP']);
  });

  it('has no tag to answer when the first word is not a tag', () => {
    const { f } = framer();
    const items = f.push(Buffer.from('{'.repeat(MAX_LINE_LENGTH + 1) + '\r\n'));
    expect(items).toEqual([expect.objectContaining({ kind: 'error', tag: undefined, status: 'BAD' })]);
  });

  it('refuses a command whose lines and literals together exceed MAX_COMMAND_SIZE', () => {
    const { f } = framer();
    const lit = 60_000;
    let wire = 'a1 SEARCH';
    let sent = 0;
    while (sent <= MAX_COMMAND_SIZE) {
      wire += ` TEXT {${lit}+}\r\n` + 'z'.repeat(lit);
      sent += lit;
    }
    const items = f.push(Buffer.from(wire + '\r\na2 NOOP\r\n'));
    expect(cmdTexts(items)).toEqual(['ERR a1 BAD TOOBIG', 'a2 NOOP']);
  });

  it('accepts bare LF line ends and ignores empty lines', () => {
    const { f } = framer();
    expect(cmdTexts(f.push(Buffer.from('\n\r\na1 LOGIN {1+}\nx y\na2 NOOP\n')))).toEqual(['a1 LOGIN {1+}|x| y', 'a2 NOOP']);
  });

  it('rejects NUL bytes in a command line (ParseError) but keeps framing', () => {
    const { f } = framer();
    const items = f.push(Buffer.from('a1 LOGIN al\0ice pw\r\na2 NOOP\r\n'));
    expect(items).toHaveLength(2);
    expect(decodeCommand(items[0] as any)).toEqual({ error: expect.stringMatching(/expected/) });
    expect(decodeCommand(items[1] as any)).toMatchObject({ ok: { name: 'NOOP' } });
  });

  it('rejects a NUL byte in a plain literal', () => {
    const { f } = framer();
    const [cmd] = f.push(Buffer.from('a1 LOGIN {3+}\r\na\0b pw\r\n'));
    expect(decodeCommand(cmd as any)).toEqual({ error: expect.stringMatching(/literal without NUL/) });
  });

  it('stops 10,000-deep parentheses with ParseError, not a stack overflow', () => {
    const deep = '('.repeat(10_000) + 'ALL' + ')'.repeat(10_000);
    const d = Decoder.ofText(` ${deep}`);
    expect(() => parseSearch(d)).toThrow(ParseError);
    const nots = Decoder.ofText(' ' + 'NOT '.repeat(10_000) + 'ALL');
    expect(() => parseSearch(nots)).toThrow(/nesting at most/);
    const ors = Decoder.ofText(' ' + 'OR ALL '.repeat(10_000) + 'ALL');
    expect(() => parseSearch(ors)).toThrow(/nesting at most/);
    const fetch = Decoder.ofText('('.repeat(10_000));
    expect(() => parseFetchItems(fetch)).toThrow(ParseError);
  });

  it('never throws on binary garbage; decoding garbage throws only ParseError', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
        const { f } = framer((size) => (size % 2 ? 'accept' : { reject: 'BAD', text: 'no' }));
        for (const c of chunks) {
          for (const item of f.push(Buffer.from(c))) {
            if (item.kind !== 'command') continue;
            const r = decodeCommand(item) as { error?: string };
            // decodeCommand converts thrown errors to {error}; check they were ParseErrors
            if (r.error !== undefined) expect(r.error).toMatch(/^expected /);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('frames mutated corpus commands the same whatever the chunking, and decodes them to ParseError at worst', () => {
    const corpus = Buffer.from(CORPUS.join(''), 'latin1');
    const mutated = fc
      .array(fc.record({ at: fc.nat({ max: corpus.length - 1 }), byte: fc.constantFrom(0x7b, 0x7d, 0x2b, 0x7e, 0x0a, 0x0d, 0x28, 0x29, 0x22, 0x5c, 0x20, 0x00, 0x39, 0xff) }), { maxLength: 8 })
      .map((muts) => {
        const b = Buffer.from(corpus);
        for (const m of muts) b[m.at] = m.byte;
        return b;
      });
    const run = (bytes: Buffer, cuts: number[]): unknown[] => {
      const { f } = framer((size) => (size % 3 === 0 ? { reject: 'NO', text: 'no' } : 'accept'));
      const out: unknown[] = [];
      let prev = 0;
      for (const c of [...cuts.sort((a, b) => a - b), bytes.length]) {
        for (const item of f.push(bytes.subarray(prev, c))) out.push(item.kind === 'command' ? decodeCommand(item) : item);
        prev = c;
      }
      return out;
    };
    fc.assert(
      fc.property(mutated, fc.array(fc.nat({ max: corpus.length }), { maxLength: 30 }), (bytes, cuts) => {
        const whole = run(bytes, []);
        expect(run(bytes, cuts)).toEqual(whole);
        for (const r of whole as Array<{ error?: string }>) if (typeof r.error === 'string') expect(r.error).toMatch(/^expected /);
      }),
      { numRuns: 200 },
    );
  });
});
