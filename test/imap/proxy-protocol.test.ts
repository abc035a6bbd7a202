/**
 * The PROXY protocol parser (src/imap/proxy-protocol.ts) on bytes alone:
 * v1 and v2 headers split at every byte, TCP4/TCP6/UNIX/LOCAL/UNSPEC, TLVs,
 * the bytes after the header handed back, and garbage or oversize input
 * refused at the first byte that cannot belong to a valid header. Headers are
 * built here by hand from the spec's layout (haproxy doc/proxy-protocol.txt).
 */
import { describe, expect, it } from 'vitest';
import {
  MAX_V1_LINE_BYTES, MAX_V2_BODY_BYTES, ProxyHeaderParser, ProxyProtocolError, addressMatcher, proxiedAddress,
  type ProxyHeader,
} from '../../src/imap/proxy-protocol.js';

const SIG = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');
const CLIENT_BYTES = Buffer.from('a1 CAPABILITY\r\n');

/** A v2 header: version 2, `cmd` (0 LOCAL, 1 PROXY), family/transport byte, then `body`. */
function v2(cmd: number, fam: number, body: Buffer): Buffer {
  const h = Buffer.alloc(16);
  SIG.copy(h);
  h[12] = 0x20 | cmd;
  h[13] = fam;
  h.writeUInt16BE(body.length, 14);
  return Buffer.concat([h, body]);
}

function tcp4Body(src: number[], dst: number[], sport: number, dport: number): Buffer {
  const b = Buffer.alloc(12);
  Buffer.from(src).copy(b, 0);
  Buffer.from(dst).copy(b, 4);
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return b;
}

function tcp6Body(src: string, dst: string, sport: number, dport: number): Buffer {
  const b = Buffer.alloc(36);
  Buffer.from(src, 'hex').copy(b, 0);
  Buffer.from(dst, 'hex').copy(b, 16);
  b.writeUInt16BE(sport, 32);
  b.writeUInt16BE(dport, 34);
  return b;
}

function tlv(type: number, value: Buffer): Buffer {
  const b = Buffer.alloc(3);
  b[0] = type;
  b.writeUInt16BE(value.length, 1);
  return Buffer.concat([b, value]);
}

type Outcome = { header: ProxyHeader; rest: Buffer } | { error: string; at: number } | 'incomplete';

/** Push `chunks` in order; the result with every byte after the header (later chunks included). */
function run(chunks: Buffer[]): Outcome {
  const p = new ProxyHeaderParser();
  let at = 0;
  for (let i = 0; i < chunks.length; i++) {
    try {
      const r = p.push(chunks[i]!);
      if (r) return { header: r.header, rest: Buffer.concat([r.rest, ...chunks.slice(i + 1)]) };
    } catch (err) {
      expect(err).toBeInstanceOf(ProxyProtocolError);
      return { error: (err as Error).message, at: at + chunks[i]!.length - 1 };
    }
    at += chunks[i]!.length;
  }
  return 'incomplete';
}

/** Every way to cut `bytes` in two, and one byte at a time. */
function splits(bytes: Buffer): Buffer[][] {
  const out: Buffer[][] = [[bytes]];
  for (let k = 1; k < bytes.length; k++) out.push([bytes.subarray(0, k), bytes.subarray(k)]);
  out.push([...bytes].map((b) => Buffer.from([b])));
  return out;
}

/** `bytes` (a header followed by CLIENT_BYTES) gives `expected` and CLIENT_BYTES back, however it is split. */
function expectHeader(header: Buffer, expected: ProxyHeader): void {
  const bytes = Buffer.concat([header, CLIENT_BYTES]);
  for (const chunks of splits(bytes)) {
    const r = run(chunks);
    expect(r, `split ${chunks.map((c) => c.length).join('+')}`).toEqual({ header: expected, rest: CLIENT_BYTES });
  }
  // nothing more than the header: complete, nothing left over
  expect(run([header])).toEqual({ header: expected, rest: Buffer.alloc(0) });
  expect(run([header.subarray(0, header.length - 1)])).toBe('incomplete');
}

/** Fed one byte at a time, `bytes` is refused at byte index `at` (its message matching `msg`). */
function expectRefusedAt(bytes: Buffer, at: number, msg: RegExp): void {
  const r = run([...bytes].map((b) => Buffer.from([b])));
  expect(r).toMatchObject({ at });
  expect((r as { error: string }).error).toMatch(msg);
  // whole, it is refused too
  expect(run([bytes])).toMatchObject({ error: expect.stringMatching(msg) });
}

