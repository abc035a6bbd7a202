import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { envelopeOf } from '../../../src/mime/envelope.js';
import { parseAddressList, parseAddressListFully, type Address } from '../../../src/mime/address.js';
import { parseHeader } from '../../../src/mime/header.js';
import { msg } from './helpers.js';

/** Addresses as plain strings for readable expectations. */
function show(list: Address[] | null): (string | null)[][] | null {
  if (list === null) return null;
  return list.map((a) => [a.name, a.adl, a.mailbox, a.host].map((x) => (x === null ? null : x.toString('latin1'))));
}

const addrs = (s: string): (string | null)[][] | null => show(parseAddressList(Buffer.from(s, 'latin1')));

describe('parseAddressList', () => {
  it('plain, angle, quoted names with specials, encoded words kept', () => {
    expect(addrs('a@example.com')).toEqual([[null, null, 'a', 'example.com']]);
    expect(addrs('"Doe, John" <john@example.com>, Jane Q. Public <jane@example.org>')).toEqual([
      ['Doe, John', null, 'john', 'example.com'],
      ['Jane Q. Public', null, 'jane', 'example.org'],
    ]);
    expect(addrs('=?utf-8?q?J=C3=B6rg?= <j@x.de>')).toEqual([['=?utf-8?q?J=C3=B6rg?=', null, 'j', 'x.de']]);
    expect(addrs('"with \\"escaped\\" quote" <q@x>')).toEqual([['with "escaped" quote', null, 'q', 'x']]);
  });

  it('comments: dropped, or the name of an address without one (Usenet style)', () => {
    expect(addrs('user@host.example (Real Name)')).toEqual([['Real Name', null, 'user', 'host.example']]);
    expect(addrs('Name (comment) <a@b>')).toEqual([['Name', null, 'a', 'b']]);
    expect(addrs('a(nested (comment))@b')).toEqual([['nested (comment)', null, 'a', 'b']]);
  });

  it('groups: start marker and end marker', () => {
    expect(addrs('Friends: a@b, "C" <c@d>;, e@f')).toEqual([
      [null, null, 'Friends', null],
      [null, null, 'a', 'b'],
      ['C', null, 'c', 'd'],
      [null, null, null, null],
      [null, null, 'e', 'f'],
    ]);
    expect(addrs('undisclosed-recipients:;')).toEqual([
      [null, null, 'undisclosed-recipients', null],
      [null, null, null, null],
    ]);
    // An unterminated group is closed.
    expect(addrs('G: a@b')).toEqual([
      [null, null, 'G', null],
      [null, null, 'a', 'b'],
      [null, null, null, null],
    ]);
  });

  it('source routes are dropped; quoted local parts unquoted; domain literals kept', () => {
    expect(addrs('<@r1,@r2:x@y>')).toEqual([[null, null, 'x', 'y']]);
    expect(addrs('"john smith"@example.com')).toEqual([[null, null, 'john smith', 'example.com']]);
    expect(addrs('a@[127.0.0.1]')).toEqual([[null, null, 'a', '[127.0.0.1]']]);
  });

  it('garbage: never throws; missing host is empty, not NIL', () => {
    expect(addrs('')).toBeNull();
    expect(addrs('   (only a comment) ')).toBeNull();
    expect(addrs(',,,')).toBeNull();
    expect(addrs('nobody')).toEqual([[null, null, 'nobody', '']]);
    expect(addrs('<>')).toEqual([[null, null, '', '']]);
    for (const junk of ['<<<@@@>>>', '"unterminated', '(unterminated', 'a@b@c', ':;:;', '\x00\xff<\x01@\x02>', '[no close']) {
      expect(() => parseAddressList(Buffer.from(junk, 'latin1'))).not.toThrow();
    }
    expect(addrs('a@b@c')).toEqual([[null, null, 'a@b', 'c']]);
  });
});

