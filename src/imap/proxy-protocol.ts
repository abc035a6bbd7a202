/**
 * The PROXY protocol (HAProxy's doc/proxy-protocol.txt, versions 1 and 2): a
 * load balancer in TCP mode sends one header before the client's first byte,
 * naming the client it relays. The IMAP listener reads it from trusted peers
 * only (config `proxy.trusted`; server.ts), before admission and before TLS.
 *
 *   v1:  PROXY TCP4 192.0.2.7 198.51.100.1 56324 143\r\n          (text, ≤ 107 bytes)
 *   v2:  0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A  21  11  00 0C  <src dst sport dport> [TLVs]
 *        signature (12)                       ver/cmd fam len   address block (len bytes)
 *
 * `ProxyHeaderParser` takes bytes in any split (one at a time works) and
 * rejects as soon as a prefix cannot begin a valid header. `readProxyHeader`
 * runs it on a socket with a deadline and hands the bytes after the header
 * back to the socket.
 *
 * What a header means here (`ProxyHeader.source`):
 * - v2 PROXY over TCP/IPv4 or TCP/IPv6: the client is `source`;
 * - v2 LOCAL (a health check), v1 UNKNOWN, and v2 PROXY with an unspecified or
 *   unsupported family or transport (UDP, spec §2.2 "falls back to UNSPEC"):
 *   no `source`; the connection's own endpoints stand;
 * - v2 PROXY over AF_UNIX: `source` is the path (`family: 'unix'`); it names no
 *   address, so the connection's own endpoints stand for limits too.
 * TLVs are checked for shape and otherwise ignored; a CRC32C TLV is not
 * verified (the spec makes verification optional for receivers).
 */
import { BlockList, SocketAddress, isIPv4, isIPv6, type Socket } from 'node:net';
import { parseAddressRange } from './admission.js';

/**
 * Time from connect to a complete header. The spec asks for at least 3 s "to
 * cover a TCP retransmit"; a balancer sends the header at once, so 5 s only
 * ever runs out on a peer that is not one.
 */
export const PROXY_HEADER_TIMEOUT_MS = 5_000;
/** Longest v1 line including CRLF (spec §2.1: "PROXY UNKNOWN" with two full IPv6 addresses). */
export const MAX_V1_LINE_BYTES = 107;
/**
 * Longest v2 address block with its TLVs we accept (the 16-bit length allows
 * 64 KiB). 216 bytes of UNIX addresses plus the registered TLVs (128-byte
 * unique id, SSL details, ALPN, authority) fit well within 1 KiB.
 */
export const MAX_V2_BODY_BYTES = 1024;

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_FIXED = 16;
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** Address block bytes per v2 family (INET, INET6, UNIX). */
const V2_ADDRESS_BYTES = [0, 12, 36, 216] as const;
const UNIX_PATH_BYTES = 108;

export type ProxyEndpoint =
  | { family: 'ipv4' | 'ipv6'; address: string; port: number }
  | { family: 'unix'; path: string };

export interface ProxyHeader {
  version: 1 | 2;
  /** `local`: the balancer's own connection (health check); `proxy`: relayed. */
  command: 'proxy' | 'local';
  /** The relayed client; absent when the connection's own endpoints stand (see the header). */
  source?: ProxyEndpoint;
  destination?: ProxyEndpoint;
}

export interface ProxyParsed {
  header: ProxyHeader;
  /** Bytes after the header in the last chunk (the client's first bytes, if any). */
  rest: Buffer;
}

export class ProxyProtocolError extends Error {
  readonly code = 'PROXY_PROTOCOL' as const;
  constructor(message: string) {
    super(message);
    this.name = 'ProxyProtocolError';
  }
}

/** The client address a header gives, or undefined when the connection's own peer stands. */
export function proxiedAddress(h: ProxyHeader): string | undefined {
  const s = h.source;
  return s !== undefined && s.family !== 'unix' ? s.address : undefined;
}

/**
 * A test for "is this peer a trusted proxy": `ranges` are addresses or CIDR
 * ranges (`parseAddressRange`); an IPv4-mapped IPv6 peer (`::ffff:a.b.c.d`, a
 * listener on `::`) is tested as IPv4. Throws when a range does not parse
 * (the config schema checks them first).
 */
export function addressMatcher(ranges: readonly string[]): (address: string | undefined) => boolean {
  if (ranges.length === 0) return () => false;
  const list = new BlockList();
  for (const text of ranges) {
    const r = parseAddressRange(text);
    if (typeof r === 'string') throw new Error(r);
    list.addSubnet(r.address, r.prefix, r.family);
  }
  return (address) => {
    if (address === undefined) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return list.check(mapped[1]!, 'ipv4');
    if (isIPv4(address)) return list.check(address, 'ipv4');
    return isIPv6(address) && list.check(address.split('%')[0]!, 'ipv6');
  };
}

