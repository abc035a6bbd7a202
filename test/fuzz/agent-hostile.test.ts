/**
 * Hostile callers of the state agent API — only what test/stateagent/
 * agent.test.ts does not already cover (it has 401/403/400/404/405/413, raw
 * socket garbage and random requests):
 *  - another user's data through encodings of the name (case, percent
 *    escapes, NUL, trailing dot/space, path tricks): never 200 for bob's
 *    data with alice's token, and bob's flags unchanged;
 *  - JSON bombs under the size limit (deep nesting) and `__proto__` keys:
 *    4xx or a normal answer, no 5xx, no prototype pollution;
 *  - a hostile .newsrc (huge numbers, binary, one 900 KB line): 400/413,
 *    never 5xx; the agent keeps serving.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/util/log.js';
import { Tokens } from '../../src/stateagent/agent/auth.js';
import { startAgent, type RunningAgent } from '../../src/stateagent/agent/server.js';

const ALICE = 'hostile-alice-token-0123456789';
const FE = 'hostile-frontend-token-0123456789';

let agent: RunningAgent;
let dir: string;
let base: string;

async function req(method: string, path: string, token?: string, body?: string): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = path.endsWith('/newsrc') ? 'text/plain' : 'application/json';
  const res = await fetch(base + path, { method, headers, body });
  return { status: res.status, text: await res.text() };
}

const bobFlags = '/v1/users/bob/mailboxes/alt.test/7/flags';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nf-agent-hostile-'));
  const tokens = new Tokens();
  tokens.add(ALICE, { kind: 'user', name: 'alice' });
  tokens.add(FE, { kind: 'frontend', name: 'fe' });
  agent = await startAgent({ host: '127.0.0.1', port: 0, dataDir: dir, tokens, logger: silentLogger() });
  base = `http://127.0.0.1:${agent.port}`;
  const r = await req('POST', bobFlags, FE, JSON.stringify({ uids: '1-5', op: 'add', flags: ['\\Seen'] }));
  expect(r.status).toBe(200);
});

afterAll(async () => {
  await agent.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('state agent API, hostile callers', () => {
  it("alice's token never reaches bob's data, whatever the spelling", async () => {
    const spellings = ['bob', 'BOB', 'Bob', 'b%6Fb', 'b%6fb', '%62%6F%62', 'bob%00', 'bob%20', 'bob.', 'bob%2F', '%2E%2E%2Fbob', 'alice%2F..%2Fbob', 'alice%00bob', 'bob%EF%BC%8F', 'ｂｏｂ'];
    for (const who of spellings) {
      for (const [m, p, body] of [
        ['GET', `/v1/users/${who}/mailboxes/alt.test/7/flags`, undefined],
        ['POST', `/v1/users/${who}/mailboxes/alt.test/7/flags`, JSON.stringify({ uids: '1-9', op: 'set', flags: [] })],
        ['GET', `/v1/users/${who}/newsrc`, undefined],
        ['GET', `/v1/users/${who}/subscriptions`, undefined],
      ] as const) {
        const r = await req(m, p, ALICE, body);
        expect([who, m, r.status < 500]).toEqual([who, m, true]);
        // 200 only where the name decodes to something that is not bob (then it is not bob's data)
        if (r.status === 200) expect(decodeURIComponent(who).toLowerCase()).not.toBe('bob');
      }
    }
    // and via /../ in the raw path (not normalised by fetch when escaped)
    const raw = await req('GET', '/v1/users/alice/..%2F..%2Fusers%2Fbob/mailboxes/alt.test/7/flags', ALICE);
    expect(raw.status).not.toBe(200);
    const still = await req('GET', `${bobFlags}?lo=1&hi=10`, FE);
    expect(still.status).toBe(200);
    expect(still.text).toContain('1-5');
  });

  it('JSON bombs and __proto__ keys: no 5xx, no prototype pollution', async () => {
    const path = '/v1/users/alice/mailboxes/alt.test/7/flags';
    const bodies = [
      '['.repeat(200_000) + ']'.repeat(200_000),
      '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000),
      '{"__proto__":{"polluted":1},"uids":"1","op":"add","flags":["\\\\Seen"]}',
      '{"constructor":{"prototype":{"polluted":1}},"uids":"1","op":"add","flags":["\\\\Seen"]}',
      '{"uids":"1","op":"add","flags":["\\\\Seen"],"unchangedSince":1e400}',
      '{"uids":"1","op":"add","flags":["\\u0000"]}',
      '{"uids":"1","uids":"2-3","op":"add","flags":["\\\\Seen"]}',
      JSON.stringify({ uids: Array.from({ length: 50_000 }, (_, i) => String(i * 2 + 1)).join(','), op: 'add', flags: ['\\Seen'] }),
    ];
    for (const b of bodies) {
      const r = await req('POST', path, ALICE, b);
      expect([b.slice(0, 40), r.status < 500]).toEqual([b.slice(0, 40), true]);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await req('GET', '/v1/health')).status).toBe(200);
  });

  it('a hostile .newsrc is refused with 400/413, never 5xx', async () => {
    const files = [
      'alt.test: 1-99999999999999999999\n',
      'alt.test: 5-1\n',
      'alt.test! 1-3,,,\n',
      'alt.test: ' + Array.from({ length: 120_000 }, (_, i) => i * 2 + 1).join(',') + '\n',
      Buffer.from([0xff, 0xfe, 0x00, 0x0a, 0x80]).toString('latin1'),
      ':\n: 1\n \n',
      `${'g'.repeat(5000)}: 1\n`,
    ];
    for (const f of files) {
      const r = await req('PUT', '/v1/users/alice/newsrc?uidvalidity=7', ALICE, f);
      expect([f.slice(0, 30), r.status < 500]).toEqual([f.slice(0, 30), true]);
    }
    expect((await req('GET', '/v1/users/alice/newsrc', ALICE)).status).toBe(200);
  });
});