describe('PROXY v2', () => {
  it('reads TCP over IPv4 split at every byte, with the client bytes after it handed back', () => {
    expectHeader(v2(1, 0x11, tcp4Body([192, 0, 2, 7], [198, 51, 100, 1], 56324, 143)), {
      version: 2,
      command: 'proxy',
      source: { family: 'ipv4', address: '192.0.2.7', port: 56324 },
      destination: { family: 'ipv4', address: '198.51.100.1', port: 143 },
    });
  });

  it('reads TCP over IPv6 (address text compressed) with TLVs after the addresses', () => {
    const body = Buffer.concat([
      tcp6Body('20010db8000000000000000000000007', '00000000000000000000ffffc6336401', 40000, 993),
      tlv(0x05, Buffer.from('unique-id-123')), // PP2_TYPE_UNIQUE_ID
      tlv(0x04, Buffer.alloc(5)), // PP2_TYPE_NOOP
    ]);
    expectHeader(v2(1, 0x21, body), {
      version: 2,
      command: 'proxy',
      source: { family: 'ipv6', address: '2001:db8::7', port: 40000 },
      destination: { family: 'ipv6', address: '::ffff:198.51.100.1', port: 993 },
    });
  });

  it('reads UNIX stream paths; they name no address, so the connection keeps its own peer', () => {
    const body = Buffer.alloc(216);
    body.write('/run/client.sock', 0);
    body.write('/run/newsfront.sock', 108);
    const expected: ProxyHeader = {
      version: 2,
      command: 'proxy',
      source: { family: 'unix', path: '/run/client.sock' },
      destination: { family: 'unix', path: '/run/newsfront.sock' },
    };
    expectHeader(v2(1, 0x31, body), expected);
    expect(proxiedAddress(expected)).toBeUndefined();
  });

  it('accepts LOCAL (health checks) whatever address block follows, naming no client', () => {
    expectHeader(v2(0, 0x00, Buffer.alloc(0)), { version: 2, command: 'local' });
    expectHeader(v2(0, 0x11, tcp4Body([10, 0, 0, 1], [10, 0, 0, 2], 1, 2)), { version: 2, command: 'local' });
  });

  it('falls back to the real endpoints for UNSPEC and for UDP', () => {
    expectHeader(v2(1, 0x00, Buffer.alloc(0)), { version: 2, command: 'proxy' });
    expectHeader(v2(1, 0x12, tcp4Body([192, 0, 2, 7], [198, 51, 100, 1], 5, 6)), { version: 2, command: 'proxy' });
  });

  it('refuses a wrong signature, version, command, family or transport at that very byte', () => {
    const good = v2(1, 0x11, tcp4Body([192, 0, 2, 7], [198, 51, 100, 1], 1, 2));
    for (let i = 0; i < 12; i++) {
      const bad = Buffer.from(good);
      bad[i] ^= 0x40;
      expectRefusedAt(bad, i, /not a PROXY protocol header/);
    }
    const at = (i: number, v: number): Buffer => {
      const b = Buffer.from(good);
      b[i] = v;
      return b;
    };
    expectRefusedAt(at(12, 0x11), 12, /version 1/);
    expectRefusedAt(at(12, 0x22), 12, /command 2/);
    expectRefusedAt(at(13, 0x41), 13, /family 4/);
    expectRefusedAt(at(13, 0x13), 13, /transport 3/);
  });

  it('refuses an address block shorter than its family needs, and malformed TLVs', () => {
    expectRefusedAt(v2(1, 0x11, Buffer.alloc(8)), 23, /address block of 8 bytes, 12 needed/);
    expectRefusedAt(v2(1, 0x21, Buffer.alloc(12)), 27, /36 needed/);
    const addr = tcp4Body([192, 0, 2, 7], [198, 51, 100, 1], 1, 2);
    const overlong = Buffer.concat([addr, Buffer.from([0x05, 0x00, 0x09, 0x61])]); // says 9, has 1
    expectRefusedAt(v2(1, 0x11, overlong), 16 + overlong.length - 1, /malformed TLV/);
    const stub = Buffer.concat([addr, Buffer.from([0x04, 0x00])]); // 2 bytes cannot hold a TLV
    expectRefusedAt(v2(1, 0x11, stub), 16 + stub.length - 1, /malformed TLV/);
  });

  it('refuses an oversize header as soon as its length is known, before the body arrives', () => {
    const h = v2(1, 0x11, Buffer.alloc(MAX_V2_BODY_BYTES + 1)).subarray(0, 16);
    expectRefusedAt(h, 15, /over the bound/);
    const atBound = v2(1, 0x11, Buffer.concat([tcp4Body([192, 0, 2, 7], [198, 51, 100, 1], 1, 2), tlv(0x04, Buffer.alloc(MAX_V2_BODY_BYTES - 15))]));
    expect(run([atBound])).toMatchObject({ header: { source: { address: '192.0.2.7' } } });
  });
});

