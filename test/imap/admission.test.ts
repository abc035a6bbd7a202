/**
 * Admission over real TCP (admission.ts, server.ts): the per-source and total
 * connection caps greet the next connection `* BYE [UNAVAILABLE]`, loopback is
 * exempt from the per-source cap unless configured otherwise, the pre-auth
 * deadline closes a socket that keeps trickling bytes, and the pre-auth
 * command cap ends a connection that will not log in. Sources are distinct
 * loopback addresses (127.0.0.x).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tlsMaterial, type TlsMaterial } from '../../src/imap/context.js';
import { Admission, parseAddressRange, preAuthCommandGuard, sourceKey } from '../../src/imap/admission.js';
import { Session } from '../../src/imap/session.js';
import { Peer, settle, startLimited, type LimitedServer } from './peer.js';

let srv: LimitedServer | undefined;
const peers: Peer[] = [];
const open = async (port: number, from: string): Promise<Peer> => {
  const p = await Peer.open(port, from);
  peers.push(p);
  return p;
};

afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  await srv?.close();
  srv = undefined;
});

describe('connection caps', () => {
  it('greets the (N+1)th connection from one source with BYE [UNAVAILABLE]; other sources and freed slots are admitted', async () => {
    srv = await startLimited({ maxConnectionsPerAddress: 3, exemptAddresses: [] });
    const first = [];
    for (let i = 0; i < 3; i++) first.push(await open(srv.port, '127.0.0.2'));
    for (const p of first) expect(p.firstLine).toMatch(/^\* OK /);
    const extra = await open(srv.port, '127.0.0.2');
    expect(extra.firstLine).toMatch(/^\* BYE \[UNAVAILABLE\] Too many connections from your address/);
    await extra.closedWithin(5_000);
    expect((await open(srv.port, '127.0.0.3')).firstLine).toMatch(/^\* OK /);
    expect(srv.server.connectionCount).toBe(4);
    first[0]!.close();
    await settle(srv.server, 3);
    const again = await open(srv.port, '127.0.0.2');
    expect(again.firstLine).toMatch(/^\* OK /);
    expect(await again.cmd('a', 'LOGIN alice secret')).toMatch(/^a OK/);
  });

  it('counts loopback only in the total by default (a local proxy carries everyone)', async () => {
    srv = await startLimited({ maxConnectionsPerAddress: 2 });
    for (let i = 0; i < 4; i++) expect((await open(srv.port, '127.0.0.1')).firstLine).toMatch(/^\* OK /);
  });

  it('greets the connection beyond the total cap with BYE [UNAVAILABLE], whatever its source', async () => {
    srv = await startLimited({ maxConnections: 4, exemptAddresses: [] });
    for (let i = 0; i < 4; i++) expect((await open(srv.port, `127.0.0.${10 + i}`)).firstLine).toMatch(/^\* OK /);
    const extra = await open(srv.port, '127.0.0.20');
    expect(extra.firstLine).toMatch(/^\* BYE \[UNAVAILABLE\] Too many connections/);
    await extra.closedWithin(5_000);
    expect(srv.server.connectionCount).toBe(4);
  });
});

describe('before login', () => {
  it('closes a connection at the pre-auth deadline even while it trickles bytes', async () => {
    srv = await startLimited({ preAuthDeadlineMs: 1_000 });
    const slow = await open(srv.port, '127.0.0.1');
    const loggedIn = await open(srv.port, '127.0.0.1');
    expect(await loggedIn.cmd('a', 'LOGIN alice secret')).toMatch(/^a OK/);
    // one byte every 100 ms would reset any inactivity timer forever
    const drip = setInterval(() => slow.socket.write('x'), 100);
    try {
      await slow.closedWithin(6_000);
    } finally {
      clearInterval(drip);
    }
    expect(slow.text).toMatch(/\* BYE Autologout: no login within 1 s\r\n/);
    // the deadline does not touch a session that logged in in time
    expect(await loggedIn.cmd('b', 'NOOP')).toMatch(/^b OK/);
    expect(loggedIn.closed).toBe(false);
  });

  it('ends the connection at the first command beyond the pre-login cap, and counts none after login', async () => {
    srv = await startLimited({ maxPreAuthCommands: 5 });
    const p = await open(srv.port, '127.0.0.1');
    for (let i = 0; i < 5; i++) expect(await p.cmd(`n${i}`, i % 2 ? 'NOOP' : 'BOGUS')).toMatch(new RegExp(`^n${i} (OK|BAD)`));
    expect(await p.cmd('n5', 'NOOP')).toBe('* BYE [LIMIT] Too many commands before login');
    await p.closedWithin(5_000);

    const q = await open(srv.port, '127.0.0.1');
    expect(await q.cmd('c', 'CAPABILITY')).toMatch(/^c OK/);
    expect(await q.cmd('l', 'LOGIN alice secret')).toMatch(/^l OK/);
    for (let i = 0; i < 10; i++) expect(await q.cmd(`m${i}`, 'NOOP')).toMatch(new RegExp(`^m${i} OK`));
  });
});

describe('implicit TLS', () => {
  let dir: string;
  let tls: TlsMaterial;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nf-adm-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    tls = tlsMaterial(readFileSync(join(dir, 'cert.pem')), readFileSync(join(dir, 'key.pem')));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A TLS connection from `from`: its greeting, or 'closed' if the server closed it first. */
  const tlsGreeting = (port: number, from: string): Promise<{ line: string; end: () => void }> =>
    new Promise((resolve) => {
      // localAddress reaches net.connect underneath (not in the TLS option type, hence the variable)
      const opts = { port, host: '127.0.0.1', localAddress: from, rejectUnauthorized: false };
      const s = tlsConnect(opts);
      let text = '';
      s.setEncoding('latin1');
      s.on('data', (d: string) => {
        text += d;
        if (text.includes('\r\n')) resolve({ line: text.slice(0, text.indexOf('\r\n')), end: () => s.destroy() });
      });
      s.on('error', () => undefined);
      s.on('close', () => resolve({ line: 'closed', end: () => undefined }));
    });

  it('counts TLS connections in the same caps, refusing before the handshake', async () => {
    srv = await startLimited({ maxConnectionsPerAddress: 2, exemptAddresses: [] }, undefined, tls);
    const a = await tlsGreeting(srv.tlsPort!, '127.0.0.2');
    const b = await tlsGreeting(srv.tlsPort!, '127.0.0.2');
    expect([a.line, b.line].every((l) => l.startsWith('* OK'))).toBe(true);
    expect((await tlsGreeting(srv.tlsPort!, '127.0.0.2')).line).toBe('closed');
    expect((await open(srv.port, '127.0.0.2')).firstLine).toMatch(/^\* BYE \[UNAVAILABLE\]/);
    a.end();
    await settle(srv.server, 1);
    const c = await tlsGreeting(srv.tlsPort!, '127.0.0.2');
    expect(c.line).toMatch(/^\* OK/);
    b.end();
    c.end();
  });

  it('closes a socket that never finishes its TLS handshake at the pre-auth deadline', async () => {
    srv = await startLimited({ preAuthDeadlineMs: 1_000 }, undefined, tls);
    const raw = tcpConnect({ port: srv.tlsPort!, host: '127.0.0.1' });
    raw.on('error', () => undefined);
    const closed = new Promise<void>((r) => raw.on('close', () => r()));
    // a TLS record header announcing 16 KiB of handshake, then its body one byte at a time
    raw.write(Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00]));
    const drip = setInterval(() => raw.write(Buffer.from([0x01])), 100);
    const t = setTimeout(() => raw.destroy(new Error('still open')), 6_000);
    try {
      await closed;
      expect(raw.errored?.message).not.toBe('still open');
    } finally {
      clearInterval(drip);
      clearTimeout(t);
    }
  });
});

