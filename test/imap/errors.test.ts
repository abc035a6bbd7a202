/**
 * Errors become responses in one place, the connection (STYLE §6, §7):
 * BackendError by code with the command's subject, FlagStoreError as
 * UNAVAILABLE or CANNOT, anything else NO [SERVERBUG] with the connection
 * kept; untagged data sent before a failure stays, then the tagged NO.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Readable } from 'node:stream';
import { FixtureBackend } from './fixture-backend.js';
import { startImap, type TestServer } from './harness.js';
import { RawClient, tagged } from './raw-client.js';
import { BackendError, type BackendErrorCode, type ByteRange, type MailboxEntry, type MailboxHandle, type StatusData } from '../../src/export/interface.js';
import { SessionFlagStore } from '../../src/stateagent/stores/session.js';
import { FlagStoreError, type FlagStoreErrorCode } from '../../src/stateagent/flagstore.js';

const article = (n: number): Buffer => Buffer.from(`Subject: article ${n}\r\nFrom: A <a@example.org>\r\n\r\nBody ${n}.\r\n`, 'latin1');

/** A fixture whose calls fail as the test says. */
class FailingBackend extends FixtureBackend {
  statusFails: unknown = undefined;
  listFails: unknown = undefined;
  /** UID → what its content() throws. */
  readonly contentFails = new Map<number, unknown>();

  override async status(name: string): Promise<StatusData> {
    if (this.statusFails !== undefined) throw this.statusFails;
    return super.status(name);
  }

  override async mailboxes(): Promise<MailboxEntry[]> {
    if (this.listFails !== undefined) throw this.listFails;
    return super.mailboxes();
  }

  override async open(name: string): Promise<MailboxHandle> {
    const h = await super.open(name);
    const content = h.content.bind(h);
    h.content = async (uid: number, range?: ByteRange): Promise<Readable> => {
      const err = this.contentFails.get(uid);
      if (err !== undefined) throw err;
      return content(uid, range);
    };
    return h;
  }
}

let flagsFail: FlagStoreErrorCode | undefined;
let viewFails = false;
class FailingFlags extends SessionFlagStore {
  override async update(...a: Parameters<SessionFlagStore['update']>): ReturnType<SessionFlagStore['update']> {
    if (flagsFail !== undefined) throw new FlagStoreError(flagsFail, `agent says ${flagsFail}`);
    return super.update(...a);
  }
  override async view(...a: Parameters<SessionFlagStore['view']>): ReturnType<SessionFlagStore['view']> {
    if (viewFails) throw new FlagStoreError('UNAVAILABLE', 'agent unreachable');
    return super.view(...a);
  }
}

