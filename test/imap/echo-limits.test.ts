/**
 * What a response repeats of client input is short and 7-bit: a mailbox name
 * of 60,000 characters is not sent back whole, and a non-ASCII name is
 * repeated in its modified UTF-7 form (response text is US-ASCII for
 * IMAP4rev1 clients, RFC 3501 §9 `text`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixtureBackend } from './fixture-backend.js';
import { startImap, type TestServer } from './harness.js';
import { RawClient, tagged } from './raw-client.js';
import { ECHO_MAX, echo, echoMailbox } from '../../src/imap/response-text.js';

const article = Buffer.from(
  'From: a@example.org\r\nNewsgroups: de.test\r\nSubject: s\r\nMessage-ID: <n@example.org>\r\n\r\nbody\r\n',
  'latin1',
);

/** Longest tagged line a refusal about a long name may take: tag, status, code, the cut name and a few words. */
const MAX_REPLY = ECHO_MAX + 80;

describe('echo: client text in response texts', () => {
  it('keeps short printable text, cuts long text and marks the cut, replaces non-ASCII', () => {
    expect(echo('comp.lang.misc')).toBe('comp.lang.misc');
    expect(echo('x'.repeat(ECHO_MAX))).toBe('x'.repeat(ECHO_MAX));
    expect(echo('y'.repeat(60_000))).toBe('y'.repeat(ECHO_MAX) + '...');
    expect(echo('a\r\nb\u0000c\u00e9d')).toBe('a??b?c?d');
    expect(echoMailbox('日本語')).toBe('&ZeVnLIqe-');
    expect(echoMailbox('Tom & Jerry')).toBe('Tom &- Jerry');
  });
});

describe('long and non-ASCII names in refusals', () => {
  let srv: TestServer;
  let c: RawClient;
  beforeAll(async () => {
    const backend = new FixtureBackend();
    backend.add('de.test', 1, article);
    srv = await startImap(backend);
    c = await RawClient.connect(srv.port);
    expect(tagged(await c.cmd('l', 'LOGIN alice secret'), 'l')).toMatch(/^l OK/);
  });
  afterAll(async () => {
    c.close();
    await srv.close();
  });

  const long = 'n'.repeat(60_000);

  it.each([
    ['SELECT', `SELECT ${long}`],
    ['EXAMINE', `EXAMINE "${long}"`],
    ['STATUS', `STATUS ${long} (MESSAGES)`],
    ['SUBSCRIBE', `SUBSCRIBE ${long}`],
    ['MYRIGHTS', `MYRIGHTS ${long}`],
    ['GETACL', `GETACL ${long}`],
  ])('%s of a 60,000-character name answers NO with the name cut short', async (_n, command) => {
    const r = await c.cmd('t', command);
    const line = tagged(r, 't');
    expect(line.slice(0, 80)).toMatch(/^t NO \[NONEXISTENT\]/);
    expect(line.length, line.slice(0, 200)).toBeLessThanOrEqual(MAX_REPLY);
    expect(r.length, 'no other line repeats it').toBeLessThanOrEqual(MAX_REPLY + 2);
  });

  it('a missing non-ASCII mailbox is named in modified UTF-7 in the refusal', async () => {
    const r = await c.cmd('t', Buffer.from('SELECT "de.grüße"', 'utf8'));
    const line = tagged(r, 't');
    expect(line).toMatch(/^t NO \[NONEXISTENT\]/);
    expect(line).toContain('de.gr&APwA3w-e');
    expect([...Buffer.from(r, 'latin1')].every((b) => b < 0x80), 'the response is 7-bit').toBe(true);
  });

  it('a name that is not modified UTF-7 is repeated as sent (cut), never as a decoded string', async () => {
    const r = await c.cmd('t', `SELECT &Jjo${'!'.repeat(500)}`);
    const line = tagged(r, 't');
    expect(line).toMatch(/^t NO \[NONEXISTENT\]/);
    expect(line).toContain('&Jjo!!!');
    expect(line.length).toBeLessThanOrEqual(MAX_REPLY);
  });
});
