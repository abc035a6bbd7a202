/**
 * Two state agent instances on one PostgreSQL (`newsfront agent --store
 * postgres://…`, child processes) with a front-end on each (`--state
 * http://agent`, UID map in the same database), one INN (issue 13, DESIGN
 * invariant 5):
 *  - the same user's change crosses agents: alice's STORE through front-end 0
 *    (agent 0) reaches her IDLE on front-end 1 (agent 1);
 *  - bob never sees or changes alice's flags: not in his IDLE (his own change
 *    arrives, nothing of hers before it), not in FETCH FLAGS on either
 *    front-end, and his -FLAGS on her UIDs changes only his state;
 *  - each agent authenticates every caller: a user token acts only for its
 *    user on both agents (403 for the other user's flags, changes and feed,
 *    401 without a token), and what alice's token reads on either agent is
 *    exactly what she stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { startAgentProcess, type AgentProcess } from '../harness/agent-process.js';
import type { ChildServer } from '../harness/child-server.js';
import { DIRECT_FROM, done, flagsByUid, FRONTS_USERS, idle, login, select, toldFlag } from '../harness/fronts.js';
import { startPostgres, type PostgresServer } from '../harness/postgres.js';
import { startStack, type Stack } from '../harness/stack.js';
import { RawClient, tagged } from '../imap/raw-client.js';

const BOX = 'comp.lang.misc';
const FE_TOKEN = 'agents-pg-frontend-token-0001';
const ALICE_TOKEN = 'agents-pg-alice-token-000000001';
const BOB_TOKEN = 'agents-pg-bob-token-00000000001';
const LIVENESS_MS = 15_000;

let pg: PostgresServer;
let stack: Stack<'none'>;
const agents: AgentProcess[] = [];
const fes: ChildServer[] = [];
const clients: RawClient[] = [];

beforeAll(async () => {
  pg = await startPostgres({ durable: false });
  stack = await startStack({ frontend: 'none', corpus: { seed: 15, groups: [BOX, 'alt.test'], perGroup: 30 }, users: FRONTS_USERS });
  const tokens = `${FE_TOKEN} frontend fe\n${ALICE_TOKEN} user alice\n${BOB_TOKEN} user bob\n`;
  for (const i of [0, 1]) agents.push(await startAgentProcess(join(stack.dir, `agent${i}`), tokens, { store: pg.url }));
  fes.push(
    ...(await Promise.all(
      agents.map((a, i) => stack.spawn({ data: join(stack.dir, `fe${i}`), uidmap: pg.url, state: a.url, stateToken: FE_TOKEN })),
    )),
  );
}, 600_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await stack?.close();
  for (const a of agents) await a.stop();
  await pg?.stop();
}, 180_000);

async function on(i: number, user: string): Promise<RawClient> {
  const c = await RawClient.connect(fes[i]!.port, DIRECT_FROM);
  clients.push(c);
  return login(c, user);
}

const ok = (r: string, tag: string): void => {
  expect(tagged(r, tag)).toMatch(new RegExp(`^${tag} OK`));
};

async function api(agent: number, token: string | undefined, path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${agents[agent]!.url}/v1${path}`, { ...init, headers });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (an SSE stream would not end; none is read here)
  }
  return { status: res.status, body };
}

describe('two state agents on one PostgreSQL, a front-end on each', () => {
  let uidValidity = 0;

  it("the same user's change crosses agents: alice's STORE on agent 0 reaches her IDLE on agent 1", async () => {
    const writer = await on(0, 'alice');
    uidValidity = (await select(writer, BOX)).uidValidity;
    const watcher = await on(1, 'alice');
    expect((await select(watcher, BOX)).uidValidity).toBe(uidValidity);
    await idle(watcher);
    ok(await writer.cmd('a1', 'UID STORE 1:5 +FLAGS.SILENT ($AliceOnly)'), 'a1');
    await watcher.until((t) => [1, 2, 3, 4, 5].every((u) => toldFlag(t, u, '$AliceOnly')), LIVENESS_MS);
    ok(await done(watcher), 'I');
  });

  it("bob never sees or changes alice's flags through either front-end", async () => {
    const bobIdle = await on(1, 'bob');
    await select(bobIdle, BOX);
    await idle(bobIdle);
    const alice = await on(0, 'alice');
    await select(alice, BOX);
    ok(await alice.cmd('a2', 'UID STORE 6:8 +FLAGS.SILENT (\\Seen)'), 'a2');
    // bob's own change through the other agent: it must arrive, and nothing of alice's before it
    const bob = await on(0, 'bob');
    await select(bob, BOX);
    ok(await bob.cmd('b1', 'UID STORE 20 +FLAGS.SILENT (\\Flagged)'), 'b1');
    await bobIdle.until((t) => toldFlag(t, 20, '\\Flagged'), LIVENESS_MS);
    expect(await done(bobIdle)).not.toMatch(/\$AliceOnly|\\Seen/);
    ok(await bob.cmd('b2', 'UID STORE 1:8 -FLAGS.SILENT ($AliceOnly \\Seen)'), 'b2');
    for (const i of [0, 1]) {
      const a = await on(i, 'alice');
      await select(a, BOX);
      expect(await flagsByUid(a)).toEqual(new Map<number, string[]>([
        ...[1, 2, 3, 4, 5].map((u): [number, string[]] => [u, ['$AliceOnly']]),
        ...[6, 7, 8].map((u): [number, string[]] => [u, ['\\Seen']]),
      ]));
      const b = await on(i, 'bob');
      await select(b, BOX);
      expect(await flagsByUid(b)).toEqual(new Map([[20, ['\\Flagged']]]));
    }
  });

  it('each agent lets a user token act only for its own user', async () => {
    expect(uidValidity).toBeGreaterThan(0);
    const flags = (user: string): string => `/users/${user}/mailboxes/${BOX}/${uidValidity}/flags`;
    const change = JSON.stringify({ uids: '1-30', op: 'add', flags: ['$Intruder'] });
    for (const i of [0, 1]) {
      expect((await api(i, undefined, flags('alice'))).status).toBe(401);
      expect((await api(i, BOB_TOKEN, flags('alice'))).status).toBe(403);
      expect((await api(i, BOB_TOKEN, flags('alice'), { method: 'POST', body: change })).status).toBe(403);
      expect((await api(i, BOB_TOKEN, `/users/alice/mailboxes/${BOX}/${uidValidity}/changes?since=0`)).status).toBe(403);
      expect((await api(i, BOB_TOKEN, '/users/alice/events')).status).toBe(403);
      expect((await api(i, BOB_TOKEN, '/users/alice/mailboxes')).status).toBe(403);
      expect((await api(i, ALICE_TOKEN, flags('bob'), { method: 'POST', body: change })).status).toBe(403);
    }
    // what each sees through either agent: exactly their own
    for (const i of [0, 1]) {
      const a = await api(i, ALICE_TOKEN, flags('alice'));
      expect(a.status).toBe(200);
      expect((a.body as { flags: Record<string, string> }).flags).toEqual({ $AliceOnly: '1-5', '\\Seen': '6-8' });
      const b = await api(i, BOB_TOKEN, flags('bob'));
      expect(b.status).toBe(200);
      expect(Object.entries((b.body as { flags: Record<string, string> }).flags).filter(([, v]) => v !== '')).toEqual([['\\Flagged', '20']]);
    }
  });
});
