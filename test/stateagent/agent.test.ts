/**
 * Agent-only behaviour over real HTTP on port 0: authentication and user
 * isolation (invariant 5), the error statuses, hostile input (invariant 8),
 * `.newsrc` export/import in the format newsreaders write, the SSE feed.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/util/log.js';
import { Tokens, TokenFileError } from '../../src/stateagent/agent/auth.js';
import { startAgent, type RunningAgent } from '../../src/stateagent/agent/server.js';
import { IMPORT_EVENTS_MAX, MAX_BODY_BYTES } from '../../src/stateagent/limits.js';

const ALICE = 'alice-token-0123456789abcdef';
const BOB = 'bob-token-0123456789abcdef';
const FE = 'frontend-token-0123456789abcdef';

let agent: RunningAgent;
let dir: string;
let base: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nf-agent-api-'));
  const tokens = Tokens.parse(`# test tokens\n${ALICE} user alice\n${BOB} user bob\n\n${FE} frontend imap1\n`);
  agent = await startAgent({ host: '127.0.0.1', port: 0, dataDir: dir, tokens, logger: silentLogger() });
  base = `http://127.0.0.1:${agent.port}`;
});

afterAll(async () => {
  await agent.close();
  rmSync(dir, { recursive: true, force: true });
});

async function req(method: string, path: string, token?: string, body?: unknown, type = 'application/json') {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  let payload: string | undefined;
  if (body !== undefined) {
    headers['content-type'] = type;
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch(base + path, { method, headers, body: payload });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, headers: res.headers };
}

const flagsPath = (user: string, mailbox = 'comp.lang.misc', v = 7) => `/v1/users/${encodeURIComponent(user)}/mailboxes/${encodeURIComponent(mailbox)}/${v}/flags`;

describe('tokens file', () => {
  it('rejects malformed lines and short tokens, naming the line', () => {
    expect(() => Tokens.parse('abc user x\n')).toThrow(TokenFileError);
    expect(() => Tokens.parse(`${ALICE} admin x\n`)).toThrow(/line 1/);
    expect(() => Tokens.parse(`# c\n${ALICE} user\n`)).toThrow(/line 2/);
  });
});

describe('authentication and isolation', () => {
  it('serves /v1/health without a token', async () => {
    const r = await req('GET', '/v1/health');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ ok: true });
  });

  it('answers 401 without a valid bearer token', async () => {
    for (const token of [undefined, 'not-a-token-at-all-xxxxxxxx', `${ALICE}x`]) {
      const r = await req('GET', flagsPath('alice'), token);
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    const basic = await fetch(base + flagsPath('alice'), { headers: { authorization: `Basic ${ALICE}` } });
    expect(basic.status).toBe(401);
  });

  it('lets a user token act for its user only: 403 for any other user, whatever the body says', async () => {
    const ok = await req('POST', flagsPath('alice'), ALICE, { uids: '1-3', op: 'add', flags: ['\\Seen'] });
    expect(ok.status).toBe(200);
    const others: Array<[string, string, unknown?]> = [
      ['GET', flagsPath('bob')],
      ['POST', flagsPath('bob'), { uids: '1', op: 'add', flags: ['\\Seen'], user: 'alice' }],
      ['GET', '/v1/users/bob/mailboxes/comp.lang.misc/7/changes?since=0'],
      ['GET', '/v1/users/bob/mailboxes'],
      ['GET', '/v1/users/bob/events'],
      ['GET', '/v1/users/bob/subscriptions'],
      ['PUT', '/v1/users/bob/subscriptions', { mailboxes: ['x'] }],
      ['PUT', '/v1/users/bob/subscriptions/x'],
      ['DELETE', '/v1/users/bob/subscriptions/x'],
      ['GET', '/v1/users/bob/newsrc'],
      ['PUT', '/v1/users/bob/newsrc', 'comp.lang.misc: 1-5\n'],
      ['GET', flagsPath('alice/../bob')],
      ['GET', flagsPath('Alice')],
    ];
    for (const [m, p, b] of others) {
      const r = await req(m, p, ALICE, b, typeof b === 'string' ? 'text/plain' : 'application/json');
      expect([m, p, r.status]).toEqual([m, p, 403]);
    }
    // bob's state is untouched and his own token sees it
    const bob = await req('GET', flagsPath('bob'), BOB);
    expect(bob.status).toBe(200);
    expect(bob.json).toEqual({ highestModseq: 1, flags: {}, modseqs: [] });
    // dot segments are not resolved: no route, never alice's or bob's data
    // (sent raw: fetch would resolve them before sending)
    const dots = await new Promise<number>((resolve, reject) => {
      const r = request({ host: '127.0.0.1', port: agent.port, path: '/v1/users/bob/../alice/mailboxes/comp.lang.misc/7/flags',
        headers: { authorization: `Bearer ${ALICE}` } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      r.on('error', reject);
      r.end();
    });
    expect(dots).toBe(404);
  });

  it('lets a front-end token act for any user', async () => {
    const r = await req('POST', flagsPath('dave'), FE, { uids: '5', op: 'add', flags: ['$Label1'] });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ modseq: 2, highestModseq: 2, bumped: true, modified: '', changes: [{ uids: '5', flags: ['$Label1'], modseq: 2 }] });
  });
});

describe('flags', () => {
  it('answers an update with the flags it set, in runs, leaving out UNCHANGEDSINCE failures', async () => {
    const p = flagsPath('erin');
    await req('POST', p, FE, { uids: '1-4', op: 'add', flags: ['\\Seen'] });
    await req('POST', p, FE, { uids: '3', op: 'add', flags: ['\\Flagged'] });
    const r = await req('POST', p, FE, { uids: '1-6', op: 'add', flags: ['\\Answered'], unchangedSince: 2 });
    expect(r.status).toBe(200);
    expect(r.json.modified).toBe('3');
    expect(r.json.changes).toEqual([
      { uids: '1-2', flags: ['\\Seen', '\\Answered'], modseq: 4 },
      { uids: '4', flags: ['\\Seen', '\\Answered'], modseq: 4 },
      { uids: '5-6', flags: ['\\Answered'], modseq: 4 },
    ]);
    // the same as a later read of those UIDs
    const c = await req('GET', `${p.replace(/flags$/, 'changes')}?since=3`, FE);
    expect(c.json.changes).toEqual(r.json.changes);
  });
});

describe('error statuses', () => {
  it('400 for malformed JSON, wrong shapes, bad ranges, flags and keys', async () => {
    const bodies: unknown[] = [
      '{"uids": "1-3", "op": "add", ',
      '[]',
      'null',
      { uids: 5, op: 'add', flags: [] },
      { uids: '1-3', op: 'toggle', flags: ['\\Seen'] },
      { uids: '1-3', op: 'add', flags: '\\Seen' },
      { uids: '3-1', op: 'add', flags: ['\\Seen'] },
      { uids: '0', op: 'add', flags: ['\\Seen'] },
      { uids: '1-99999999999', op: 'add', flags: ['\\Seen'] },
      { uids: 'a-b', op: 'add', flags: ['\\Seen'] },
      { uids: '', op: 'add', flags: ['\\Seen'] },
      { uids: '1', op: 'add', flags: ['\\Recent'] },
      { uids: '1', op: 'add', flags: ['two words'] },
      { uids: '1', op: 'add', flags: ['\\Seen'], unchangedSince: -1 },
    ];
    for (const b of bodies) {
      const r = await req('POST', flagsPath('alice'), ALICE, b);
      expect([b, r.status]).toEqual([b, 400]);
      expect(typeof r.json.error.code).toBe('string');
    }
    for (const p of [flagsPath('alice', 'x', 0), flagsPath('alice', 'x', 4294967296), '/v1/users/alice/mailboxes/x/abc/flags',
      '/v1/users/alice/mailboxes/x/7/changes?since=-3', '/v1/users/alice/mailboxes/x/7/flags?lo=z', '/v1/users/alice/mailboxes/%E0%A4%A/7/flags',
      `/v1/users/alice/mailboxes/${'m'.repeat(1200)}/7/flags`, '/v1/users/alice/mailboxes/a%0Ab/7/flags']) {
      const r = await req('GET', p, ALICE);
      expect([p.slice(0, 80), r.status]).toEqual([p.slice(0, 80), 400]);
    }
  });

  it('413 for a body over the limit, declared or streamed', async () => {
    const big = JSON.stringify({ uids: '1', op: 'add', flags: ['\\Seen'], pad: 'x'.repeat(MAX_BODY_BYTES) });
    const r = await req('POST', flagsPath('alice'), ALICE, big);
    expect(r.status).toBe(413);
    // chunked, no Content-Length
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 20; i++) c.enqueue(new Uint8Array(128 * 1024).fill(0x20));
        c.close();
      },
    });
    const s = await fetch(base + flagsPath('alice'), {
      method: 'POST', body: stream, duplex: 'half', headers: { authorization: `Bearer ${ALICE}`, 'content-type': 'application/json' },
    } as RequestInit).then((x) => x.status, () => 'reset');
    expect([413, 'reset']).toContain(s);
    expect((await req('GET', '/v1/health')).status).toBe(200);
  });

  it('404 for unknown routes, 405 (with Allow) for wrong methods', async () => {
    for (const p of ['/', '/v2/health', '/v1', '/v1/users', '/v1/users/alice', '/v1/users/alice/flags', '/v1/users/alice/mailboxes/x/7/flags/extra']) {
      expect([p, (await req('GET', p, ALICE)).status]).toEqual([p, 404]);
    }
    const r = await req('DELETE', flagsPath('alice'), ALICE);
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET, POST');
    expect((await req('POST', '/v1/health')).status).toBe(405);
    expect((await req('POST', '/v1/users/alice/newsrc', ALICE, 'x: 1')).status).toBe(405);
  });

  it('survives garbage: raw bytes on the socket and random requests', async () => {
    const garbage = [
      Buffer.from('\x00\x01\x02 GARBAGE\r\n\r\n'),
      Buffer.from('GET /v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n'),
      Buffer.from('POST /v1/users/alice/mailboxes/x/7/flags HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'),
      Buffer.from(`GET /${'a'.repeat(100_000)} HTTP/1.1\r\n\r\n`),
    ];
    for (const g of garbage) {
      await new Promise<void>((resolve) => {
        const sock = connect(agent.port, '127.0.0.1', () => sock.end(g));
        sock.on('data', () => undefined);
        sock.on('error', () => resolve());
        sock.on('close', () => resolve());
      });
    }
    const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];
    const seg = fc.oneof(fc.constantFrom('v1', 'users', 'alice', 'bob', 'mailboxes', 'flags', 'changes', 'newsrc', 'subscriptions', 'events', '7', '%2F', '..', ''), fc.string({ maxLength: 8 }).map(encodeURIComponent));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...methods), fc.array(seg, { maxLength: 7 }), fc.option(fc.string({ maxLength: 200 }), { nil: undefined }),
        fc.constantFrom(ALICE, FE, undefined), fc.constantFrom('application/json', 'text/plain'),
        async (m, segs, body, token, type) => {
          const path = `/v1/${segs.join('/')}`;
          if (path.endsWith('/events') && m === 'GET') return; // a feed stays open; tested below
          const r = await req(m, path, token, m === 'GET' || m === 'DELETE' ? undefined : body ?? '', type);
          expect(r.status).not.toBe(500);
          expect(r.status).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
    expect((await req('GET', '/v1/health')).status).toBe(200);
  });
});

describe('subscriptions', () => {
  it('sets the whole list, adds and removes one, and forgets with null', async () => {
    expect((await req('GET', '/v1/users/erin/subscriptions', FE)).json).toEqual({ mailboxes: null });
    expect((await req('PUT', '/v1/users/erin/subscriptions', FE, { mailboxes: ['b.x', 'a.y'] })).json).toEqual({ mailboxes: ['a.y', 'b.x'] });
    expect((await req('PUT', `/v1/users/erin/subscriptions/${encodeURIComponent('c/z')}`, FE)).status).toBe(200);
    expect((await req('DELETE', '/v1/users/erin/subscriptions/b.x', FE)).status).toBe(200);
    expect((await req('GET', '/v1/users/erin/subscriptions', FE)).json).toEqual({ mailboxes: ['a.y', 'c/z'] });
    expect((await req('PUT', '/v1/users/erin/subscriptions', FE, { mailboxes: null })).json).toEqual({ mailboxes: null });
    expect((await req('PUT', '/v1/users/erin/subscriptions', FE, { mailboxes: ['ok', 'bad\nname'] })).status).toBe(400);
  });
});

describe('.newsrc', () => {
  // As tin and slrn write it: `group: ranges`, `group!` for unsubscribed, an rn options line with a continuation.
  const TIN = [
    'options -n all !junk',
    '\t-r',
    'comp.lang.misc: 1-78,80,85-90',
    'news.software.readers: 1-7',
    'alt.test! 1-5',
    'alt.empty:',
    'rec.arts.sf! ',
    'misc.zero: 0-12,14',
    '',
  ].join('\n');

  it('imports a newsreader file (?uidvalidity for all groups) and exports it back', async () => {
    const imp = await req('PUT', '/v1/users/frank/newsrc?uidvalidity=77', FE, TIN, 'text/plain');
    expect(imp.status).toBe(200);
    expect(imp.json.skipped).toEqual([]);
    expect(imp.json.subscribed).toEqual(['alt.empty', 'comp.lang.misc', 'misc.zero', 'news.software.readers']);
    const f = await req('GET', flagsPath('frank', 'comp.lang.misc', 77), FE);
    expect(f.json.flags['\\Seen']).toBe('1-78,80,85-90');
    expect((await req('GET', flagsPath('frank', 'misc.zero', 77), FE)).json.flags['\\Seen']).toBe('1-12,14');
    const exp = await req('GET', '/v1/users/frank/newsrc', FE);
    expect(exp.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(exp.text.split('\n').filter(Boolean).sort()).toEqual([
      'alt.empty:',
      'alt.test! 1-5',
      'comp.lang.misc: 1-78,80,85-90',
      'misc.zero: 1-12,14',
      'news.software.readers: 1-7',
    ]);
    // round trip: importing the export changes nothing
    const again = await req('PUT', '/v1/users/frank/newsrc', FE, exp.text, 'text/plain');
    expect(again.json.skipped).toEqual(['alt.empty']); // no flags, no uidvalidity known
    expect((await req('GET', '/v1/users/frank/newsrc', FE)).text).toBe(exp.text);
  });

  it('sets \\Seen exactly (clears what the file no longer lists) with a per-group uidvalidity map', async () => {
    await req('POST', flagsPath('gina', 'comp.lang.misc', 5), FE, { uids: '1-100', op: 'add', flags: ['\\Seen', '\\Flagged'] });
    const r = await req('PUT', '/v1/users/gina/newsrc', FE, { newsrc: 'comp.lang.misc: 1-10,50\nalt.new: 3\nalt.unknown: 1-2\n', uidvalidity: { 'alt.new': 9 } });
    expect(r.json.imported).toEqual(['comp.lang.misc', 'alt.new']);
    expect(r.json.skipped).toEqual(['alt.unknown']);
    const f = await req('GET', flagsPath('gina', 'comp.lang.misc', 5), FE);
    expect(f.json.flags['\\Seen']).toBe('1-10,50');
    expect(f.json.flags['\\Flagged']).toBe('1-100');
    expect((await req('GET', flagsPath('gina', 'alt.new', 9), FE)).json.flags['\\Seen']).toBe('3');
  });

  it('imports groups named like Object.prototype members (toString, constructor, __proto__)', async () => {
    const file = 'toString: 1-3\nconstructor! 2\n__proto__: 1-5\nhasOwnProperty: 4\n';
    const r = await req('PUT', '/v1/users/ivan/newsrc?uidvalidity=8', FE, file, 'text/plain');
    expect([r.status, r.json.imported, r.json.skipped]).toEqual([200, ['toString', 'constructor', '__proto__', 'hasOwnProperty'], []]);
    expect(r.json.subscribed).toEqual(['__proto__', 'hasOwnProperty', 'toString']);
    expect((await req('GET', flagsPath('ivan', '__proto__', 8), FE)).json.flags['\\Seen']).toBe('1-5');
    // the JSON form: a per-group uidvalidity map with such keys
    const j = await req('PUT', '/v1/users/ivan/newsrc', FE, `{"newsrc":"__proto__: 7\\nvalueOf: 1\\ntoString: 2\\n","uidvalidity":{"__proto__":9,"valueOf":9}}`);
    expect([j.status, j.json.imported, j.json.skipped]).toEqual([200, ['__proto__', 'valueOf', 'toString'], []]);
    expect((await req('GET', flagsPath('ivan', '__proto__', 9), FE)).json.flags['\\Seen']).toBe('7');
    expect((await req('GET', flagsPath('ivan', 'toString', 8), FE)).json.flags['\\Seen']).toBe('2');
    expect((await req('GET', '/v1/users/ivan/newsrc', FE)).text).toContain('__proto__: 7\n');
  });

  it('keeps keywords and users named like prototype members or EventEmitter events', async () => {
    for (const user of ['error', 'newListener', '__proto__']) {
      const r = await req('POST', flagsPath(user), FE, { uids: '1-2', op: 'add', flags: ['__proto__', 'constructor'] });
      expect([user, r.status]).toEqual([user, 200]);
      const f = await req('GET', flagsPath(user), FE);
      expect([user, Object.entries(f.json.flags)]).toEqual([user, [['__proto__', '1-2'], ['constructor', '1-2']]]);
    }
  });

  it('refuses a reversed range and a group given twice with 400 naming the line, storing nothing', async () => {
    const rev = await req('PUT', '/v1/users/hank/newsrc?uidvalidity=3', FE, 'ok.group: 1-5\nrev.group: 1-3,9-4\n', 'text/plain');
    expect([rev.status, rev.json.error.message]).toEqual([400, expect.stringMatching(/line 2: range 9-4 ends before it starts/)]);
    const dup = await req('PUT', '/v1/users/hank/newsrc?uidvalidity=3', FE, 'a.b: 1\nc.d: 2\na.b! 3\n', 'text/plain');
    expect([dup.status, dup.json.error.message]).toEqual([400, expect.stringMatching(/line 3: group a.b is already on line 1/)]);
    expect((await req('GET', '/v1/users/hank/newsrc', FE)).text).toBe('');
  });

  it('refuses a malformed file with 400 naming the line, storing nothing', async () => {
    const r = await req('PUT', '/v1/users/hank/newsrc?uidvalidity=3', FE, 'ok.group: 1-5\nthis is not a newsrc line\n', 'text/plain');
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/line 2/);
    expect((await req('GET', '/v1/users/hank/newsrc', FE)).text).toBe('');
  });
});

describe('SSE change feed', () => {
  async function open(user: string, token: string, lastId?: string) {
    const ctrl = new AbortController();
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (lastId) headers['last-event-id'] = lastId;
    const res = await fetch(`${base}/v1/users/${user}/events`, { headers, signal: ctrl.signal });
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let buf = '';
    return {
      res,
      /** Next event block (not comments), or throws after ~5 s. */
      async next(): Promise<Record<string, string>> {
        for (;;) {
          const blocks = buf.split('\n\n');
          while (blocks.length > 1) {
            const b = blocks.shift()!;
            buf = blocks.join('\n\n');
            const fields: Record<string, string> = {};
            for (const line of b.split('\n')) {
              if (line.startsWith(':') || line === '') continue;
              const i = line.indexOf(':');
              fields[line.slice(0, i)] = line.slice(i + 2);
            }
            if (fields.event) return fields;
          }
          const t = setTimeout(() => ctrl.abort(), 5000);
          const { value, done } = await reader.read();
          clearTimeout(t);
          if (done) throw new Error('feed ended');
          buf += dec.decode(value, { stream: true });
        }
      },
      close: () => ctrl.abort(),
    };
  }

  it('sends one event per change, resumes from Last-Event-ID, asks to resync when it cannot', async () => {
    const feed = await open('ivy', FE);
    expect(feed.res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await req('POST', flagsPath('ivy', 'alt.test', 3), FE, { uids: '1-5,9', op: 'add', flags: ['\\Seen'] });
    const e1 = await feed.next();
    expect(e1.event).toBe('change');
    expect(JSON.parse(e1.data!)).toEqual({
      mailbox: 'alt.test', uidValidity: 3, highestModseq: 2,
      changes: [{ uids: '1-5', flags: ['\\Seen'], modseq: 2 }, { uids: '9', flags: ['\\Seen'], modseq: 2 }],
    });
    feed.close();
    // missed while disconnected: replayed after Last-Event-ID
    await req('POST', flagsPath('ivy', 'alt.test', 3), FE, { uids: '2', op: 'remove', flags: ['\\Seen'] });
    const resumed = await open('ivy', FE, e1.id);
    const e2 = await resumed.next();
    expect(JSON.parse(e2.data!).changes).toEqual([{ uids: '2', flags: [], modseq: 3 }]);
    resumed.close();
    const lost = await open('ivy', FE, 'zzzz-1');
    expect((await lost.next()).event).toBe('resync');
    lost.close();
  });

  it('tells of a small .newsrc import mailbox by mailbox, of a big one with one resync it can resume after', async () => {
    const feed = await open('lena', FE);
    await req('PUT', '/v1/users/lena/newsrc?uidvalidity=4', FE, 's.g0: 1\ns.g1: 1-2\ns.g2! 1-3\n', 'text/plain');
    const small = [await feed.next(), await feed.next(), await feed.next()];
    expect(small.map((e) => [e.event, JSON.parse(e.data!).mailbox])).toEqual([['change', 's.g0'], ['change', 's.g1'], ['change', 's.g2']]);
    const lines = Array.from({ length: IMPORT_EVENTS_MAX + 1 }, (_, i) => `b.g${i}: 1-${i + 1}`);
    expect((await req('PUT', '/v1/users/lena/newsrc?uidvalidity=4', FE, lines.join('\n'), 'text/plain')).status).toBe(200);
    const big = await feed.next();
    expect(big.event).toBe('resync');
    await req('POST', flagsPath('lena', 'after', 1), FE, { uids: '1', op: 'add', flags: ['\\Seen'] });
    const after = await feed.next();
    expect([after.event, JSON.parse(after.data!).mailbox]).toEqual(['change', 'after']);
    feed.close();
    // from the event before the resync: the resync is replayed; from the resync: what followed
    const before = await open('lena', FE, small[2]!.id);
    expect((await before.next()).event).toBe('resync');
    before.close();
    const from = await open('lena', FE, big.id);
    expect(JSON.parse((await from.next()).data!).mailbox).toBe('after');
    from.close();
  });

  it("does not send another user's changes", async () => {
    const feed = await open('jack', FE);
    await req('POST', flagsPath('kim', 'alt.test', 3), FE, { uids: '1', op: 'add', flags: ['\\Seen'] });
    await req('POST', flagsPath('jack', 'alt.test', 3), FE, { uids: '2', op: 'add', flags: ['\\Flagged'] });
    const e = await feed.next();
    expect(JSON.parse(e.data!).changes).toEqual([{ uids: '2', flags: ['\\Flagged'], modseq: 2 }]);
    feed.close();
  });
});
