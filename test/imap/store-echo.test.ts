/**
 * A session's own flag changes come back only when the RFC asks (issue 12
 * #4), with every flag store: session-only, local LMDB and the remote agent.
 *
 * - `STORE … FLAGS.SILENT` sends no untagged FETCH (RFC 9051 §6.4.6), unless
 *   CONDSTORE is on: then one `FETCH (UID u MODSEQ (m))` per changed message,
 *   without FLAGS (RFC 7162 §3.1.3, example 3 there).
 * - A non-silent STORE sends exactly one FETCH per changed message: the
 *   change feed does not repeat it later (at the end of the command, at NOOP).
 * - Another session's change still arrives at NOOP, once.
 *
 * The remote agent's feed is asynchronous: a change by a second session is
 * used as a barrier (the feed is ordered per user), so "nothing more came"
 * is asserted without waiting for a time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapServer } from '../../src/imap/server.js';
import { RenderCache } from '../../src/imap/render/cache.js';
import { Users } from '../../src/app/auth/users.js';
import { silentLogger } from '../../src/util/log.js';
import type { FlagStore } from '../../src/stateagent/flagstore.js';
import { SessionFlagStore } from '../../src/stateagent/stores/session.js';
import { LmdbFlagStore } from '../../src/stateagent/stores/local.js';
import { RemoteFlagStore } from '../../src/stateagent/stores/remote.js';
import { Tokens } from '../../src/stateagent/agent/auth.js';
import { startAgent, type RunningAgent } from '../../src/stateagent/agent/server.js';
import { FixtureBackend } from './fixture-backend.js';
import { RawClient, tagged, untagged } from './raw-client.js';

type Mode = 'session' | 'local' | 'agent';

const N = 3000;
const FE = 'frontend-token-0123456789abcdef';
const article = Buffer.from('From: a@example.org\r\nSubject: s\r\nMessage-ID: <x@example.org>\r\n\r\nbody\r\n', 'latin1');

const fetches = (resp: string): string[] => untagged(resp).filter((l) => / FETCH \(/.test(l));

describe.each(['session', 'local', 'agent'] as const)('own flag changes (%s store)', (mode: Mode) => {
  let dir: string;
  let agent: RunningAgent | undefined;
  let shared: FlagStore | undefined;
  let server: ImapServer;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nf-echo-'));
    const backend = new FixtureBackend();
    for (const box of ['g.silent', 'g.loud', 'g.cond', 'g.other']) for (let uid = 1; uid <= N; uid++) backend.add(box, uid, article);
    if (mode === 'local') shared = await LmdbFlagStore.open({ path: join(dir, 'flags.lmdb'), logger: silentLogger() });
    if (mode === 'agent') {
      const tokens = new Tokens();
      tokens.add(FE, { kind: 'frontend', name: 'fe' });
      agent = await startAgent({ host: '127.0.0.1', port: 0, dataDir: dir, tokens, logger: silentLogger() });
      shared = new RemoteFlagStore({ url: `http://127.0.0.1:${agent.port}`, token: FE, logger: silentLogger() });
    }
    server = new ImapServer({
      backend,
      renderCache: new RenderCache(),
      auth: Users.parse('alice:{PLAIN}secret\n'),
      flagStoreFor: () => shared ?? new SessionFlagStore(),
      tls: undefined,
      options: {
        anonymous: false, allowPlaintextAuth: true, namespacePrefix: '', idleTimeoutMs: 30 * 60_000,
        loginFailureDelayMs: 10, compress: false, persistentFlags: mode !== 'session', crosspostSeen: false,
      },
    }, silentLogger());
    port = (await server.listen({ host: '127.0.0.1', port: 0 })).port;
  });

  afterAll(async () => {
    await server?.close();
    await shared?.close();
    await agent?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function session(box: string): Promise<RawClient> {
    const c = await RawClient.connect(port);
    expect(tagged(await c.cmd('L', 'LOGIN alice secret'), 'L')).toMatch(/^L OK/);
    if (shared instanceof RemoteFlagStore) await shared.watching('alice');
    expect(tagged(await c.cmd('S', `SELECT ${box}`), 'S')).toMatch(/^S OK/);
    return c;
  }

  /** NOOP until a FETCH for `uid` arrives (another session's change); all FETCH lines seen meanwhile. */
  async function noopUntil(c: RawClient, uid: number): Promise<string[]> {
    const seen: string[] = [];
    for (let i = 0; i < 200; i++) {
      const got = fetches(await c.cmd(`n${i}`, 'NOOP'));
      seen.push(...got);
      if (got.some((l) => l.includes(`UID ${uid} `))) return seen;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no change for UID ${uid} arrived; saw ${seen.length} FETCH lines`);
  }

  it('a silent STORE of every message sends no FETCH, now or at the next NOOP', async () => {
    const a = await session('g.silent');
    const b = await session('g.silent');
    const r = await a.cmd('s', `UID STORE 1:${N} +FLAGS.SILENT (\\Seen)`);
    expect(tagged(r, 's')).toMatch(/^s OK/);
    expect(fetches(r)).toEqual([]);
    if (mode === 'session') {
      expect(fetches(await a.cmd('n', 'NOOP'))).toEqual([]);
    } else {
      // b's change is the barrier: once a hears it, a's own change event has arrived too.
      expect(tagged(await b.cmd('f', 'UID STORE 7 +FLAGS.SILENT (\\Flagged)'), 'f')).toMatch(/^f OK/);
      expect(await noopUntil(a, 7)).toEqual(['* 7 FETCH (UID 7 FLAGS (\\Seen \\Flagged))']);
    }
    const check = await a.cmd('c', 'FETCH 1,2,7 FLAGS');
    expect(fetches(check)).toEqual(
      mode === 'session'
        ? ['* 1 FETCH (FLAGS (\\Seen))', '* 2 FETCH (FLAGS (\\Seen))', '* 7 FETCH (FLAGS (\\Seen))']
        : ['* 1 FETCH (FLAGS (\\Seen))', '* 2 FETCH (FLAGS (\\Seen))', '* 7 FETCH (FLAGS (\\Seen \\Flagged))'],
    );
    a.close();
    b.close();
  });

  it('a non-silent STORE sends one FETCH per message, and the change feed does not repeat it', async () => {
    const a = await session('g.loud');
    const b = await session('g.loud');
    const r = await a.cmd('s', 'STORE 1:5 +FLAGS (\\Answered)');
    expect(fetches(r)).toEqual([1, 2, 3, 4, 5].map((n) => `* ${n} FETCH (FLAGS (\\Answered))`));
    if (mode === 'session') {
      expect(fetches(await a.cmd('n', 'NOOP'))).toEqual([]);
    } else {
      expect(tagged(await b.cmd('f', 'UID STORE 9 +FLAGS.SILENT (\\Flagged)'), 'f')).toMatch(/^f OK/);
      expect(await noopUntil(a, 9)).toEqual(['* 9 FETCH (UID 9 FLAGS (\\Flagged))']);
    }
    a.close();
    b.close();
  });

  it.skipIf(mode === 'session')('with CONDSTORE a silent STORE sends UID and MODSEQ, no FLAGS (RFC 7162 §3.1.3)', async () => {
    const a = await session('g.cond');
    await a.cmd('e', 'ENABLE CONDSTORE');
    const r = await a.cmd('s', 'UID STORE 2:4 +FLAGS.SILENT (\\Seen)');
    const lines = fetches(r);
    expect(lines).toHaveLength(3);
    const m = /MODSEQ \((\d+)\)/.exec(lines[0]!);
    expect(lines).toEqual([2, 3, 4].map((u) => `* ${u} FETCH (UID ${u} MODSEQ (${m![1]}))`));
    const u = await a.cmd('u', 'STORE 2:3 (UNCHANGEDSINCE 1) -FLAGS.SILENT (\\Seen)');
    expect(fetches(u)).toEqual([]);
    expect(tagged(u, 'u')).toMatch(/^u OK \[MODIFIED 2:3\]/);
    a.close();
  });

  it.skipIf(mode === 'session')("another session's change arrives at NOOP exactly once", async () => {
    const a = await session('g.other');
    const b = await session('g.other');
    expect(tagged(await b.cmd('f', 'UID STORE 11 +FLAGS (\\Flagged)'), 'f')).toMatch(/^f OK/);
    expect(await noopUntil(a, 11)).toEqual(['* 11 FETCH (UID 11 FLAGS (\\Flagged))']);
    expect(fetches(await a.cmd('z', 'NOOP'))).toEqual([]);
    a.close();
    b.close();
  });
});
