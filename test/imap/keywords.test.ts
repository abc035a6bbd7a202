/**
 * Keywords (issue 12 #5). Clients set `$Label1`, `$Junk`, `$NotJunk`,
 * `$Forwarded`; every flag store keeps them like system flags:
 *
 * - client-held mode (and anonymous sessions on a server with a state store)
 *   keeps them for the session: PERMANENTFLAGS stays `()` (RFC 9051 §7.1),
 *   nothing outlives the session;
 * - a persistent store keeps them, and PERMANENTFLAGS ends in `\*`.
 *
 * FLAGS (RFC 9051 §7.3.5) lists the system flags and the keywords in use; a
 * keyword the client has not been told of yet (set by this session or by
 * another one) is announced with a new FLAGS response before the FETCH that
 * carries it (and PERMANENTFLAGS again where keywords persist).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapServer } from '../../src/imap/server.js';
import { RenderCache } from '../../src/imap/render/cache.js';
import { Users } from '../../src/app/auth/users.js';
import { silentLogger } from '../../src/util/log.js';
import { SessionFlagStore } from '../../src/stateagent/stores/session.js';
import { LmdbFlagStore } from '../../src/stateagent/stores/local.js';
import { FixtureBackend } from './fixture-backend.js';
import { RawClient, tagged, untagged } from './raw-client.js';

const SYSTEM = '\\Seen \\Answered \\Flagged \\Deleted \\Draft';
const article = Buffer.from('From: a@example.org\r\nSubject: s\r\nMessage-ID: <k@example.org>\r\n\r\nbody\r\n', 'latin1');

/** A server whose logged-in users get `persistent` flags, anonymous ones session-only flags (as src/app/flagstores.ts). */
async function serve(persistent: boolean, dir: string) {
  const backend = new FixtureBackend();
  for (let uid = 1; uid <= 5; uid++) backend.add('g.kw', uid, article);
  const shared = persistent ? await LmdbFlagStore.open({ path: join(dir, 'flags.lmdb'), logger: silentLogger() }) : undefined;
  const server = new ImapServer({
    backend,
    renderCache: new RenderCache(),
    auth: Users.parse('alice:{PLAIN}secret\n'),
    flagStoreFor: (user) => (shared && user !== 'anonymous' ? shared : new SessionFlagStore()),
    tls: undefined,
    options: {
      anonymous: true, allowPlaintextAuth: true, namespacePrefix: '', idleTimeoutMs: 30 * 60_000,
      loginFailureDelayMs: 10, compress: false, persistentFlags: persistent, crosspostSeen: false,
    },
  }, silentLogger());
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  return { port, close: async () => { await server.close(); await shared?.close(); } };
}

async function login(port: number, user: string): Promise<RawClient> {
  const c = await RawClient.connect(port);
  const cmd = user === 'anonymous' ? 'LOGIN anonymous guest@example.org' : `LOGIN ${user} secret`;
  expect(tagged(await c.cmd('L', cmd), 'L')).toMatch(/^L OK/);
  return c;
}