describe('PROXY v1', () => {
  it('reads TCP4 and TCP6 lines split at every byte', () => {
    expectHeader(Buffer.from('PROXY TCP4 192.0.2.7 198.51.100.1 56324 143\r\n'), {
      version: 1,
      command: 'proxy',
      source: { family: 'ipv4', address: '192.0.2.7', port: 56324 },
      destination: { family: 'ipv4', address: '198.51.100.1', port: 143 },
    });
    expectHeader(Buffer.from('PROXY TCP6 2001:DB8:0:0:0:0:0:7 2001:db8::1 0 65535\r\n'), {
      version: 1,
      command: 'proxy',
      source: { family: 'ipv6', address: '2001:db8::7', port: 0 },
      destination: { family: 'ipv6', address: '2001:db8::1', port: 65535 },
    });
  });

  it('reads UNKNOWN, short and at the longest line the spec allows (107 bytes)', () => {
    expectHeader(Buffer.from('PROXY UNKNOWN\r\n'), { version: 1, command: 'proxy' });
    const f = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
    const longest = Buffer.from(`PROXY UNKNOWN ${f} ${f} 65535 65535\r\n`);
    expect(longest.length).toBe(MAX_V1_LINE_BYTES);
    expectHeader(longest, { version: 1, command: 'proxy' });
  });

  it('refuses a line without CRLF within 107 bytes at the 107th byte', () => {
    const long = Buffer.from(`PROXY UNKNOWN ${'x'.repeat(200)}`);
    expectRefusedAt(long.subarray(0, 150), MAX_V1_LINE_BYTES - 1, /no CRLF within 107/);
  });

  it('refuses garbage at the first byte that cannot belong to a header', () => {
    expectRefusedAt(Buffer.from('a1 LOGIN alice secret\r\n'), 0, /not a PROXY protocol header/);
    expectRefusedAt(Buffer.from('PROXx TCP4'), 4, /not a PROXY protocol header/);
    expectRefusedAt(Buffer.from('PROXY TCP4 1.2.3.4\n'), 18, /without CR/);
    expectRefusedAt(Buffer.from('PROXY TCP4 1.2.3.4\rX'), 19, /CR not followed by LF/);
    expectRefusedAt(Buffer.from('PROXY TCP4 1.2.3.4\u0000'), 18, /printable ASCII/);
    expectRefusedAt(Buffer.from('PROXY TCP4 1.2.3.\u00e9'), 17, /printable ASCII/);
  });

  it('refuses malformed fields once the line is complete', () => {
    const bad = (line: string, msg: RegExp): void => {
      const b = Buffer.from(`${line}\r\n`);
      expectRefusedAt(b, b.length - 1, msg);
    };
    bad('PROXY TCP5 1.2.3.4 5.6.7.8 1 2', /TCP4, TCP6 or UNKNOWN/);
    bad('PROXY TCP4 1.2.3.4 5.6.7.8 1', /6 space-separated/);
    bad('PROXY TCP4 1.2.3.4  5.6.7.8 1 2', /6 space-separated/);
    bad('PROXY TCP4 01.2.3.4 5.6.7.8 1 2', /not a TCP4 address/);
    bad('PROXY TCP4 1.2.3.256 5.6.7.8 1 2', /not a TCP4 address/);
    bad('PROXY TCP4 ::1 5.6.7.8 1 2', /not a TCP4 address/);
    bad('PROXY TCP6 1.2.3.4 ::1 1 2', /not a TCP6 address/);
    bad('PROXY TCP6 ::ffff:1.2.3.4 ::1 1 2', /not a TCP6 address/);
    bad('PROXY TCP4 1.2.3.4 5.6.7.8 65536 2', /not a port/);
    bad('PROXY TCP4 1.2.3.4 5.6.7.8 080 2', /not a port/);
    bad('PROXY TCP4 1.2.3.4 5.6.7.8 -1 2', /not a port/);
  });
});

describe('trusted peers', () => {
  it('matches addresses and CIDR ranges, IPv4-mapped peers as IPv4', () => {
    const trusted = addressMatcher(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32']);
    expect([trusted('10.1.2.3'), trusted('::ffff:10.1.2.3'), trusted('192.0.2.7'), trusted('2001:db8::1')]).toEqual([true, true, true, true]);
    expect([trusted('11.0.0.1'), trusted('192.0.2.8'), trusted('2001:db9::1'), trusted(undefined)]).toEqual([false, false, false, false]);
    expect(addressMatcher([])('127.0.0.1')).toBe(false);
    expect(() => addressMatcher(['10.0.0.0/33'])).toThrow(/prefix length/);
  });

  it('takes the client address from TCP headers only', () => {
    expect(proxiedAddress({ version: 2, command: 'proxy', source: { family: 'ipv4', address: '192.0.2.7', port: 1 } })).toBe('192.0.2.7');
    expect(proxiedAddress({ version: 2, command: 'local' })).toBeUndefined();
  });
});