describe('envelopeOf', () => {
  it('all fields, raw bytes, first occurrence', () => {
    const h = parseHeader(
      msg([
        'Date: Mon, 1 Jan 2001 00:00:00 +0000',
        'Subject: =?iso-8859-1?q?caf=E9?=',
        'Subject: second subject ignored',
        'From: A <a@x>',
        'Sender: S <s@x>',
        'Reply-To: R <r@x>',
        'To: t1@x, t2@x',
        'Cc: c@x',
        'Bcc: b@x',
        'In-Reply-To: <p@x>',
        'Message-ID: <m@x>',
        '',
        '',
      ]),
    );
    const e = envelopeOf(h);
    expect(e.date!.toString()).toBe('Mon, 1 Jan 2001 00:00:00 +0000');
    expect(e.subject!.toString()).toBe('=?iso-8859-1?q?caf=E9?=');
    expect(show(e.from)).toEqual([['A', null, 'a', 'x']]);
    expect(show(e.sender)).toEqual([['S', null, 's', 'x']]);
    expect(show(e.replyTo)).toEqual([['R', null, 'r', 'x']]);
    expect(show(e.to)).toHaveLength(2);
    expect(show(e.cc)).toEqual([[null, null, 'c', 'x']]);
    expect(show(e.bcc)).toEqual([[null, null, 'b', 'x']]);
    expect(e.inReplyTo!.toString()).toBe('<p@x>');
    expect(e.messageId!.toString()).toBe('<m@x>');
  });

  it('missing fields are null; sender and reply-to default to from (also when empty)', () => {
    const e = envelopeOf(parseHeader(msg(['From: f@x (Eff)', 'Reply-To:', '', ''])));
    expect(e.date).toBeNull();
    expect(e.subject).toBeNull();
    expect(e.to).toBeNull();
    expect(e.messageId).toBeNull();
    expect(show(e.sender)).toEqual([['Eff', null, 'f', 'x']]);
    expect(show(e.replyTo)).toEqual([['Eff', null, 'f', 'x']]);
  });

  it('no header at all', () => {
    const e = envelopeOf([]);
    expect(Object.values(e).every((v) => v === null)).toBe(true);
  });

  it('8-bit subject kept as bytes; buffers do not share memory with the block', () => {
    const block = Buffer.from('Subject: Gr\xfc\xdfe\r\n\r\n', 'latin1');
    const e = envelopeOf(parseHeader(block));
    expect(e.subject!.equals(Buffer.from('Gr\xfc\xdfe', 'latin1'))).toBe(true);
    block.fill(0);
    expect(e.subject!.toString('latin1')).toBe('Gr\xfc\xdfe');
  });
});

describe('parseAddressList fast path', () => {
  // pieces that build the simple shapes, and near misses of them
  const word = fc.stringMatching(/^[A-Za-z0-9.!#%&'*+\/=?^_`{|}~-]{1,8}$/);
  const noise = fc.constantFrom(' ', '  ', '\t', '.', '@', '<', '>', '(', ')', '"', '\\', ',', ';', ':', '[', ']', '\xe9', '=?utf-8?q?x?=', '');
  const spec = fc.tuple(word, fc.constantFrom('@', '@@', ''), word).map(([a, at, b]) => `${a}${at}${b}`);
  const value = fc.oneof(
    spec,
    fc.tuple(fc.array(word, { minLength: 1, maxLength: 4 }), fc.constantFrom(' ', '  ', '', '\t'), spec, fc.constantFrom('', ' ', 'x')).map(([ws, sp, s, tail]) => `${ws.join(' ')}${sp}<${s}>${tail}`),
    fc.tuple(spec, fc.constantFrom(' ', '', '\t', '  '), fc.array(fc.oneof(word, fc.constant(' ')), { maxLength: 5 }), fc.constantFrom('', ' ')).map(([s, sp, ws, tail]) => `${s}${sp}(${ws.join('')})${tail}`),
    fc.array(fc.oneof(word, noise), { maxLength: 8 }).map((xs) => xs.join('')),
  );

  it('answers exactly as the full parser wherever it applies', () => {
    fc.assert(
      fc.property(value, (v) => {
        const raw = Buffer.from(v, 'latin1');
        expect(parseAddressList(raw)).toEqual(parseAddressListFully(raw));
      }),
      { numRuns: 5000 },
    );
  });

  it('gives copies, not views of the header', () => {
    const raw = Buffer.from('Ann Example <ann@example.org>');
    const [a] = parseAddressList(raw)!;
    raw.fill(0x20);
    expect([a!.name?.toString(), a!.mailbox?.toString(), a!.host?.toString()]).toEqual(['Ann Example', 'ann', 'example.org']);
  });
});
