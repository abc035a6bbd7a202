import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as enc from '../../../src/imap/wire/encoder.js';
import { Decoder } from '../../../src/imap/wire/decoder.js';
import { CommandFramer } from '../../../src/imap/wire/framer.js';

const s = (b: Buffer): string => b.toString('utf8');

/** Decode bytes the encoder produced, through the real framer, with `read`. */
function readBack<T>(wire: Buffer, read: (d: Decoder) => T, utf8 = false): T {
  const f = new CommandFramer({ onContinuationNeeded: () => 'accept' });
  const items = f.push(Buffer.concat([Buffer.from('x '), wire, Buffer.from('\r\n')]));
  expect(items).toHaveLength(1);
  const cmd = items[0]!;
  if (cmd.kind !== 'command') throw new Error('framing error');
  const d = new Decoder(cmd, { utf8 });
  d.tag();
  d.sp();
  const v = read(d);
  d.end();
  return v;
}

describe('encoder', () => {
  it('chooses atom, quoted or literal for astring', () => {
    expect(s(enc.astring('INBOX'))).toBe('INBOX');
    expect(s(enc.astring('a]b'))).toBe('a]b');
    expect(s(enc.astring(''))).toBe('""');
    expect(s(enc.astring('two words'))).toBe('"two words"');
    expect(s(enc.astring('say "hi" \\o/'))).toBe('"say \\"hi\\" \\\\o/"');
    expect(s(enc.astring('line\r\nbreak'))).toBe('{11}\r\nline\r\nbreak');
    expect(s(enc.astring('café'))).toBe('{5}\r\ncafé');
    expect(s(enc.astring('café', { utf8: true }))).toBe('"café"');
  });

  it('never renders nstring as an atom; null is NIL, the text "NIL" is quoted', () => {
    expect(s(enc.nstring(null))).toBe('NIL');
    expect(s(enc.nstring('NIL'))).toBe('"NIL"');
    expect(s(enc.nstring('abc'))).toBe('"abc"');
  });

  it('sends 8-bit that is not UTF-8 as a literal even in UTF-8 mode', () => {
    expect(s(enc.string(Buffer.from([0x61, 0xff]), { utf8: true }))).toMatch(/^\{2\}\r\n/);
  });

  it('astring/nstring output decodes back to the same string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), fc.boolean(), (v, utf8) => {
        expect(readBack(enc.astring(v, { utf8 }), (d) => d.astring())).toBe(v);
        expect(readBack(enc.nstring(v, { utf8 }), (d) => d.nstring())).toBe(v);
      }),
      { numRuns: 300 },
    );
  });

  it('renders runs of date-times of one day (the reused day part) and a change of zone within it', () => {
    const t = (iso: string, z = 0): string => enc.dateTimeText(new Date(iso), z);
    expect(t('2015-03-01T23:59:59.999Z')).toBe('" 1-Mar-2015 23:59:59 +0000"');
    expect(t('2015-03-01T00:00:00.000Z')).toBe('" 1-Mar-2015 00:00:00 +0000"');
    expect(t('2015-03-01T10:07:05.000Z', -60)).toBe('" 1-Mar-2015 09:07:05 -0100"');
    expect(t('2015-03-01T10:07:05.000Z', 60)).toBe('" 1-Mar-2015 11:07:05 +0100"');
    expect(t('2015-03-01T23:30:00.000Z', 60)).toBe('" 2-Mar-2015 00:30:00 +0100"');
    expect(t('1969-12-31T23:59:59.000Z')).toBe('"31-Dec-1969 23:59:59 +0000"');
    expect(t('2015-03-02T00:00:01.000Z')).toBe('" 2-Mar-2015 00:00:01 +0000"');
  });

  it('renders date-time with a space-padded day and zone, and it decodes to the same instant', () => {
    expect(s(enc.dateTime(new Date(Date.UTC(2024, 6, 4, 8, 11, 12)), 120))).toBe('" 4-Jul-2024 10:11:12 +0200"');
    expect(s(enc.dateTime(new Date(Date.UTC(1999, 11, 31, 23, 0, 0)), -330))).toBe('"31-Dec-1999 17:30:00 -0530"');
    fc.assert(
      fc.property(
        fc.date({ min: new Date(Date.UTC(1970, 0, 1)), max: new Date(Date.UTC(2200, 0, 1)), noInvalidDate: true }),
        fc.integer({ min: -720, max: 840 }),
        (d, zone) => {
          const t = Math.floor(d.getTime() / 1000) * 1000;
          expect(readBack(enc.dateTime(new Date(t), zone), (x) => x.dateTime()).getTime()).toBe(t);
        },
      ),
    );
  });

  it('renders mailbox names in modified UTF-7 unless UTF-8 is enabled', () => {
    expect(s(enc.mailbox('inbox'))).toBe('INBOX');
    expect(s(enc.mailbox('de.alt.Ärger'))).toBe('de.alt.&AMQ-rger');
    expect(s(enc.mailbox('de.alt.Ärger', { utf8: true }))).toBe('"de.alt.Ärger"');
    expect(s(enc.mailbox('a b&c'))).toBe('"a b&-c"');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter((n) => n.toUpperCase() !== 'INBOX'), fc.boolean(), (name, utf8) => {
        expect(readBack(enc.mailbox(name, { utf8 }), (d) => d.mailbox(), utf8)).toBe(name);
      }),
      { numRuns: 300 },
    );
  });

  it('renders flag lists and literal headers', () => {
    expect(s(enc.flagList(['\\Seen', '$Junk']))).toBe('(\\Seen $Junk)');
    expect(s(enc.flagList([]))).toBe('()');
    expect(s(enc.literalHeader(42))).toBe('{42}\r\n');
    expect(s(enc.literalHeader(7, true))).toBe('~{7}\r\n');
    expect(() => enc.quoted('a\nb')).toThrow(RangeError);
  });
});
