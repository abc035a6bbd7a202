/**
 * UIDONLY (RFC 9586): after ENABLE UIDONLY, commands with message sequence
 * numbers get BAD [UIDREQUIRED], FETCH responses are UIDFETCH (UID item only
 * when asked for), and expunges are told as VANISHED.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LmdbFlagStore } from '../../src/stateagent/stores/local.js';
import { silentLogger } from '../../src/util/log.js';
import { FixtureBackend } from './fixture-backend.js';
import { startImap, type TestServer } from './harness.js';
import { RawClient, tagged, untagged } from './raw-client.js';

const article = (n: number): Buffer => Buffer.from(`From: a@x.org\r\nSubject: m${n}\r\nMessage-ID: <u${n}@x.org>\r\n\r\nbody ${n}\r\n`, 'latin1');

describe('UIDONLY', () => {
  let srv: TestServer;
  let backend: FixtureBackend;
  let dir: string;
  let flags: LmdbFlagStore;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nf-uidonly-'));
    flags = await LmdbFlagStore.open({ path: join(dir, 'flags.lmdb'), logger: silentLogger() });
    backend = new FixtureBackend();
    for (const uid of [3, 7, 9, 12]) backend.add('u.box', uid, article(uid));
    srv = await startImap(backend, { persistentFlags: true, sortThread: false, flagStoreFor: () => flags });
  });
  afterAll(async () => {
    await srv.close();
    await flags.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function uidOnlySession(): Promise<RawClient> {
    const c = await RawClient.connect(srv.port);
    await c.cmd('l', 'LOGIN alice secret');
    expect(await c.cmd('e', 'ENABLE UIDONLY')).toContain('* ENABLED UIDONLY\r\n');
    return c;
  }

  it('is advertised; sequence-number commands and keys are BAD [UIDREQUIRED]', async () => {
    const c = await uidOnlySession();
    expect(await c.cmd('a', 'CAPABILITY')).toMatch(/ UIDONLY/);
    await c.cmd('s', 'SELECT u.box');
    for (const [tag, cmd] of [
      ['b', 'FETCH 1 (FLAGS)'], ['c', 'STORE 1 +FLAGS (\\Seen)'], ['d', 'SEARCH ALL'], ['f', 'COPY 1 other'],
      ['g', 'MOVE 1 other'], ['h', 'UID SEARCH 1:2'], ['i', 'UID SEARCH OR UID 3 NOT 2'], ['j', 'FETCH'],
      ['m', 'SORT (DATE) UTF-8 ALL'], ['n', 'THREAD REFERENCES UTF-8 ALL'], ['o', 'UID SORT (DATE) UTF-8 NOT 1'],
    ] as const) {
      expect(tagged(await c.cmd(tag, cmd), tag), cmd).toMatch(new RegExp(`^${tag} BAD \\[UIDREQUIRED\\]`));
    }
    // UID commands without sequence numbers still work
    expect(await c.cmd('k', 'UID SEARCH UID 5:10')).toContain('* SEARCH 7 9\r\n');
    c.close();
  });

  it('FETCH answers are UIDFETCH, with the UID item only when asked', async () => {
    const c = await uidOnlySession();
    await c.cmd('s', 'SELECT u.box');
    const r = await c.cmd('a', 'UID FETCH 7:9 (FLAGS)');
    expect(untagged(r)).toEqual(['* 7 UIDFETCH (FLAGS ())', '* 9 UIDFETCH (FLAGS ())']);
    const withUid = await c.cmd('b', 'UID FETCH 12 (UID RFC822.SIZE)');
    expect(untagged(withUid)).toEqual([`* 12 UIDFETCH (UID 12 RFC822.SIZE ${article(12).length})`]);
    const body = await c.cmd('c', 'UID FETCH 3 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    expect(body).toMatch(/^\* 3 UIDFETCH \(BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{\d+\}\r\nSubject: m3/);
    const st = await c.cmd('d', 'UID STORE 9 +FLAGS (\\Flagged)');
    expect(untagged(st)).toEqual([expect.stringMatching(/^\* 9 UIDFETCH \(FLAGS \(\\Flagged\)( MODSEQ \(\d+\))?\)$/)]);
    // a session without UIDONLY still gets FETCH with sequence numbers
    const plain = await RawClient.connect(srv.port);
    await plain.cmd('l', 'LOGIN bob hunter2');
    await plain.cmd('s', 'SELECT u.box');
    expect(untagged(await plain.cmd('a', 'UID FETCH 7 (FLAGS)'))).toEqual(['* 2 FETCH (UID 7 FLAGS ())']);
    plain.close();
    c.close();
  });

  it("another session's flag change arrives as UIDFETCH", async () => {
    const c = await uidOnlySession();
    await c.cmd('s', 'SELECT u.box');
    const other = await RawClient.connect(srv.port);
    await other.cmd('l', 'LOGIN alice secret');
    await other.cmd('s', 'SELECT u.box');
    await other.cmd('a', 'UID STORE 12 +FLAGS.SILENT ($Later)');
    const r = await c.cmd('a', 'NOOP');
    expect(untagged(r)).toContain('* 12 UIDFETCH (FLAGS ($Later))');
    expect(r).not.toMatch(/ FETCH /);
    other.close();
    c.close();
  });

  it('an expired article is told as VANISHED, not EXPUNGE', async () => {
    backend.add('u.gone', 1, article(1));
    backend.add('u.gone', 2, article(2));
    const c = await uidOnlySession();
    await c.cmd('s', 'SELECT u.gone');
    backend.expire('u.gone', 1);
    const r = await c.cmd('a', 'NOOP');
    expect(untagged(r)).toContain('* VANISHED 1');
    expect(r).not.toMatch(/EXPUNGE/);
    c.close();
  });

  it('QRESYNC sequence match data is refused', async () => {
    const c = await uidOnlySession();
    await c.cmd('q', 'ENABLE QRESYNC');
    const r = await c.cmd('a', 'SELECT u.box (QRESYNC (1000 1 3:12 (1:2 3:7)))');
    expect(tagged(r, 'a')).toMatch(/^a BAD \[UIDREQUIRED\]/);
    expect(tagged(await c.cmd('b', 'SELECT u.box (QRESYNC (1000 1 3:12))'), 'b')).toMatch(/^b OK/);
    c.close();
  });
});
