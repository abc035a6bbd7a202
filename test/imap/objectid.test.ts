/**
 * OBJECTID (RFC 8474) over a fixture backend: EMAILID from the Message-ID (one
 * id for a crossposted article in every group), THREADID from the thread root,
 * MAILBOXID in SELECT and STATUS, SEARCH EMAILID/THREADID by scan and through
 * the index (asked for the Message-ID the id was made from).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixtureBackend } from './fixture-backend.js';
import { IndexedFixture } from './fixture-search.js';
import { startImap, type TestServer } from './harness.js';
import { RawClient, tagged, untagged } from './raw-client.js';
import type { Backend, IndexTerm, MailboxHandle } from '../../src/export/interface.js';
import { emailIdOf, idSource, mailboxIdOf, threadIdOf, OBJECTID_RE } from '../../src/imap/objectid.js';

const art = (headers: string, body = 'text\r\n'): Buffer => Buffer.from(`${headers}\r\n\r\n${body}`, 'latin1');
const ROOT = art('From: a@x.org\r\nSubject: root\r\nMessage-ID: <root@x.org>');
const REPLY = art('From: b@x.org\r\nSubject: Re: root\r\nMessage-ID: <r1@x.org>\r\nReferences: <root@x.org>');
const DEEP = art('From: c@x.org\r\nSubject: Re: root\r\nMessage-ID: <r2@x.org>\r\nReferences: <root@x.org>\r\n <r1@x.org>\r\nIn-Reply-To: <r1@x.org>');
const MAILREPLY = art('From: d@x.org\r\nSubject: Re: root\r\nMessage-ID: <m1@x.org>\r\nIn-Reply-To: <root@x.org>');
const NOID = art('From: e@x.org\r\nSubject: no id');
const OTHER = art('From: f@x.org\r\nSubject: other\r\nMessage-ID: <other@x.org>');

/** `ITEM (id)` of each FETCH line, by UID. */
function ids(resp: string, item: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const l of untagged(resp)) {
    const uid = /UID (\d+)/.exec(l);
    const m = new RegExp(`${item} \\(([^)]*)\\)`).exec(l);
    if (uid && m) out.set(Number(uid[1]), m[1]!);
  }
  return out;
}

function fixture(): FixtureBackend {
  const b = new FixtureBackend();
  b.add('g.one', 1, ROOT);
  b.add('g.one', 2, REPLY);
  b.add('g.one', 3, DEEP);
  b.add('g.one', 4, MAILREPLY);
  b.add('g.one', 5, NOID);
  b.add('g.one', 6, OTHER);
  // the same articles crossposted under other UIDs
  b.add('g.two', 10, REPLY);
  b.add('g.two', 11, NOID);
  return b;
}

async function session(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  expect(tagged(await c.cmd('l', 'LOGIN alice secret'), 'l')).toMatch(/^l OK/);
  return c;
}

describe('objectid.ts', () => {
  it('ids are RFC 8474 objectids, stable, and follow the thread root', () => {
    const place = { mailbox: 'g', uidValidity: 1, uid: 1 };
    const root = idSource(ROOT.subarray(0, ROOT.indexOf('\r\n\r\n') + 4));
    const deep = idSource(DEEP.subarray(0, DEEP.indexOf('\r\n\r\n') + 4));
    expect(root).toEqual({ messageId: '<root@x.org>', root: '<root@x.org>' });
    expect(deep).toEqual({ messageId: '<r2@x.org>', root: '<root@x.org>' });
    expect(threadIdOf(deep, place)).toBe(threadIdOf(root, { ...place, uid: 9 }));
    expect(emailIdOf(deep, place)).not.toBe(emailIdOf(root, place));
    for (const id of [emailIdOf(root, place), threadIdOf(root, place), mailboxIdOf('g', 1)]) expect(id).toMatch(OBJECTID_RE);
    expect(mailboxIdOf('g', 1)).not.toBe(mailboxIdOf('g', 2));
    // two Message-ID tokens: not usable, the place decides
    const two = idSource(Buffer.from('Message-ID: <a@b> <c@d>\r\n\r\n'));
    expect(two.messageId).toBeUndefined();
    expect(emailIdOf(two, place)).not.toBe(emailIdOf(two, { ...place, uid: 2 }));
  });
});

