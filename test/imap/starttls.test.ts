/**
 * STARTTLS and implicit TLS at the byte level, with a certificate made by
 * openssl for the test (removed afterwards):
 * - before STARTTLS, LOGINDISABLED is advertised and LOGIN is refused;
 * - STARTTLS, handshake, then LOGIN works, and STARTTLS/LOGINDISABLED are gone;
 * - a command sent after STARTTLS in the same packet, before the handshake
 *   (CVE-2011-0411-style injection), is discarded, not run in the TLS session;
 * - the implicit-TLS port greets, offers no STARTTLS, and accepts LOGIN.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tlsMaterial } from '../../src/imap/context.js';
import { FixtureBackend } from './fixture-backend.js';
import { startImap, type TestServer } from './harness.js';

/** Collects what a socket receives; `until` waits for a predicate on the text so far. */
class Wire {
  text = '';
  closed = false;
  private wake: (() => void) | undefined;
  constructor(readonly socket: Socket | TLSSocket) {
    socket.on('data', (d: Buffer) => {
      this.text += d.toString('latin1');
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on('error', () => undefined);
  }

  async until(pred: (t: string) => boolean, ms = 10_000): Promise<string> {
    const end = Date.now() + ms;
    while (!pred(this.text)) {
      if (this.closed || Date.now() > end) throw new Error(`waited in vain; got: ${this.text.slice(-400)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
    return this.text;
  }

  async cmd(tag: string, line: string): Promise<string> {
    const from = this.text.length;
    this.socket.write(`${tag} ${line}\r\n`);
    const re = new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`);
    await this.until((t) => re.test(t.slice(from)));
    return this.text.slice(from);
  }
}

async function plain(port: number): Promise<Wire> {
  const s = netConnect(port, '127.0.0.1');
  const w = new Wire(s);
  await w.until((t) => t.includes('\r\n'));
  return w;
}

/** Upgrade the wire's socket to TLS (client side). */
async function upgrade(w: Wire): Promise<Wire> {
  w.socket.removeAllListeners('data');
  const tls = tlsConnect({ socket: w.socket as Socket, rejectUnauthorized: false });
  await new Promise<void>((res, rej) => {
    tls.once('secureConnect', res);
    tls.once('error', rej);
  });
  return new Wire(tls);
}

describe('STARTTLS and implicit TLS (raw)', () => {
  let dir: string;
  let srv: TestServer & { tlsPort?: number };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nf-starttls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const tls = tlsMaterial(readFileSync(join(dir, 'cert.pem')), readFileSync(join(dir, 'key.pem')));
    const backend = new FixtureBackend();
    backend.add('t.box', 1, Buffer.from('From: a@b.c\r\nSubject: s\r\n\r\nbody\r\n'));
    srv = await startImap(backend, { tls, tlsPort: 0, allowPlaintextAuth: false, anonymous: false });
  });
  afterAll(async () => {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('STARTTLS, then LOGIN inside TLS; LOGIN before it is refused', async () => {
    const w = await plain(srv.port);
    expect(w.text).toMatch(/STARTTLS/);
    expect(w.text).toMatch(/LOGINDISABLED/);
    expect(await w.cmd('a', 'LOGIN alice secret')).toMatch(/^a NO \[PRIVACYREQUIRED\]/m);
    expect(await w.cmd('a2', 'AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==')).toMatch(/^a2 NO \[PRIVACYREQUIRED\]/m);
    expect(await w.cmd('b', 'STARTTLS')).toMatch(/^b OK/m);
    const t = await upgrade(w);
    const caps = await t.cmd('c', 'CAPABILITY');
    expect(caps).not.toMatch(/STARTTLS|LOGINDISABLED/);
    expect(caps).toMatch(/AUTH=PLAIN/);
    expect(await t.cmd('d', 'LOGIN alice secret')).toMatch(/^d OK/m);
    expect(await t.cmd('e', 'SELECT t.box')).toMatch(/\* 1 EXISTS/);
    expect(await t.cmd('f', 'STARTTLS')).toMatch(/^f BAD/m);
    t.socket.destroy();
  });

  it('a command sent after STARTTLS before the handshake is discarded', async () => {
    const w = await plain(srv.port);
    // one packet: the LOGIN must not be answered in clear text nor run inside TLS
    w.socket.write('a STARTTLS\r\nb LOGIN alice secret\r\nc CAPABILITY\r\n');
    await w.until((t) => /\r\na OK[^\r\n]*\r\n$/.test(t));
    expect(w.text).not.toMatch(/\r\n(b|c) /);
    const t = await upgrade(w);
    const r = await t.cmd('d', 'NOOP');
    const after = await t.cmd('e', 'SELECT t.box');
    expect(r + after).not.toMatch(/(^|\r\n)(b|c) /);
    // still not logged in: the injected LOGIN did not run
    expect(after).toMatch(/^e BAD/m);
    t.socket.destroy();
  });

  it('the implicit-TLS port greets without STARTTLS and accepts LOGIN', async () => {
    const s = tlsConnect({ host: '127.0.0.1', port: srv.tlsPort!, rejectUnauthorized: false });
    const w = new Wire(s);
    await w.until((t) => t.includes('\r\n'));
    expect(w.text).toMatch(/^\* OK /);
    expect(w.text).not.toMatch(/STARTTLS|LOGINDISABLED/);
    expect(await w.cmd('a', 'LOGIN alice secret')).toMatch(/^a OK/m);
    s.destroy();
  });
});
