/**
 * Failed logins across connections, over real TCP (guard.ts behind LOGIN and
 * AUTHENTICATE PLAIN): after the threshold a source, or a user name, is
 * refused `NO [UNAVAILABLE]` without a password check (the checker counts
 * its calls), while another source or user still logs in, and the user still
 * logs in from a source it used before the attack.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GuardedAuthenticator } from '../../src/app/auth/guard.js';
import { Users } from '../../src/app/auth/users.js';
import { Peer, settle, startLimited, type LimitedServer } from '../imap/peer.js';
import { SessionFlagStore } from '../../src/stateagent/stores/session.js';

const users = Users.parse('alice:{PLAIN}secret\nbob:{PLAIN}hunter2\n');
/** The users file, counting the password checks it is asked for. */
const counting = () => {
  const c = { checks: 0, verify: (u: string, p: string) => (c.checks++, users.verify(u, p)) };
  return c;
};

let srv: LimitedServer | undefined;
const peers: Peer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  await srv?.close();
  srv = undefined;
});

/** One LOGIN on a fresh connection from `from`; the tagged reply. */
async function login(from: string, user: string, password: string): Promise<string> {
  const p = await Peer.open(srv!.port, from);
  peers.push(p);
  return p.cmd('a', `LOGIN ${user} ${password}`);
}

describe('failed logins across connections', () => {
  it('refuses a source after its failures without checking, while other sources log in', async () => {
    const checker = counting();
    const auth = new GuardedAuthenticator(checker, { failuresPerAddress: 3, failuresPerUser: 100 });
    srv = await startLimited({ exemptAddresses: [] }, auth);
    for (let i = 0; i < 3; i++) expect(await login('127.0.0.2', i === 1 ? 'bob' : 'alice', 'wrong')).toMatch(/^a NO \[AUTHENTICATIONFAILED\]/);
    expect(checker.checks).toBe(3);
    // over the limit: refused at once, even with the right password, and no check runs
    expect(await login('127.0.0.2', 'alice', 'secret')).toBe('a NO [UNAVAILABLE] Too many failed logins; try again later');
    const plain = Buffer.from('\0alice\0secret').toString('base64');
    const p = await Peer.open(srv.port, '127.0.0.2');
    peers.push(p);
    expect(await p.cmd('b', `AUTHENTICATE PLAIN ${plain}`)).toMatch(/^b NO \[UNAVAILABLE\]/);
    expect(checker.checks).toBe(3);
    // another source is not held
    expect(await login('127.0.0.3', 'alice', 'secret')).toMatch(/^a OK/);
    expect(checker.checks).toBe(4);
  });

  it('refuses a user after failures from many sources, but not its known source nor other users', async () => {
    const checker = counting();
    const auth = new GuardedAuthenticator(checker, { failuresPerAddress: 100, failuresPerUser: 3 });
    srv = await startLimited({ exemptAddresses: [] }, auth);
    expect(await login('127.0.0.8', 'bob', 'hunter2')).toMatch(/^a OK/); // bob's usual source
    for (const from of ['127.0.0.4', '127.0.0.5', '127.0.0.6']) {
      expect(await login(from, 'bob', 'guess')).toMatch(/^a NO \[AUTHENTICATIONFAILED\]/);
    }
    const before = checker.checks;
    expect(await login('127.0.0.7', 'bob', 'hunter2')).toMatch(/^a NO \[UNAVAILABLE\]/);
    expect(checker.checks).toBe(before);
    expect(await login('127.0.0.7', 'alice', 'secret')).toMatch(/^a OK/);
    expect(await login('127.0.0.8', 'bob', 'hunter2')).toMatch(/^a OK/);
  });

  it('a refused attempt still counts toward the per-connection limit (BYE after three)', async () => {
    const auth = new GuardedAuthenticator(counting(), { failuresPerAddress: 1, failuresPerUser: 100 });
    srv = await startLimited({ exemptAddresses: [] }, auth);
    const p = await Peer.open(srv.port, '127.0.0.9');
    peers.push(p);
    expect(await p.cmd('a', 'LOGIN alice no')).toMatch(/^a NO \[AUTHENTICATIONFAILED\]/);
    expect(await p.cmd('b', 'LOGIN alice no')).toMatch(/^b NO \[UNAVAILABLE\]/);
    expect(await p.cmd('c', 'LOGIN alice no')).toBe('* BYE [AUTHENTICATIONFAILED] Too many failed logins');
    await p.closedWithin(5_000);
  });

  it('answers NO [UNAVAILABLE] at once when no check can wait', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = { checks: 0, verify: async (u: string, pw: string) => (slow.checks++, await gate, users.verify(u, pw)) };
    const auth = new GuardedAuthenticator(slow, { passwordChecks: 1, passwordCheckQueue: 0 });
    srv = await startLimited({}, auth);
    const first = await Peer.open(srv.port, '127.0.0.1');
    peers.push(first);
    first.socket.write('a LOGIN alice secret\r\n');
    while (slow.checks === 0) await new Promise((r) => setTimeout(r, 5));
    expect(await login('127.0.0.1', 'bob', 'hunter2')).toBe('a NO [UNAVAILABLE] Server busy; try again later');
    release();
    await first.until((t) => /\r\na OK/.test(t));
    expect(slow.checks).toBe(1);
  });

  it('a check that ends after the pre-auth deadline closed the connection logs nobody in', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const gated = { checks: 0, verify: async (u: string, pw: string) => (gated.checks++, await gate, users.verify(u, pw)) };
    let stores = 0;
    const flagStoreFor = () => (stores++, new SessionFlagStore());
    srv = await startLimited({ preAuthDeadlineMs: 300 }, new GuardedAuthenticator(gated), undefined, { flagStoreFor });
    const p = await Peer.open(srv.port, '127.0.0.1');
    peers.push(p);
    p.socket.write('a LOGIN alice secret\r\n');
    await p.closedWithin(5_000);
    expect(p.text).toMatch(/\* BYE Autologout/);
    expect(gated.checks).toBe(1);
    await settle(srv.server, 0); // the server has torn the session down
    release();
    await new Promise((r) => setTimeout(r, 50));
    // no session (and no flag-store watch, which nothing would remove) for the closed connection
    expect(stores).toBe(0);
  });
});
