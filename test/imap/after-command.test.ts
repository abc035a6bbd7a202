/**
 * ImapServerOptions.afterCommand (start.ts hands it to the leftover
 * collector): told each command's name and time once it ran, before its
 * tagged completion goes out, so what it does (a collection) is over when
 * the client reads the completion.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixtureBackend } from './fixture-backend.js';
import { startImap, type TestServer } from './harness.js';
import { RawClient, tagged } from './raw-client.js';

const article = (n: number): Buffer => Buffer.from(`From: a@x.org\r\nSubject: m${n}\r\nMessage-ID: <ac${n}@x.org>\r\n\r\nbody ${n}\r\n`, 'latin1');

describe('afterCommand hook', () => {
  let srv: TestServer;
  const told: Array<{ name: string; ms: number }> = [];
  beforeAll(async () => {
    const backend = new FixtureBackend();
    for (const uid of [1, 2, 3]) backend.add('a.box', uid, article(uid));
    srv = await startImap(backend, { hooks: { afterCommand: (name, ms) => void told.push({ name, ms }) } });
  });
  afterAll(async () => {
    await srv.close();
  });

  it('is told the registry name and time of each command that ran, before the client has its completion', async () => {
    const client = await RawClient.connect(srv.port);
    // [tag, command, the name told] — told already when the tagged reply arrives
    for (const [tag, cmd, name] of [
      ['a', 'LOGIN alice secret', 'LOGIN'],
      ['b', 'SELECT a.box', 'SELECT'],
      ['c', 'UID FETCH 1:* (UID FLAGS ENVELOPE)', 'UID FETCH'],
      ['d', 'SEARCH ALL', 'SEARCH'],
    ] as const) {
      const before = told.length;
      expect(tagged(await client.cmd(tag, cmd), tag)).toMatch(new RegExp(`^${tag} OK`));
      expect(told.slice(before).map((t) => t.name), cmd).toEqual([name]);
      expect(told.at(-1)!.ms).toBeGreaterThanOrEqual(0);
    }
    // a command that failed is not told
    const before = told.length;
    expect(tagged(await client.cmd('e', 'FETCH 9 (FLAGS)'), 'e')).toMatch(/^e BAD/);
    expect(told.length).toBe(before);
    client.close();
  });
});