/**
 * Incremental reader of one PROXY header. `push` returns undefined while more
 * bytes are needed, the header and the bytes after it once complete, and
 * throws `ProxyProtocolError` as soon as the bytes cannot be a valid header
 * (or would exceed the size bounds). It holds at most one header's bytes plus
 * the last chunk; after a result or an error it must not be used again.
 */
export class ProxyHeaderParser {
  private buf: Buffer = Buffer.alloc(0);
  /** v1: bytes already scanned for CRLF. */
  private scanned = 0;
  private finished = false;

  push(chunk: Buffer): ProxyParsed | undefined {
    if (this.finished) throw new Error('ProxyHeaderParser: already finished');
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    try {
      const r = this.buf[0] === 0x50 ? this.v1() : this.v2();
      if (r) this.finished = true;
      return r;
    } catch (err) {
      this.finished = true;
      throw err;
    }
  }

  private v2(): ProxyParsed | undefined {
    const b = this.buf;
    const sig = Math.min(b.length, V2_SIGNATURE.length);
    if (!b.subarray(0, sig).equals(V2_SIGNATURE.subarray(0, sig))) throw new ProxyProtocolError('not a PROXY protocol header');
    if (b.length > 12) {
      if (b[12]! >> 4 !== 2) throw new ProxyProtocolError(`PROXY v2: unsupported version ${b[12]! >> 4}`);
      if ((b[12]! & 0x0f) > 1) throw new ProxyProtocolError(`PROXY v2: unknown command ${b[12]! & 0x0f}`);
    }
    if (b.length > 13) {
      if (b[13]! >> 4 > 3) throw new ProxyProtocolError(`PROXY v2: unknown address family ${b[13]! >> 4}`);
      if ((b[13]! & 0x0f) > 2) throw new ProxyProtocolError(`PROXY v2: unknown transport ${b[13]! & 0x0f}`);
    }
    if (b.length < V2_FIXED) return undefined;
    const len = b.readUInt16BE(14);
    if (len > MAX_V2_BODY_BYTES) throw new ProxyProtocolError(`PROXY v2: header of ${V2_FIXED + len} bytes is over the bound`);
    if (b.length < V2_FIXED + len) return undefined;
    const rest = b.subarray(V2_FIXED + len);
    if ((b[12]! & 0x0f) === 0) return { header: { version: 2, command: 'local' }, rest };
    const family = b[13]! >> 4;
    const stream = (b[13]! & 0x0f) === 1;
    if (family === 0 || !stream) return { header: { version: 2, command: 'proxy' }, rest };
    const need = V2_ADDRESS_BYTES[family as 1 | 2 | 3];
    if (len < need) throw new ProxyProtocolError(`PROXY v2: address block of ${len} bytes, ${need} needed`);
    checkTlvs(b.subarray(V2_FIXED + need, V2_FIXED + len));
    const a = b.subarray(V2_FIXED, V2_FIXED + need);
    let source: ProxyEndpoint;
    let destination: ProxyEndpoint;
    if (family === 3) {
      source = { family: 'unix', path: unixPath(a.subarray(0, UNIX_PATH_BYTES)) };
      destination = { family: 'unix', path: unixPath(a.subarray(UNIX_PATH_BYTES)) };
    } else {
      const n = family === 1 ? 4 : 16;
      const fam = family === 1 ? 'ipv4' : 'ipv6';
      source = { family: fam, address: ipText(a.subarray(0, n)), port: a.readUInt16BE(2 * n) };
      destination = { family: fam, address: ipText(a.subarray(n, 2 * n)), port: a.readUInt16BE(2 * n + 2) };
    }
    return { header: { version: 2, command: 'proxy', source, destination }, rest };
  }

  private v1(): ProxyParsed | undefined {
    const b = this.buf;
    const pre = Math.min(b.length, V1_PREFIX.length);
    if (!b.subarray(0, pre).equals(V1_PREFIX.subarray(0, pre))) throw new ProxyProtocolError('not a PROXY protocol header');
    const end = Math.min(b.length, MAX_V1_LINE_BYTES);
    for (let i = this.scanned; i < end; i++) {
      const c = b[i]!;
      if (c === 0x0a) {
        if (b[i - 1] !== 0x0d) throw new ProxyProtocolError('PROXY v1: line ends without CR');
        return { header: v1Line(b.subarray(0, i - 1).toString('latin1')), rest: b.subarray(i + 1) };
      }
      if (b[i - 1] === 0x0d) throw new ProxyProtocolError('PROXY v1: CR not followed by LF');
      if (c !== 0x0d && (c < 0x20 || c > 0x7e)) throw new ProxyProtocolError('PROXY v1: byte outside printable ASCII');
    }
    this.scanned = end;
    if (b.length >= MAX_V1_LINE_BYTES) throw new ProxyProtocolError(`PROXY v1: no CRLF within ${MAX_V1_LINE_BYTES} bytes`);
    return undefined;
  }
}