describe('keywords', () => {
  let dir: string;
  let held: Awaited<ReturnType<typeof serve>>;
  let kept: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nf-kw-'));
    held = await serve(false, dir);
    kept = await serve(true, dir);
  });
  afterAll(async () => {
    await held?.close();
    await kept?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('client-held mode keeps keywords for the session, announces them in FLAGS, PERMANENTFLAGS stays ()', async () => {
    const c = await login(held.port, 'alice');
    const sel = await c.cmd('s', 'SELECT g.kw');
    expect(untagged(sel)).toContain(`* FLAGS (${SYSTEM})`);
    expect(sel).toContain('[PERMANENTFLAGS ()]');
    const r = await c.cmd('k', 'STORE 1 +FLAGS ($Label1 $Junk)');
    expect(tagged(r, 'k')).toMatch(/^k OK/);
    expect(untagged(r)).toEqual([`* FLAGS (${SYSTEM} $Label1 $Junk)`, '* 1 FETCH (FLAGS ($Label1 $Junk))']);
    const f = await c.cmd('f', 'UID STORE 2 +FLAGS.SILENT ($Forwarded)');
    expect(untagged(f)).toEqual([`* FLAGS (${SYSTEM} $Label1 $Junk $Forwarded)`]);
    expect(untagged(await c.cmd('q', 'STORE 1 -FLAGS ($Junk)'))).toEqual(['* 1 FETCH (FLAGS ($Label1))']);
    expect(untagged(await c.cmd('n', 'STORE 1 +FLAGS ($NotJunk \\Seen)'))).toEqual([
      `* FLAGS (${SYSTEM} $Label1 $Junk $Forwarded $NotJunk)`, '* 1 FETCH (FLAGS ($Label1 $NotJunk \\Seen))',
    ]);
    expect(untagged(await c.cmd('x', 'SEARCH KEYWORD $Forwarded'))).toEqual(['* SEARCH 2']);
    expect(untagged(await c.cmd('y', 'FETCH 1:2 FLAGS'))).toEqual(['* 1 FETCH (FLAGS ($Label1 $NotJunk \\Seen))', '* 2 FETCH (FLAGS ($Forwarded))']);
    // selecting again: FLAGS lists the keywords in use, still nothing permanent
    const again = await c.cmd('a', 'SELECT g.kw');
    expect(untagged(again)).toContain(`* FLAGS (${SYSTEM} $Label1 $Forwarded $NotJunk)`);
    expect(again).toContain('[PERMANENTFLAGS ()]');
    c.close();
    const d = await login(held.port, 'alice');
    await d.cmd('s', 'SELECT g.kw');
    expect(untagged(await d.cmd('f', 'FETCH 1:2 FLAGS'))).toEqual(['* 1 FETCH (FLAGS ())', '* 2 FETCH (FLAGS ())']);
    d.close();
  });

  it('anonymous sessions on a server with a state store get session-only flags, keywords included', async () => {
    const c = await login(kept.port, 'anonymous');
    const sel = await c.cmd('s', 'SELECT g.kw');
    expect(sel).toContain('[PERMANENTFLAGS ()]');
    const r = await c.cmd('k', 'STORE 3 +FLAGS ($Label1)');
    expect(tagged(r, 'k')).toMatch(/^k OK/);
    expect(untagged(r)).toEqual([`* FLAGS (${SYSTEM} $Label1)`, '* 3 FETCH (FLAGS ($Label1))']);
    c.close();
    const d = await login(kept.port, 'anonymous');
    await d.cmd('s', 'SELECT g.kw');
    expect(untagged(await d.cmd('f', 'FETCH 3 FLAGS'))).toEqual(['* 3 FETCH (FLAGS ())']);
    d.close();
  });

  it('a persistent store announces a new keyword with FLAGS and PERMANENTFLAGS (\\*), to this and other sessions', async () => {
    const a = await login(kept.port, 'alice');
    const b = await login(kept.port, 'alice');
    const sel = await a.cmd('s', 'SELECT g.kw');
    expect(sel).toContain(`[PERMANENTFLAGS (${SYSTEM} \\*)]`);
    await b.cmd('s', 'SELECT g.kw');
    const r = await a.cmd('k', 'STORE 4 +FLAGS ($Junk)');
    expect(untagged(r)).toEqual([
      `* FLAGS (${SYSTEM} $Junk)`, `* OK [PERMANENTFLAGS (${SYSTEM} $Junk \\*)] Flags are kept for you`, '* 4 FETCH (FLAGS ($Junk))',
    ]);
    expect(untagged(await b.cmd('n', 'NOOP'))).toEqual([
      `* FLAGS (${SYSTEM} $Junk)`, `* OK [PERMANENTFLAGS (${SYSTEM} $Junk \\*)] Flags are kept for you`, '* 4 FETCH (UID 4 FLAGS ($Junk))',
    ]);
    a.close();
    b.close();
    const c = await login(kept.port, 'alice');
    const again = await c.cmd('s', 'EXAMINE g.kw');
    expect(untagged(again)).toContain(`* FLAGS (${SYSTEM} $Junk)`);
    expect(again).toContain('[PERMANENTFLAGS ()]');
    c.close();
  });
});