describe('errors become responses in the connection', () => {
  let backend: FailingBackend;
  let srv: TestServer;
  let c: RawClient;
  beforeAll(async () => {
    backend = new FailingBackend();
    for (const n of [1, 2, 3]) backend.add('g.x', n, article(n));
    srv = await startImap(backend, { flagStoreFor: () => new FailingFlags() });
    c = await RawClient.connect(srv.port);
    expect(tagged(await c.cmd('L', 'LOGIN alice secret'), 'L')).toMatch(/^L OK/);
  });
  afterAll(async () => {
    c.close();
    await srv.close();
  });

  it('a BackendError is answered by its code, about the mailbox for STATUS and SELECT', async () => {
    const texts: Record<BackendErrorCode, string> = {
      NONEXISTENT: 'NO [NONEXISTENT] g.x: does not exist',
      UNAVAILABLE: 'NO [UNAVAILABLE] g.x: upstream unavailable, try again later',
      NOPERM: 'NO [NOPERM] g.x: permission denied',
      'UNKNOWN-CTE': 'NO [UNKNOWN-CTE] g.x: unknown content transfer encoding',
      CORRUPTION: 'NO [CORRUPTION] g.x: data is corrupt',
    };
    for (const [code, text] of Object.entries(texts)) {
      backend.statusFails = new BackendError(code as BackendErrorCode, 'inner detail');
      expect(tagged(await c.cmd('s', 'STATUS g.x (MESSAGES)'), 's')).toBe(`s ${text}`);
    }
    backend.statusFails = undefined;
    expect(tagged(await c.cmd('n', 'SELECT g.nope'), 'n')).toBe('n NO [NONEXISTENT] g.nope: does not exist');
  });

  it('LIST reports a failing group list about the mailbox list', async () => {
    backend.listFails = new BackendError('UNAVAILABLE', 'down');
    expect(tagged(await c.cmd('l', 'LIST "" *'), 'l')).toBe('l NO [UNAVAILABLE] mailbox list: upstream unavailable, try again later');
    backend.listFails = undefined;
  });

  it('anything else is logged and NO [SERVERBUG]; the connection keeps serving', async () => {
    backend.statusFails = new TypeError('a bug');
    expect(tagged(await c.cmd('b', 'STATUS g.x (MESSAGES)'), 'b')).toBe('b NO [SERVERBUG] Internal error; the problem has been logged');
    backend.statusFails = undefined;
    expect(tagged(await c.cmd('b2', 'STATUS g.x (MESSAGES)'), 'b2')).toBe('b2 OK STATUS completed');
  });

  it('FETCH: messages sent before a failure stay, then NO about FETCH; a vanished message is skipped', async () => {
    expect(tagged(await c.cmd('S', 'SELECT g.x'), 'S')).toMatch(/^S OK/);
    backend.contentFails.set(2, new BackendError('UNAVAILABLE', 'down'));
    const r = await c.cmd('f', 'UID FETCH 1:3 (BODY.PEEK[])');
    expect(r).toMatch(/^\* 1 FETCH \(UID 1 BODY\[\] \{/);
    expect(r).not.toContain('* 2 FETCH');
    expect(tagged(r, 'f')).toBe('f NO [UNAVAILABLE] FETCH: upstream unavailable, try again later');
    backend.contentFails.set(2, new BackendError('NONEXISTENT', 'gone'));
    const r2 = await c.cmd('g', 'FETCH 1:3 (BODY.PEEK[])');
    expect(r2.match(/^\* \d FETCH/gm)).toEqual(['* 1 FETCH', '* 3 FETCH']);
    expect(tagged(r2, 'g')).toBe('g OK FETCH completed');
    backend.contentFails.clear();
  });

  it('a FlagStoreError is NO [UNAVAILABLE], or NO [CANNOT] with its text', async () => {
    flagsFail = 'UNAVAILABLE';
    expect(tagged(await c.cmd('u', 'STORE 1 +FLAGS (\\Flagged)'), 'u')).toBe('u NO [UNAVAILABLE] Flag store unavailable; nothing was changed');
    flagsFail = 'FORBIDDEN';
    expect(tagged(await c.cmd('v', 'STORE 1 +FLAGS (\\Flagged)'), 'v')).toBe('v NO [CANNOT] agent says FORBIDDEN');
    flagsFail = undefined;
    expect(tagged(await c.cmd('w', 'STORE 1 +FLAGS (\\Flagged)'), 'w')).toBe('w OK STORE completed');
  });

  it('an unreachable flag store is worded for the command: a STORE changed nothing, a read may be tried again', async () => {
    flagsFail = 'UNAVAILABLE';
    expect(tagged(await c.cmd('u1', 'UID STORE 1 +FLAGS (\\Flagged)'), 'u1')).toBe('u1 NO [UNAVAILABLE] Flag store unavailable; nothing was changed');
    flagsFail = undefined;
    viewFails = true;
    expect(tagged(await c.cmd('r1', 'FETCH 1:3 (FLAGS)'), 'r1')).toBe('r1 NO [UNAVAILABLE] Flag store unavailable; try again later');
    expect(tagged(await c.cmd('r2', 'EXAMINE g.x'), 'r2')).toBe('r2 NO [UNAVAILABLE] Flag store unavailable; try again later');
    expect(tagged(await c.cmd('r3', 'SELECT g.x'), 'r3')).toBe('r3 NO [UNAVAILABLE] Flag store unavailable; try again later');
    viewFails = false;
    expect(tagged(await c.cmd('r4', 'SELECT g.x'), 'r4')).toMatch(/^r4 OK/);
  });
});
