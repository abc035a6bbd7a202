/**
 * A big `.newsrc` import does not stop the agent (issue 12 #11): it is
 * stored in batches with turns of the event loop between them, so a request
 * of another user sent meanwhile is answered while the import is half done
 * (asserted by order: no time limits). Imports beyond IMPORTS_AT_ONCE wait,
 * beyond IMPORTS_WAITING more they get 429; files beyond the limits get 400
 * or 413 before anything is stored. (Memory: bench/newsrc-import.ts prints RSS.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/util/log.js';
import { Tokens } from '../../src/stateagent/agent/auth.js';
import { startAgent, type RunningAgent } from '../../src/stateagent/agent/server.js';
import { ImportGate } from '../../src/stateagent/agent/newsrc-import.js';
import { HttpError } from '../../src/stateagent/agent/http.js';
import {
  IMPORT_BATCH_GROUPS, IMPORTS_AT_ONCE, IMPORTS_WAITING, MAX_NEWSRC_BYTES, MAX_NEWSRC_GROUPS,
} from '../../src/stateagent/limits.js';

const FE = 'frontend-token-0123456789abcdef';
const GROUPS = 55_000;

let agent: RunningAgent;
let dir: string;
let base: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nf-newsrc-'));
  const tokens = new Tokens();
  tokens.add(FE, { kind: 'frontend', name: 'fe' });
  agent = await startAgent({ host: '127.0.0.1', port: 0, dataDir: dir, tokens, logger: silentLogger() });
  base = `http://127.0.0.1:${agent.port}`;
});

afterAll(async () => {
  await agent.close();
  rmSync(dir, { recursive: true, force: true });
});

const auth = { authorization: `Bearer ${FE}` };
const flags = (user: string, mailbox: string) => `${base}/v1/users/${user}/mailboxes/${mailbox}/1/flags`;

async function seenOf(user: string, mailbox: string): Promise<string | undefined> {
  const r = await fetch(flags(user, mailbox), { headers: auth });
  return ((await r.json()) as { flags: Record<string, string> }).flags['\\Seen'];
}

describe('.newsrc import of 55,000 groups', () => {
  it('leaves the agent answering other requests while it runs', async () => {
    await fetch(flags('other', 'alt.x'), {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ uids: '1-5', op: 'add', flags: ['\\Seen'] }),
    });
    const text = Array.from({ length: GROUPS }, (_, g) => `alt.g${g}: 1-${(g % 40) + 1}`).join('\n');
    let finished = false;
    const put = fetch(`${base}/v1/users/big/newsrc?uidvalidity=1`, { method: 'PUT', headers: { ...auth, 'content-type': 'text/plain' }, body: text })
      .then(async (r) => {
        finished = true;
        return [r.status, ((await r.json()) as { imported: string[] }).imported.length];
      });
    // Ask for another user's flags until one answer comes while the import is half done:
    // its first group stored, its last not yet, and the PUT not answered.
    let midway = 0;
    let answered = 0;
    while (!finished) {
      expect(await seenOf('other', 'alt.x')).toBe('1-5');
      answered++;
      if (finished) break;
      const first = await seenOf('big', 'alt.g0');
      const last = await seenOf('big', `alt.g${GROUPS - 1}`);
      if (first === '1' && last === undefined && !finished) midway++;
    }
    expect(await put).toEqual([200, GROUPS]);
    expect(answered).toBeGreaterThan(0);
    expect(midway).toBeGreaterThan(0);
    expect(await seenOf('big', `alt.g${GROUPS - 1}`)).toBe(`1-${((GROUPS - 1) % 40) + 1}`);
  });
});

describe('import limits', () => {
  it('refuses more groups than MAX_NEWSRC_GROUPS with 400, and a body over MAX_NEWSRC_BYTES with 413, storing nothing', async () => {
    const many = Array.from({ length: MAX_NEWSRC_GROUPS + 1 }, (_, g) => `g${g}!`).join('\n');
    expect(Buffer.byteLength(many)).toBeLessThan(MAX_NEWSRC_BYTES);
    const r = await fetch(`${base}/v1/users/lim/newsrc?uidvalidity=1`, { method: 'PUT', headers: { ...auth, 'content-type': 'text/plain' }, body: `first.g: 1\n${many}` });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/more than 150000 groups/);
    const huge = 'x: 1\n'.repeat(Math.ceil(MAX_NEWSRC_BYTES / 5) + 1);
    const h = await fetch(`${base}/v1/users/lim/newsrc?uidvalidity=1`, { method: 'PUT', headers: { ...auth, 'content-type': 'text/plain' }, body: huge });
    expect(h.status).toBe(413);
    expect(await seenOf('lim', 'first.g')).toBeUndefined();
  });

  it('runs IMPORTS_AT_ONCE imports at once, queues IMPORTS_WAITING more in order, refuses the next with 429', async () => {
    const gate = new ImportGate();
    const release: Array<() => void> = [];
    const order: number[] = [];
    const runs: Array<Promise<unknown>> = [];
    const total = IMPORTS_AT_ONCE + IMPORTS_WAITING;
    for (let i = 0; i < total; i++) {
      runs.push(gate.run(() => new Promise<void>((resolve) => {
        order.push(i);
        release.push(resolve);
      })));
    }
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(Array.from({ length: IMPORTS_AT_ONCE }, (_, i) => i));
    const refused = await gate.run(async () => 'ran').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HttpError);
    expect([(refused as HttpError).status, (refused as HttpError).headers['retry-after']]).toEqual([429, '2']);
    while (release.length > 0) {
      release.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(runs);
    expect(order).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(await gate.run(async () => 'ran')).toBe('ran');
  });

  it('stores a file bigger than one batch whole', async () => {
    const n = IMPORT_BATCH_GROUPS * 2 + 7;
    const text = Array.from({ length: n }, (_, g) => `b.g${g}: ${g + 1}`).join('\n');
    const r = await fetch(`${base}/v1/users/batches/newsrc?uidvalidity=1`, { method: 'PUT', headers: { ...auth, 'content-type': 'text/plain' }, body: text });
    expect(r.status).toBe(200);
    for (const g of [0, IMPORT_BATCH_GROUPS - 1, IMPORT_BATCH_GROUPS, n - 1]) expect(await seenOf('batches', `b.g${g}`)).toBe(String(g + 1));
  });
});
