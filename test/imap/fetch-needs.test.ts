/**
 * FETCH and SEARCH say what they need of each message (`ReadNeeds`), and the
 * reader plans the rest: only body sections ask for content, only sizes ask for
 * exact sizes, and BODYSTRUCTURE asks only for structures it has not rendered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixtureBackend } from './fixture-backend.js';
import { startImap, type TestServer } from './harness.js';
import { RawClient, tagged } from './raw-client.js';
import type { ReadNeeds } from '../../src/export/interface.js';

const article = (n: number): Buffer => Buffer.from(`Subject: article ${n}\r\nFrom: A <a@example.org>\r\n\r\nBody ${n}.\r\n`, 'latin1');

describe('what FETCH and SEARCH ask of the reader', () => {
  let backend: FixtureBackend;
  let srv: TestServer;
  let c: RawClient;
  beforeAll(async () => {
    backend = new FixtureBackend();
    for (const n of [1, 2, 3]) backend.add('g.x', n, article(n));
    srv = await startImap(backend);
    c = await RawClient.connect(srv.port);
    expect(tagged(await c.cmd('L', 'LOGIN alice secret'), 'L')).toMatch(/^L OK/);
    expect(tagged(await c.cmd('S', 'EXAMINE g.x'), 'S')).toMatch(/^S OK/);
  });
  afterAll(async () => {
    c.close();
    await srv.close();
  });

  async function needsOf(command: string): Promise<ReadNeeds> {
    const before = backend.readCalls.length;
    expect(tagged(await c.cmd('t', command), 't')).toMatch(/^t OK/);
    expect(backend.readCalls.length).toBe(before + 1);
    return backend.readCalls[before]!;
  }

  it('FETCH', async () => {
    expect(await needsOf('FETCH 1:* (UID FLAGS)')).toMatchObject({ meta: false, content: false, structure: false });
    expect(await needsOf('FETCH 1:* (ENVELOPE INTERNALDATE)')).toMatchObject({ meta: true, exactSize: false, content: false, streams: true });
    expect(await needsOf('FETCH 1:* (RFC822.SIZE)')).toMatchObject({ meta: true, exactSize: true, content: false });
    expect(await needsOf('FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])')).toMatchObject({ meta: true, exactSize: false, content: false });
    expect(await needsOf('FETCH 1 (BODY.PEEK[])')).toMatchObject({ meta: true, exactSize: true, content: true });
    expect(await needsOf('FETCH 1 (BODY.PEEK[1])')).toMatchObject({ content: true, structure: true });
  });

  it('BODYSTRUCTURE asks only for structures whose rendering is not cached', async () => {
    const cold = await needsOf('FETCH 1:2 (BODYSTRUCTURE)');
    expect(typeof cold.structure).toBe('function');
    const pick = cold.structure as (uid: number) => boolean;
    expect([1, 2, 3].map(pick)).toEqual([false, false, true]); // 1 and 2 were rendered by this FETCH
  });

  it('EMAILID/THREADID need header data only; PREVIEW needs content until cached, LAZY never', async () => {
    expect(await needsOf('FETCH 1:* (EMAILID THREADID)')).toMatchObject({ meta: true, exactSize: false, content: false, structure: false });
    expect(await needsOf('FETCH 1:3 (PREVIEW (LAZY))')).toMatchObject({ meta: false, content: false, structure: false });
    const cold = await needsOf('FETCH 1:2 (PREVIEW)');
    expect(cold).toMatchObject({ meta: false, content: true });
    const warm = await needsOf('FETCH 1:2 (PREVIEW)');
    expect(warm).toMatchObject({ content: false });
    expect([1, 2].map(warm.structure as (uid: number) => boolean)).toEqual([false, false]);
  });

  it('SEARCH', async () => {
    const subject = await needsOf('SEARCH SUBJECT article');
    expect(subject).toMatchObject({ meta: true, exactSize: false, content: false });
    expect(subject.streams ?? false).toBe(false); // SEARCH answers at the end: no read-ahead
    expect(await needsOf('SEARCH LARGER 10')).toMatchObject({ meta: true, exactSize: true });
    expect(await needsOf('SEARCH BODY needle')).toMatchObject({ content: true });
    expect(await needsOf('SEARCH EMAILID M00')).toMatchObject({ meta: true, exactSize: false, content: false });
  });
});