describe('admission units', () => {
  it('keys IPv4 by address (also IPv4-mapped) and IPv6 by /64', () => {
    expect(sourceKey('192.0.2.7')).toBe('192.0.2.7');
    expect(sourceKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(sourceKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(sourceKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });

  it('parses exempt ranges and refuses bad ones with a message', () => {
    expect(parseAddressRange('10.0.0.0/8')).toEqual({ address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    expect(parseAddressRange('::1')).toEqual({ address: '::1', prefix: 128, family: 'ipv6' });
    for (const bad of ['10.0.0.0/33', 'example.org', '1.2.3.4/8/1', '::/x', '']) {
      expect(typeof parseAddressRange(bad)).toBe('string');
    }
  });

  it('counts per /64 and in total, exempts ranges, and releases each slot once', () => {
    const a = new Admission({
      maxConnections: 3, maxConnectionsPerAddress: 2, exemptAddresses: ['10.0.0.0/8'],
      preAuthDeadlineMs: 60_000, maxPreAuthCommands: 20,
    });
    const s1 = a.admit('2001:db8::1');
    const s2 = a.admit('2001:db8::2');
    expect(typeof s1 === 'object' && typeof s2 === 'object').toBe(true);
    expect(a.admit('2001:db8::3')).toMatch(/from your address/);
    const ex = a.admit('10.1.2.3');
    expect(typeof ex === 'object' && ex.sourceKey === undefined).toBe(true);
    expect(a.admit('192.0.2.1')).toMatch(/^Too many connections;/);
    if (typeof s1 !== 'object') throw new Error('unreachable');
    s1.release();
    s1.release();
    expect(a.open).toBe(2);
    expect(typeof a.admit('2001:db8::4')).toBe('object');
  });

  it('the command guard counts only before login', () => {
    const guard = preAuthCommandGuard(2);
    const s = new Session();
    expect([guard(s), guard(s)]).toEqual([undefined, undefined]);
    expect(guard(s)?.status).toBe('BYE');
    const t = new Session();
    const g2 = preAuthCommandGuard(1);
    g2(t);
    t.state = 'auth';
    expect(g2(t)).toBeUndefined();
  });
});
