/**
 * LIST-MYRIGHTS (RFC 8440) is offered with ACL (a persistent flag store) and
 * answers one MYRIGHTS per listed mailbox, equal to what MYRIGHTS says; without
 * ACL neither is advertised and RETURN (MYRIGHTS) is a client error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixtureBackend } from './fixture-backend.js';
import { startImap, type TestServer } from './harness.js';
import { RawClient, tagged, untagged } from './raw-client.js';

const article = Buffer.from('From: a@x.org\r\nSubject: s\r\n\r\nb\r\n');

describe.each([true, false])('LIST RETURN (MYRIGHTS), persistent flags %s', (persistent) => {
  let srv: TestServer;
  beforeAll(async () => {
    const b = new FixtureBackend();
    b.add('r.one', 1, article);
    b.add('r.two', 1, article);
    srv = await startImap(b, { persistentFlags: persistent });
  });
  afterAll(() => srv.close());

  it(persistent ? 'gives each listed mailbox its rights' : 'is neither advertised nor accepted', async () => {
    const c = await RawClient.connect(srv.port);
    await c.cmd('l', 'LOGIN alice secret');
    const caps = await c.cmd('a', 'CAPABILITY');
    expect(/ LIST-MYRIGHTS/.test(caps)).toBe(persistent);
    expect(/ ACL/.test(caps)).toBe(persistent);
    const r = await c.cmd('b', 'LIST "" "r*" RETURN (MYRIGHTS)');
    if (!persistent) {
      expect(tagged(r, 'b')).toMatch(/^b BAD/);
      c.close();
      return;
    }
    expect(untagged(r)).toEqual([
      '* LIST (\\Noselect \\HasChildren) "." r', '* MYRIGHTS r l',
      '* LIST (\\HasNoChildren) "." r.one', '* MYRIGHTS r.one lrswt',
      '* LIST (\\HasNoChildren) "." r.two', '* MYRIGHTS r.two lrswt',
    ]);
    expect(await c.cmd('c', 'MYRIGHTS r.one')).toContain('* MYRIGHTS r.one lrswt');
    c.close();
  });
});
