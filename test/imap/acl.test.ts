/**
 * The ACL commands (RFC 4314) and SUBSCRIBE/UNSUBSCRIBE, as the client sees
 * them: the caller's own rights are listed, changing rights is NO [NOPERM],
 * and each command takes exactly its arguments (one missing or one more is BAD).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixtureBackend } from './fixture-backend.js';
import { startImap, type TestServer } from './harness.js';
import { RawClient, tagged, untagged } from './raw-client.js';

const article = Buffer.from('From: a@x.org\r\nSubject: s\r\n\r\nb\r\n');

describe('ACL commands and SUBSCRIBE', () => {
  let srv: TestServer;
  let c: RawClient;
  beforeAll(async () => {
    const b = new FixtureBackend();
    b.add('r.one', 1, article);
    srv = await startImap(b, { persistentFlags: true });
    c = await RawClient.connect(srv.port);
    expect(tagged(await c.cmd('l', 'LOGIN alice secret'), 'l')).toMatch(/^l OK/);
  });
  afterAll(async () => {
    c.close();
    await srv.close();
  });

  it('MYRIGHTS, GETACL and LISTRIGHTS answer for the caller', async () => {
    expect(untagged(await c.cmd('a', 'MYRIGHTS r.one'))).toEqual(['* MYRIGHTS r.one lrswt']);
    expect(untagged(await c.cmd('b', 'GETACL r.one'))).toEqual(['* ACL r.one alice lrswt']);
    expect(untagged(await c.cmd('c', 'LISTRIGHTS r.one bob'))).toEqual(['* LISTRIGHTS r.one bob "" l r s w t']);
  });

  it('SETACL and DELETEACL are refused with NOPERM', async () => {
    const text = 'NO [NOPERM] Rights on newsgroups are fixed: read and personal flags only';
    expect(tagged(await c.cmd('d', 'SETACL r.one bob lr'), 'd')).toBe(`d ${text}`);
    expect(tagged(await c.cmd('e', 'DELETEACL r.one bob'), 'e')).toBe(`e ${text}`);
  });

  it('SUBSCRIBE and UNSUBSCRIBE take one mailbox', async () => {
    expect(tagged(await c.cmd('f', 'SUBSCRIBE r.one'), 'f')).toMatch(/^f OK/);
    expect(tagged(await c.cmd('g', 'UNSUBSCRIBE r.one'), 'g')).toMatch(/^g OK/);
  });

  it.each([
    'MYRIGHTS', 'MYRIGHTS r.one x', 'GETACL r.one x', 'LISTRIGHTS r.one', 'LISTRIGHTS r.one bob x',
    'SETACL r.one bob', 'SETACL r.one bob lr x', 'DELETEACL r.one', 'DELETEACL r.one bob x',
    'SUBSCRIBE', 'SUBSCRIBE r.one x', 'UNSUBSCRIBE r.one x',
  ])('%s is BAD', async (line) => {
    expect(tagged(await c.cmd('h', line), 'h')).toMatch(/^h BAD /);
  });
});
