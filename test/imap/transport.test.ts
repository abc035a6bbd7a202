/**
 * Transport layers: STARTTLS, implicit TLS and COMPRESS=DEFLATE with a real
 * client (imapflow), plus autologout. The certificate is made by openssl for
 * the test and removed afterwards.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tlsMaterial } from '../../src/imap/context.js';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapFlow } from 'imapflow';
import { FixtureBackend } from './fixture-backend.js';
import { startImap, type TestServer } from './harness.js';
import { RawClient, tagged } from './raw-client.js';

const article = Buffer.from('From: a@b.c\r\nSubject: tls\r\nMessage-ID: <t@b.c>\r\n\r\nbody\r\n');

describe('STARTTLS, implicit TLS, COMPRESS', () => {
  let dir: string;
  let srv: TestServer & { tlsPort?: number };
  let backend: FixtureBackend;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nf-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const tls = tlsMaterial(readFileSync(join(dir, 'cert.pem')), readFileSync(join(dir, 'key.pem')));
    backend = new FixtureBackend();
    backend.add('tls.test', 1, article);
    srv = await startImap(backend, { tls, tlsPort: 0, allowPlaintextAuth: false });
  });
  afterAll(async () => {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses plaintext login before STARTTLS and advertises LOGINDISABLED', async () => {
    const c = await RawClient.connect(srv.port);
    const caps = await c.cmd('a', 'CAPABILITY');
    expect(caps).toContain('STARTTLS');
    expect(caps).toContain('LOGINDISABLED');
    expect(tagged(await c.cmd('b', 'LOGIN alice secret'), 'b')).toMatch(/^b NO \[PRIVACYREQUIRED\]/);
    c.close();
  });

  it('imapflow upgrades with STARTTLS and reads a message', async () => {
    const client = new ImapFlow({ host: '127.0.0.1', port: srv.port, secure: false, doSTARTTLS: true, tls: { rejectUnauthorized: false },
      auth: { user: 'alice', pass: 'secret' }, logger: false });
    await client.connect();
    const lock = await client.getMailboxLock('tls.test');
    try {
      const m = await client.fetchOne('1', { source: true });
      expect(m && m.source?.equals(article)).toBe(true);
    } finally {
      lock.release();
    }
    await client.logout();
  });

  it('implicit TLS listener serves IMAP; COMPRESS=DEFLATE is negotiated and works', async () => {
    const client = new ImapFlow({ host: '127.0.0.1', port: srv.tlsPort!, secure: true, tls: { rejectUnauthorized: false },
      auth: { user: 'alice', pass: 'secret' }, logger: false });
    await client.connect();
    expect(client.capabilities.has('COMPRESS=DEFLATE') || (client as unknown as { _deflate?: unknown })._deflate !== undefined).toBe(true);
    const lock = await client.getMailboxLock('tls.test');
    try {
      for (let i = 0; i < 3; i++) {
        const m = await client.fetchOne('1', { source: true, envelope: true });
        expect(m && m.envelope?.subject).toBe('tls');
      }
    } finally {
      lock.release();
    }
    await client.logout();
  });

  it('a raw COMPRESS session: everything after OK is deflated both ways', async () => {
    const { deflateRawSync, inflateRawSync, constants } = await import('node:zlib');
    const sock = tlsConnect({ host: '127.0.0.1', port: srv.tlsPort!, rejectUnauthorized: false });
    const chunks: Buffer[] = [];
    sock.on('data', (d: Buffer) => chunks.push(d));
    const wait = (pred: () => boolean) =>
      new Promise<void>((res, rej) => {
        const t = setInterval(() => {
          if (pred()) {
            clearInterval(t);
            res();
          }
        }, 5);
        setTimeout(() => {
          clearInterval(t);
          rej(new Error(`timeout: ${Buffer.concat(chunks).toString('latin1').slice(-200)}`));
        }, 5000);
      });
    await wait(() => Buffer.concat(chunks).includes('\r\n'));
    sock.write('a LOGIN alice secret\r\nb COMPRESS DEFLATE\r\n');
    await wait(() => Buffer.concat(chunks).toString('latin1').includes('b OK'));
    chunks.length = 0;
    sock.write(deflateRawSync(Buffer.from('c NOOP\r\n'), { finishFlush: constants.Z_SYNC_FLUSH }));
    await wait(() => {
      try {
        return inflateRawSync(Buffer.concat(chunks), { finishFlush: constants.Z_SYNC_FLUSH }).toString().includes('c OK');
      } catch {
        return false;
      }
    });
    sock.destroy();
  });
});
