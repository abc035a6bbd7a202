/**
 * STARTTLS (RFC 4642), implicit TLS, AUTHINFO after TLS (RFC 4643) and
 * COMPRESS DEFLATE (RFC 8054) against the fake peer. The certificate is a
 * throw-away self-signed one made with openssl in a temp dir.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import * as net from 'node:net';
import type { Readable } from 'node:stream';
import { NntpClient } from '../../src/nntp/client.js';
import { FakeSession, fakeNntpServer, makeArticle, startFakePeer, type FakePeer } from './fake-peer.js';

let dir: string;
let key: Buffer;
let cert: Buffer;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nntp-tls-'));
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
     '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
     '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
    { stdio: 'ignore' },
  );
  key = readFileSync(join(dir, 'key.pem'));
  cert = readFileSync(join(dir, 'cert.pem'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let peer: FakePeer | undefined;
let client: NntpClient | undefined;
let tlsServer: tls.Server | undefined;
afterEach(async () => {
  client?.destroy();
  client = undefined;
  await peer?.close();
  peer = undefined;
  if (tlsServer) await new Promise<void>((r) => tlsServer!.close(() => r()));
  tlsServer = undefined;
});

const art = makeArticle('<z@x>', 'zipped', Buffer.from('..dot\r\n\xff\xfe 8-bit\r\n'.repeat(200), 'latin1'));
const groups = () => ({ g: { articles: new Map([[1, art]]) } });
const CAPS = ['VERSION 2', 'READER', 'OVER', 'STARTTLS', 'AUTHINFO USER', 'COMPRESS DEFLATE'];

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('STARTTLS', () => {
  it('upgrades when offered, re-reads capabilities, then authenticates over TLS', async () => {
    peer = await startFakePeer(fakeNntpServer({ groups: groups(), capabilities: CAPS, tls: { key, cert }, auth: { user: 'u', password: 's3cret' } }));
    client = await NntpClient.connect({
      host: '127.0.0.1', port: peer.port, tlsOptions: { ca: cert }, user: 'u', password: 's3cret',
    });
    const s = peer.sessions[0]!;
    expect(s.received).toEqual(['CAPABILITIES', 'STARTTLS', 'CAPABILITIES', 'AUTHINFO USER u', 'AUTHINFO PASS s3cret', 'CAPABILITIES']);
    expect(s.socket).toBeInstanceOf(tls.TLSSocket);
    expect(client.capabilities.has('STARTTLS')).toBe(false);
    const h = await client.article('g', 1);
    expect((await readAll(h.stream)).equals(art)).toBe(true);
  });

  it('an untrusted certificate → TLS error, no crash', async () => {
    peer = await startFakePeer(fakeNntpServer({ groups: groups(), capabilities: CAPS, tls: { key, cert } }));
    await expect(NntpClient.connect({ host: '127.0.0.1', port: peer.port, commandTimeoutMs: 2000 })).rejects.toMatchObject({ code: 'TLS' });
  });

  it("starttls: 'require' without STARTTLS offered → TLS error", async () => {
    peer = await startFakePeer(fakeNntpServer({ groups: groups() }));
    await expect(NntpClient.connect({ host: '127.0.0.1', port: peer.port, starttls: 'require' })).rejects.toMatchObject({ code: 'TLS' });
  });

  it("starttls: 'never' stays plain", async () => {
    peer = await startFakePeer(fakeNntpServer({ groups: groups(), capabilities: CAPS, tls: { key, cert } }));
    client = await NntpClient.connect({ host: '127.0.0.1', port: peer.port, starttls: 'never' });
    expect(peer.sessions[0]!.received).toEqual(['CAPABILITIES']);
  });

  it("starttls 'auto' refused with 580 continues in plain text", async () => {
    peer = await startFakePeer(fakeNntpServer({ groups: groups(), capabilities: CAPS }));
    client = await NntpClient.connect({ host: '127.0.0.1', port: peer.port });
    expect((await client.stat('g', 1)).messageId).toBe('<z@x>');
  });
});

describe('implicit TLS', () => {
  async function tlsPeer(): Promise<number> {
    const handler = fakeNntpServer({ groups: groups() });
    tlsServer = tls.createServer({ key, cert }, (sock) => void handler(new FakeSession(sock)));
    await new Promise<void>((r) => tlsServer!.listen(0, '127.0.0.1', r));
    return (tlsServer.address() as net.AddressInfo).port;
  }

  it('works with a trusted certificate', async () => {
    const port = await tlsPeer();
    client = await NntpClient.connect({ host: '127.0.0.1', port, tls: true, tlsOptions: { ca: cert } });
    expect((await client.stat('g', 1)).number).toBe(1);
  });

  it('untrusted certificate → TLS error', async () => {
    const port = await tlsPeer();
    await expect(NntpClient.connect({ host: '127.0.0.1', port, tls: true, greetingTimeoutMs: 2000 })).rejects.toMatchObject({ code: 'TLS' });
  });
});

describe('COMPRESS DEFLATE', () => {
  it('negotiates when asked and offered; data round-trips byte-exactly', async () => {
    peer = await startFakePeer(fakeNntpServer({ groups: groups(), capabilities: CAPS.filter((c) => c !== 'STARTTLS') }));
    client = await NntpClient.connect({ host: '127.0.0.1', port: peer.port, compress: true });
    expect(peer.sessions[0]!.received).toEqual(['CAPABILITIES', 'COMPRESS DEFLATE']);
    const [h, st, ov] = await Promise.all([
      client.article('g', 1),
      client.stat('g', 1),
      (async () => {
        const out = [];
        for await (const r of client!.over('g', [1, 1])) out.push(r.subject);
        return out;
      })(),
    ]);
    expect((await readAll(h.stream)).equals(art)).toBe(true);
    expect(st.messageId).toBe('<z@x>');
    expect(ov).toEqual(['zipped']);
    expect(peer.sessions[0]!.received.slice(2)).toContain('STAT 1');
  });

  it('is not used unless asked', async () => {
    peer = await startFakePeer(fakeNntpServer({ groups: groups(), capabilities: CAPS.filter((c) => c !== 'STARTTLS') }));
    client = await NntpClient.connect({ host: '127.0.0.1', port: peer.port });
    expect(peer.sessions[0]!.received).toEqual(['CAPABILITIES']);
  });
});