const V1_IPV4 = /^(?:0|[1-9]\d{0,2})(?:\.(?:0|[1-9]\d{0,2})){3}$/;
const V1_PORT = /^(?:0|[1-9]\d{0,4})$/;

/** One v1 line without its CRLF (spec §2.1: single spaces, no leading zeroes). */
function v1Line(line: string): ProxyHeader {
  const f = line.split(' ');
  if (f[1] === 'UNKNOWN') return { version: 1, command: 'proxy' };
  if (f[1] !== 'TCP4' && f[1] !== 'TCP6') throw new ProxyProtocolError('PROXY v1: protocol must be TCP4, TCP6 or UNKNOWN');
  if (f.length !== 6) throw new ProxyProtocolError('PROXY v1: expected 6 space-separated fields');
  const family = f[1] === 'TCP4' ? 'ipv4' : 'ipv6';
  const addr = (s: string): string => {
    const ok = family === 'ipv4' ? V1_IPV4.test(s) && isIPv4(s) : /^[0-9a-fA-F:]+$/.test(s) && isIPv6(s);
    if (!ok) throw new ProxyProtocolError(`PROXY v1: "${s.slice(0, 45)}" is not a ${f[1]} address`);
    return family === 'ipv6' ? new SocketAddress({ address: s, family }).address : s;
  };
  const port = (s: string): number => {
    const n = Number(s);
    if (!V1_PORT.test(s) || n > 65535) throw new ProxyProtocolError(`PROXY v1: "${s.slice(0, 10)}" is not a port`);
    return n;
  };
  return {
    version: 1,
    command: 'proxy',
    source: { family, address: addr(f[2]!), port: port(f[4]!) },
    destination: { family, address: addr(f[3]!), port: port(f[5]!) },
  };
}

/** TLVs (type, 16-bit length, value) must tile the bytes after the addresses exactly. */
function checkTlvs(b: Buffer): void {
  let i = 0;
  while (i < b.length) {
    if (b.length - i < 3 || b.length - i - 3 < b.readUInt16BE(i + 1)) throw new ProxyProtocolError('PROXY v2: malformed TLV');
    i += 3 + b.readUInt16BE(i + 1);
  }
}

/** Canonical text of a 4- or 16-byte address (IPv6 compressed, as Node prints it). */
function ipText(a: Buffer): string {
  if (a.length === 4) return `${a[0]}.${a[1]}.${a[2]}.${a[3]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(a.readUInt16BE(i).toString(16));
  return new SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}

/** A sun_path: bytes up to the first NUL. */
function unixPath(a: Buffer): string {
  const nul = a.indexOf(0);
  return a.subarray(0, nul < 0 ? a.length : nul).toString('utf8');
}

/**
 * Read the PROXY header at the start of `socket`, which nothing else reads
 * yet. Resolves with the header; the bytes after it are put back on the socket
 * (`unshift`) and the socket is left paused: the next reader resumes it.
 * Rejects with `ProxyProtocolError` for a bad header, when none is complete
 * within `timeoutMs`, or when the socket ends first. Never destroys the
 * socket: the caller closes it on rejection.
 */
export function readProxyHeader(socket: Socket, timeoutMs = PROXY_HEADER_TIMEOUT_MS): Promise<ProxyHeader> {
  return new Promise((resolve, reject) => {
    const parser = new ProxyHeaderParser();
    const done = (err: Error | undefined, r?: ProxyParsed): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      if (err) return reject(err);
      socket.pause();
      if (r!.rest.length > 0) socket.unshift(r!.rest);
      resolve(r!.header);
    };
    const onData = (chunk: Buffer): void => {
      let r: ProxyParsed | undefined;
      try {
        r = parser.push(chunk);
      } catch (err) {
        return done(err as Error);
      }
      if (r) done(undefined, r);
    };
    const onEnd = (): void => done(new ProxyProtocolError('connection ended before a complete PROXY header'));
    const onError = (err: Error): void => done(err);
    const timer = setTimeout(() => done(new ProxyProtocolError(`no complete PROXY header within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onError);
  });
}
