/**
 * PostgreSQL flags wired in: the `state` key takes a postgres:// URL (checked
 * without echoing it) and `openFlagStores` opens a PgFlagStore for logged-in
 * users; the state agent takes `agent.store` (`--store`), and two agents on
 * one database serve the same users: a change through one reaches the other's
 * SSE feed (through NOTIFY), a `.newsrc` import through one is exported by the
 * other. Two IMAP front-ends on one database: a STORE on one shows in the
 * other's IDLE and NOOP. The FlagStore contract runs once more through a
 * remote client against an agent on PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/util/log.js';
import { loadAgentConfig, testConfig } from '../../src/app/config/load.js';
import { errorOf } from '../config/config-error.js';
import { openFlagStores } from '../../src/app/flagstores.js';
import { Tokens } from '../../src/stateagent/agent/auth.js';
import { startAgent, type RunningAgent } from '../../src/stateagent/agent/server.js';
import type { ChangeEvent } from '../../src/stateagent/flagstore.js';
import { PgFlagStore } from '../../src/stateagent/stores/postgres.js';
import { SessionFlagStore } from '../../src/stateagent/stores/session.js';
import { postgresForFile } from '../harness/postgres-suite.js';
import { FixtureBackend } from '../imap/fixture-backend.js';
import { startImap, type TestServer } from '../imap/harness.js';
import { RawClient, tagged } from '../imap/raw-client.js';
import { flagStoreContract } from './contract.js';
import { FE, client, remoteHarness } from './remote-harness.js';

const postgres = postgresForFile();

async function agentOn(store: string): Promise<RunningAgent> {
  const tokens = new Tokens();
  tokens.add(FE, { kind: 'frontend', name: 'fe' });
  return startAgent({ host: '127.0.0.1', port: 0, store, tokens, logger: silentLogger() });
}

describe('configuration', () => {
  it('state takes a postgres:// URL; bad values are refused without echoing a password', async () => {
    const url = await postgres.server.createDatabase();
    expect(testConfig({ state: url }).state).toBe(url);
    for (const [bad, want] of [
      ['postgres://', /^config: state: expected postgres:\/\/…: host is missing/],
      ['ftp://u:secret@h/x', /^config: state: expected .*got a URL of scheme "ftp"/],
      ['lcoal', /got "lcoal"/],
    ] as const) {
      const msg = errorOf(() => testConfig({ state: bad })).message;
      expect(msg).toMatch(want);
      expect(msg).not.toContain('secret');
    }
    const stores = await openFlagStores(testConfig({ state: url }), silentLogger());
    try {
      expect(stores.persistent).toBe(true);
      expect(stores.forUser('alice')).toBeInstanceOf(PgFlagStore);
      expect(stores.forUser('anonymous')).toBeInstanceOf(SessionFlagStore);
      await stores.forUser('alice').update({ user: 'alice', mailbox: 'g', uidValidity: 1 }, [1], 'add', ['\\Seen']);
    } finally {
      await stores.close();
    }
  });

  it('agent.store (--store, NEWSFRONT_AGENT_STORE) replaces agent.data', () => {
    const s = loadAgentConfig({ env: {}, flags: { listen: ':0', store: 'postgres://u:pw@db.example/flags', tokens: '/t' } });
    expect([s.store, s.dataDir]).toEqual(['postgres://u:pw@db.example/flags', null]);
    const e = loadAgentConfig({ env: { NEWSFRONT_AGENT_STORE: 'postgresql://db/flags' }, flags: { listen: ':0', data: '/d', tokens: '/t' } });
    expect([e.store, e.dataDir]).toEqual(['postgresql://db/flags', null]);
    const msg = errorOf(() => loadAgentConfig({ env: {}, flags: { listen: ':0', store: 'mysql://u:secret@h/x', tokens: '/t' } })).message;
    expect(msg).toMatch(/^config: agent\.store: .*\(from --store\)$/);
    expect(msg).not.toContain('secret');
    expect(errorOf(() => loadAgentConfig({ env: {}, flags: { listen: ':0', tokens: '/t' } })).message).toMatch(/^config: agent\.data: required .*unless agent\.store/);
  });
});

describe('two state agents on one PostgreSQL database', () => {
  it("a change through one agent reaches the other's feed; a .newsrc imported through one is the other's", async () => {
    const url = await postgres.server.createDatabase();
    const one = await agentOn(url);
    const two = await agentOn(url);
    const c1 = client(one);
    const c2 = client(two);
    try {
      const K = { user: 'carol', mailbox: 'alt.test', uidValidity: 42 };
      const got: ChangeEvent[] = [];
      const stop = c2.watch('carol', (e) => got.push(e));
      await c2.watching('carol');
      const r = await c1.update(K, [3, 4, 5, 9], 'add', ['\\Seen']);
      for (let i = 0; i < 500 && got.length === 0; i++) await new Promise((res) => setTimeout(res, 10));
      expect(got).toHaveLength(1);
      expect(got[0]!.key).toEqual(K);
      expect(got[0]!.changes.map((c) => [c.uid, c.modseq])).toEqual([3, 4, 5, 9].map((u) => [u, r.modseq]));
      expect((await c2.view(K, 1, 10)).has(9, '\\Seen')).toBe(true);
      stop();

      const put = await fetch(`http://127.0.0.1:${one.port}/v1/users/dave/newsrc?uidvalidity=7`, {
        method: 'PUT', headers: { authorization: `Bearer ${FE}`, 'content-type': 'text/plain' }, body: 'comp.lang.misc: 1-10,12\nalt.test! 1-3\n',
      });
      expect(put.status).toBe(200);
      const exp = await fetch(`http://127.0.0.1:${two.port}/v1/users/dave/newsrc`, { headers: { authorization: `Bearer ${FE}` } });
      expect(await exp.text()).toBe('alt.test! 1-3\ncomp.lang.misc: 1-10,12\n');
    } finally {
      await c1.close();
      await c2.close();
      await one.close();
      await two.close();
    }
  });
});

flagStoreContract('remote → agent on postgres', async () => {
  const url = await postgres.server.createDatabase();
  return remoteHarness(() => agentOn(url), () => postgres.server.dropDatabase(new URL(url).pathname.slice(1)));
}, { persistent: true, watches: true, multiUser: true, validates: true, propertyRuns: 10 });

describe('two IMAP front-ends on one PostgreSQL flag database', () => {
  const article = (n: number): Buffer => Buffer.from(`Subject: article ${n}\r\nFrom: A <a@example.org>\r\n\r\nBody ${n}.\r\n`, 'latin1');

  it("a STORE on one shows in the other's IDLE and NOOP for the same user, never for another user", async () => {
    const url = await postgres.server.createDatabase();
    const stores = [await PgFlagStore.open({ url, logger: silentLogger() }), await PgFlagStore.open({ url, logger: silentLogger() })];
    const imaps: TestServer[] = [];
    const clients: RawClient[] = [];
    try {
      for (const store of stores) {
        const backend = new FixtureBackend();
        for (const n of [1, 2, 3]) backend.add('g.x', n, article(n));
        imaps.push(await startImap(backend, { flagStoreFor: () => store, persistentFlags: true }));
      }
      const login = async (i: number, user: string, pass: string): Promise<RawClient> => {
        const c = await RawClient.connect(imaps[i]!.port);
        clients.push(c);
        expect(tagged(await c.cmd('L', `LOGIN ${user} ${pass}`), 'L')).toMatch(/^L OK/);
        expect(tagged(await c.cmd('S', 'SELECT g.x'), 'S')).toMatch(/^S OK/);
        return c;
      };
      const one = await login(0, 'alice', 'secret');
      const two = await login(1, 'alice', 'secret');
      const bob = await login(1, 'bob', 'hunter2');
      two.write('i IDLE\r\n');
      await two.until((t) => t.includes('+ '));
      two.take();
      expect(tagged(await one.cmd('s', 'STORE 2 +FLAGS (\\Flagged)'), 's')).toBe('s OK STORE completed');
      expect(await two.until((t) => /\* 2 FETCH \([^\r\n]*\\Flagged/.test(t))).toMatch(/\* 2 FETCH/);
      two.write('DONE\r\n');
      await two.until((t) => /\r\ni OK/.test(t));
      two.take();
      expect(tagged(await one.cmd('t', 'STORE 3 +FLAGS (\\Seen)'), 't')).toBe('t OK STORE completed');
      let seen = '';
      for (let i = 0; i < 100 && !/\* 3 FETCH \([^\r\n]*\\Seen/.test(seen); i++) {
        seen += await two.cmd(`n${i}`, 'NOOP');
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(seen).toMatch(/\* 3 FETCH \([^\r\n]*\\Seen/);
      const bobs = await bob.cmd('b', 'FETCH 1:3 (FLAGS)');
      expect(bobs).not.toMatch(/\\Flagged|\\Seen/);
      expect(bobs).toMatch(/\* 3 FETCH \(FLAGS \(\)\)/);
    } finally {
      for (const c of clients) c.close();
      for (const s of imaps) await s.close();
      for (const s of stores) await s.close();
    }
  });
});