describe.each([false, true])('OBJECTID over IMAP (index: %s)', (indexed) => {
  let srv: TestServer;
  let backend: Backend;
  let inner: FixtureBackend;
  const asked: IndexTerm[][] = [];

  beforeAll(async () => {
    inner = fixture();
    if (indexed) {
      const idx = await IndexedFixture.create(inner);
      // record what the index is asked
      backend = {
        mailboxes: () => idx.mailboxes(),
        status: (n) => idx.status(n),
        open: async (n) => {
          const h = await idx.open(n);
          const search = h.search!;
          return Object.assign(Object.create(null) as object, h, {
            search: { ...search, match: (t: readonly IndexTerm[], w?: Uint32Array) => (asked.push([...t]), search.match(t, w)) },
          }) as MailboxHandle;
        },
      };
      srv = await startImap(backend, { sortThread: true });
      const close = srv.close;
      srv.close = async () => {
        await close();
        await idx.close();
      };
    } else {
      backend = inner;
      srv = await startImap(backend);
    }
  });
  afterAll(() => srv.close());

  it('advertises OBJECTID; SELECT and STATUS give one MAILBOXID per group', async () => {
    const c = await session(srv.port);
    expect(await c.cmd('a', 'CAPABILITY')).toMatch(/ OBJECTID/);
    const sel = await c.cmd('b', 'EXAMINE g.one');
    const fromSelect = /\* OK \[MAILBOXID \(([^)]+)\)\]/.exec(sel)?.[1];
    expect(fromSelect).toMatch(OBJECTID_RE);
    const st = await c.cmd('c', 'STATUS g.one (MESSAGES MAILBOXID)');
    expect(st).toContain(`* STATUS g.one (MESSAGES 6 MAILBOXID (${fromSelect}))`);
    const two = await c.cmd('d', 'STATUS g.two (MAILBOXID)');
    expect(/MAILBOXID \(([^)]+)\)/.exec(two)?.[1]).not.toBe(fromSelect);
    c.close();
  });

  it('EMAILID is the same for a crossposted article in every group; THREADID follows the root', async () => {
    const c = await session(srv.port);
    await c.cmd('a', 'EXAMINE g.one');
    const one = await c.cmd('b', 'UID FETCH 1:* (EMAILID THREADID)');
    expect(tagged(one, 'b')).toMatch(/^b OK/);
    const e1 = ids(one, 'EMAILID');
    const t1 = ids(one, 'THREADID');
    expect(e1.size).toBe(6);
    expect(new Set(e1.values()).size).toBe(6);
    // root, reply, deep reply and the mail-style reply (In-Reply-To only) share the root's THREADID
    expect(new Set([1, 2, 3, 4].map((u) => t1.get(u))).size).toBe(1);
    expect(t1.get(6)).not.toBe(t1.get(1));
    await c.cmd('c', 'EXAMINE g.two');
    const two = await c.cmd('d', 'UID FETCH 10:11 (EMAILID THREADID)');
    const e2 = ids(two, 'EMAILID');
    expect(e2.get(10)).toBe(e1.get(2));
    expect(ids(two, 'THREADID').get(10)).toBe(t1.get(2));
    // no Message-ID: an id of its own place, not shared with the copy in g.two, but stable
    expect(e2.get(11)).not.toBe(e1.get(5));
    await c.cmd('e', 'EXAMINE g.one');
    expect(ids(await c.cmd('f', 'UID FETCH 5 (EMAILID)'), 'EMAILID').get(5)).toBe(e1.get(5));
    c.close();
  });

  it('SEARCH EMAILID / THREADID find exactly the messages with that id', async () => {
    const c = await session(srv.port);
    await c.cmd('a', 'EXAMINE g.one');
    const fetched = await c.cmd('b', 'UID FETCH 1:* (EMAILID THREADID)');
    const e = ids(fetched, 'EMAILID');
    const t = ids(fetched, 'THREADID');
    asked.length = 0;
    expect(await c.cmd('c', `UID SEARCH EMAILID ${e.get(3)}`)).toContain('* SEARCH 3\r\n');
    expect(await c.cmd('d', `UID SEARCH THREADID ${t.get(1)}`)).toContain('* SEARCH 1 2 3 4\r\n');
    expect(await c.cmd('e', `UID SEARCH NOT THREADID ${t.get(1)}`)).toContain('* SEARCH 5 6\r\n');
    expect(await c.cmd('f', `UID SEARCH EMAILID ${e.get(5)}`)).toContain('* SEARCH 5\r\n');
    expect(await c.cmd('g', 'UID SEARCH EMAILID Mnosuchid')).toMatch(/\* SEARCH\r\n/);
    expect(tagged(await c.cmd('h', 'UID SEARCH EMAILID bad.id'), 'h')).toMatch(/^h BAD/);
    if (indexed) {
      // the index was asked for the Message-ID the EMAILID was made from
      expect(asked.some((ts) => ts.some((x) => typeof x.field === 'object' && x.field.header === 'message-id' && x.needle === '<r2@x.org>'))).toBe(true);
      expect(asked.some((ts) => ts.some((x) => typeof x.field === 'object' && x.field.header === 'references' && x.needle === '<root@x.org>'))).toBe(true);
    }
    // in another group the crossposted reply has the same EMAILID
    await c.cmd('i', 'EXAMINE g.two');
    expect(await c.cmd('j', `UID SEARCH EMAILID ${e.get(2)}`)).toContain('* SEARCH 10\r\n');
    c.close();
  });
});
