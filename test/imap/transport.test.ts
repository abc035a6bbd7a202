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
    const received = (): Buffer => Buffer.concat(chunks);
    /** Wait at most 5 s for `pred`; the assertions after each wait say what was missing or wrong. */
    const settle = async (pred: () => boolean): Promise<void> => {
      for (const end = Date.now() + 5000; !pred() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 5));
    };
    const done = (text: string, tag: string): boolean => new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`).test(text);
    try {
      await settle(() => received().includes('\r\n'));
      expect(received().toString('latin1')).toMatch(/^\* OK /);
      chunks.length = 0;
      sock.write('a LOGIN alice secret\r\nb COMPRESS DEFLATE\r\n');
      await settle(() => done(received().toString('latin1'), 'b'));
      const clear = received().toString('latin1');
      expect(tagged(clear, 'a'), clear).toMatch(/^a OK/);
      expect(tagged(clear, 'b'), clear).toMatch(/^b OK/);
      // nothing follows the tagged OK in clear text
      expect(clear.endsWith(`${tagged(clear, 'b')}\r\n`), clear).toBe(true);

      chunks.length = 0;
      sock.write(deflateRawSync(Buffer.from('c NOOP\r\n'), { finishFlush: constants.Z_SYNC_FLUSH }));
      const inflated = (): string => {
        try {
          return inflateRawSync(received(), { finishFlush: constants.Z_SYNC_FLUSH }).toString('latin1');
        } catch (err) {
          return `(not a deflate stream: ${(err as Error).message})`;
        }
      };
      await settle(() => done(inflated(), 'c'));
      const raw = received();
      const text = inflated();
      expect(raw.length, 'an answer to the deflated NOOP').toBeGreaterThan(0);
      expect(raw.toString('latin1'), 'the answer is not in clear text').not.toContain('c OK');
      expect(text, `inflated answer; raw ${raw.toString('hex').slice(0, 120)}`).toMatch(/^c OK[^\r\n]*\r\n$/);
    } finally {
      sock.destroy();
    }
  });
});
