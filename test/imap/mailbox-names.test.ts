/**
 * A mailbox name that is a valid astring but not valid modified UTF-7
 * (RFC 3501 §5.1.3) is well formed: it names no mailbox, so every command
 * that takes a mailbox answers as for a missing one (NO [NONEXISTENT], or a
 * LIST with no match) — BAD is for grammar errors only. With UTF8=ACCEPT
 * (RFC 6855) names are UTF-8 and are not decoded as modified UTF-7.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixtureBackend } from './fixture-backend.js';
import { startImap, type TestServer } from './harness.js';
import { RawClient, tagged, untagged } from './raw-client.js';

const article = Buffer.from(
  'From: a@example.org\r\nNewsgroups: de.test\r\nSubject: s\r\nMessage-ID: <n@example.org>\r\n\r\nbody\r\n',
  'latin1',
);

/** Printable ASCII that is a valid atom: `&'+,-` is not a valid encoded run. */
const INVALID = "!#$&'+,-.0123456789:;<=>?@^_`|[}";
/** More names that are astrings but not canonical modified UTF-7. */
const MORE_INVALID = ['AT&T', '"&AGE-"', '&Jjo', '"&Jjo!-"', '"&ZeVnLIqe-&ZeVnLIqe-"', '&U,BTFw'];

describe('mailbox names that are not modified UTF-7', () => {
  let srv: TestServer;
  let c: RawClient;
  beforeAll(async () => {
    const backend = new FixtureBackend();
    backend.add('de.test', 1, article);
    backend.add('de.grüße', 1, article);
    srv = await startImap(backend);
    c = await RawClient.connect(srv.port);
    expect(tagged(await c.cmd('l', 'LOGIN alice secret'), 'l')).toMatch(/^l OK/);
  });
  afterAll(async () => {
    c.close();
    await srv.close();
  });

  const nonexistent = /^t NO \[NONEXISTENT\]/;

  it.each([
    ['SELECT', `SELECT ${INVALID}`],
    ['EXAMINE', `EXAMINE ${INVALID}`],
    ['STATUS', `STATUS ${INVALID} (MESSAGES UIDNEXT)`],
    ['SUBSCRIBE', `SUBSCRIBE ${INVALID}`],
    ['UNSUBSCRIBE', `UNSUBSCRIBE ${INVALID}`],
    ['GETACL', `GETACL ${INVALID}`],
    ['MYRIGHTS', `MYRIGHTS ${INVALID}`],
    ['LISTRIGHTS', `LISTRIGHTS ${INVALID} bob`],
  ])('%s answers NO [NONEXISTENT], not BAD', async (_name, command) => {
    const r = await c.cmd('t', command);
    expect(tagged(r, 't'), r).toMatch(nonexistent);
    expect(untagged(r), 'nothing about the name is reported').toEqual([]);
  });

  it('every other invalid form is NO [NONEXISTENT] too', async () => {
    for (const name of MORE_INVALID) {
      const r = await c.cmd('t', `SELECT ${name}`);
      expect(tagged(r, 't'), name).toMatch(nonexistent);
    }
  });

  it('LIST and LSUB with such a pattern answer OK and list nothing', async () => {
    for (const command of [`LIST "" ${INVALID}%*`, `LIST "" "${INVALID}*"`, `LIST ${INVALID} *`, 'LIST "" (&Jjo* &U,BTFw%)', `LSUB "" ${INVALID}*`]) {
      const r = await c.cmd('t', command);
      expect(tagged(r, 't'), command).toMatch(/^t OK/);
      expect(untagged(r), command).toEqual([]);
    }
    // the list pattern of the extended form still matches what it should beside the invalid one
    const r = await c.cmd('t', 'LIST "" (de.test &Jjo*)');
    expect(untagged(r)).toEqual(['* LIST (\\HasNoChildren) "." de.test']);
  });

  it('commands that change mailboxes are refused with NO, not BAD', async () => {
    for (const command of [`CREATE ${INVALID}`, `DELETE ${INVALID}`, `RENAME de.test ${INVALID}`, `SETACL ${INVALID} bob lr`, `DELETEACL ${INVALID} bob`]) {
      expect(tagged(await c.cmd('t', command), 't'), command).toMatch(/^t NO \[/);
    }
    await c.cmd('s', 'EXAMINE de.test');
    for (const command of [`COPY 1 ${INVALID}`, `UID MOVE 1 ${INVALID}`]) {
      expect(tagged(await c.cmd('t', command), 't'), command).toMatch(/^t NO \[/);
    }
    await c.cmd('u', 'UNSELECT');
  });

  it('valid modified UTF-7 still names the mailbox, and grammar errors stay BAD', async () => {
    const r = await c.cmd('t', 'STATUS de.gr&APwA3w-e (MESSAGES)');
    expect(r).toContain('* STATUS de.gr&APwA3w-e (MESSAGES 1)');
    expect(tagged(await c.cmd('t', 'SELECT "unterminated'), 't')).toMatch(/^t BAD/);
    expect(tagged(await c.cmd('t', 'SELECT a(b'), 't')).toMatch(/^t BAD/);
    expect(tagged(await c.cmd('t', 'SELECT'), 't')).toMatch(/^t BAD/);
  });

  it('after ENABLE UTF8=ACCEPT names are UTF-8: no modified UTF-7 decoding', async () => {
    const u = await RawClient.connect(srv.port);
    await u.cmd('l', 'LOGIN alice secret');
    expect(await u.cmd('e', 'ENABLE UTF8=ACCEPT')).toContain('* ENABLED UTF8=ACCEPT');
    const utf8 = await u.cmd('a', Buffer.from('STATUS "de.grüße" (MESSAGES)', 'utf8'));
    expect(Buffer.from(utf8, 'latin1').toString('utf8')).toContain('* STATUS "de.grüße" (MESSAGES 1)');
    expect(tagged(await u.cmd('b', 'STATUS de.gr&APwA3w-e (MESSAGES)'), 'b'), 'the mUTF-7 form is a different (missing) name').toMatch(/^b NO \[NONEXISTENT\]/);
    expect(tagged(await u.cmd('c', `SELECT ${INVALID}`), 'c')).toMatch(/^c NO \[NONEXISTENT\]/);
    expect(tagged(await u.cmd('d', Buffer.from([0x53, 0x45, 0x4c, 0x45, 0x43, 0x54, 0x20, 0x22, 0xff, 0xfe, 0x22])), 'd'), 'invalid UTF-8 is a grammar error').toMatch(/^d BAD/);
    u.close();
  });
});
