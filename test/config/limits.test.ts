/**
 * The `limits.*` keys: defaults, validation naming the key, and that
 * `startNewsfront` applies them (per-source connection cap, failed-login
 * limit, pre-login command cap) to the server it starts on the sample archive.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, testConfig } from '../../src/app/config/load.js';
import { startNewsfront, type RunningNewsfront } from '../../src/app/start.js';
import { silentLogger } from '../../src/util/log.js';
import { Peer } from '../imap/peer.js';

describe('limits config', () => {
  it('has the defaults of src/imap/limits.ts', () => {
    expect(loadConfig({ env: {} }).limits).toEqual({
      maxConnections: 10_000, maxConnectionsPerAddress: 100, exemptAddresses: ['127.0.0.0/8', '::1/128'],
      preAuthDeadlineMs: 60_000, maxPreAuthCommands: 20, loginFailuresPerAddress: 10, loginFailuresPerUser: 10,
      loginFailureWindowMs: 600_000, passwordChecks: 2, passwordCheckQueue: 64,
    });
  });

  it('names a bad key in one line', () => {
    const msg = (overlay: object): string => {
      try {
        testConfig(overlay);
      } catch (err) {
        if (err instanceof ConfigError) return err.message;
        throw err;
      }
      return 'no error';
    };
    expect(msg({ limits: { exemptAddresses: ['10.0.0.0/40'] } })).toMatch(/^config: limits\.exemptAddresses\[0\]: prefix length/);
    expect(msg({ limits: { maxConnections: 0 } })).toMatch(/^config: limits\.maxConnections: /);
    expect(msg({ limits: { preAuthDeadlineMs: 10 } })).toMatch(/^config: limits\.preAuthDeadlineMs: /);
    expect(msg({ limits: { maxConection: 1 } })).toMatch(/^config: limits\.maxConection: unknown key/);
  });
});

describe('limits applied by startNewsfront', () => {
  let dir: string;
  let nf: RunningNewsfront;
  const peers: Peer[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nf-limits-'));
    writeFileSync(join(dir, 'users'), 'alice:{PLAIN}secret\n');
    nf = await startNewsfront(
      testConfig({
        data: join(dir, 'data'),
        listen: { host: '127.0.0.1', port: 0 },
        users: join(dir, 'users'),
        limits: { maxConnectionsPerAddress: 2, exemptAddresses: [], loginFailuresPerAddress: 1, maxPreAuthCommands: 3 },
      }),
      silentLogger(),
    );
  }, 60_000);
  afterAll(async () => {
    for (const p of peers) p.close();
    await nf?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const open = async (from: string): Promise<Peer> => {
    const p = await Peer.open(nf.port, from);
    peers.push(p);
    return p;
  };

  it('caps connections per source, limits failed logins and commands before login', async () => {
    const a = await open('127.0.0.2');
    expect((await open('127.0.0.2')).firstLine).toMatch(/^\* OK/);
    expect((await open('127.0.0.2')).firstLine).toMatch(/^\* BYE \[UNAVAILABLE\]/);
    expect(await a.cmd('a', 'LOGIN alice wrong')).toMatch(/^a NO \[AUTHENTICATIONFAILED\]/);
    expect(await a.cmd('b', 'LOGIN alice secret')).toMatch(/^b NO \[UNAVAILABLE\]/);
    const c = await open('127.0.0.3');
    expect(await c.cmd('c', 'LOGIN alice secret')).toMatch(/^c OK/);
    expect(await c.cmd('d', 'EXAMINE sample.discuss')).toMatch(/^d OK/);
    const d = await open('127.0.0.4');
    for (let i = 0; i < 3; i++) expect(await d.cmd(`n${i}`, 'NOOP')).toMatch(/^n\d OK/);
    expect(await d.cmd('n3', 'NOOP')).toMatch(/^\* BYE \[LIMIT\]/);
  });
});
