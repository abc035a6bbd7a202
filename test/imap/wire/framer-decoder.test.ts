import { describe, expect, it } from 'vitest';
import { CommandFramer, type FramedItem } from '../../../src/imap/wire/framer.js';
import { CORPUS, decodeCommand } from './corpus.js';

function frame(chunks: Buffer[]): { items: FramedItem[]; continuations: number[] } {
  const continuations: number[] = [];
  const f = new CommandFramer({
    onContinuationNeeded: (size) => {
      continuations.push(size);
      return 'accept';
    },
  });
  const items: FramedItem[] = [];
  for (const c of chunks) items.push(...f.push(c));
  expect(f.idle).toBe(true);
  return { items, continuations };
}

const decodeAll = (items: FramedItem[]): unknown[] => items.map((it) => (it.kind === 'command' ? decodeCommand(it) : it));

describe('framer + decoder over the command corpus', () => {
  const all = Buffer.from(CORPUS.join(''), 'latin1');
  const whole = frame([all]);
  const reference = decodeAll(whole.items);

  const isA41 = (r: unknown, i: number): boolean => whole.items[i]!.kind === 'command' && (whole.items[i] as any).tag === 'a41';

  it('frames every corpus command (the empty line is ignored) and decodes all but a41', () => {
    expect(whole.items).toHaveLength(CORPUS.length - 1);
    reference.forEach((r, i) => expect(r).toHaveProperty(isA41(r, i) ? 'error' : 'ok'));
  });

  it('refuses literal8 where a plain string is expected (a41: SEARCH TEXT ~{3})', () => {
    const i = whole.items.findIndex((it) => it.kind === 'command' && it.tag === 'a41');
    expect(reference[i]).toEqual({ error: 'expected end of command at offset 17' }); // "~" is read as an atom, then "{" cannot follow
  });

  it('asks for a continuation for each synchronizing literal only', () => {
    // {5}+{9} (a4), {14} (a17), {5} (a30), ~{3} (a41); {5+},{6+},{23+} need none
    expect(whole.continuations).toEqual([5, 9, 14, 5, 3]);
  });

  it('gives identical results when the stream is fed one byte at a time', () => {
    const bytes = [...all].map((b) => Buffer.from([b]));
    const r = frame(bytes);
    expect(decodeAll(r.items)).toEqual(reference);
    expect(r.continuations).toEqual(whole.continuations);
  });

  it('gives identical results for every single split point of every command', () => {
    for (const cmd of CORPUS) {
      const buf = Buffer.from(cmd, 'latin1');
      const ref = decodeAll(frame([buf]).items);
      for (let i = 1; i < buf.length; i++) {
        const got = decodeAll(frame([buf.subarray(0, i), buf.subarray(i)]).items);
        if (JSON.stringify(got) !== JSON.stringify(ref)) expect({ cmd, split: i, got }).toEqual({ cmd, split: i, got: ref });
      }
    }
  });

  it('decodes the values the commands carry', () => {
    const byTag = new Map<string, any>();
    for (const r of reference as Array<{ ok: any }>) if (r.ok?.tag) byTag.set(r.ok.tag, r.ok);
    expect(byTag.get('a3').args).toEqual(['alice', 's3cr"et\\']);
    expect(byTag.get('a4').args).toEqual(['alice', 'pass word']);
    expect(byTag.get('a5').args).toEqual(['alice', 'secret']);
    expect(byTag.get('a6').args).toEqual(['PLAIN', 'AGFsaWNlAHNlY3JldA==']);
    expect(byTag.get('AGFsaWNlAHNlY3JldA==')).toBeUndefined(); // a SASL line has no command name
    expect(byTag.get('a14').args).toEqual(['INBOX']);
    expect(byTag.get('a16').args).toEqual(['de.alt.Ärger', 'QRESYNC', 67890007, Number.MAX_SAFE_INTEGER /* 20050715194045000 saturates */, '41,43:211,214:541']);
    expect(byTag.get('a20').args[0]).toBe('1,3:5,7:*');
    expect(byTag.get('a20').args[1].macro).toBe('ALL');
    expect(byTag.get('a23').args[1]).toMatchObject({ changedSince: 12345, vanished: true });
    expect(byTag.get('a22').args[1].items[3].name).toBe('BODY[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID References)]');
    expect(byTag.get('a24').args[1].items.map((i: any) => i.name)).toEqual(['BODY[1.2.MIME]', 'BODY[1.TEXT]<0>', 'BINARY[2]<100>', 'BINARY.SIZE[2]']);
    expect(byTag.get('a30').args[0]).toMatchObject({ charset: 'UTF-8', key: { type: 'header', field: 'subject', value: 'été' } });
    expect(byTag.get('a31').args[0].key).toEqual({ type: 'modseq', modseq: 620162338, entry: { flag: '\\draft', kind: 'all' } });
    expect(byTag.get('a36').args).toEqual(['1:3', '+FLAGS.SILENT', ['\\Seen', '\\Answered', '$Label1']]);
    expect(byTag.get('a39').args).toEqual(['INBOX', ['\\Seen'], '2024-07-04T08:11:12.000Z', 'Subject: hi\r\n\r\nbody\r\n']);
    expect(byTag.get('a40').args).toEqual(['日本語']);
    expect(byTag.get('a45')).toMatchObject({ name: 'NOOP' });
  });

});
