/**
 * The idle timeout after login (connection.ts `refreshTimeout`): LOGIN moves
 * the socket from the pre-auth timeout (60 s) to `idleTimeoutMs`; traffic
 * keeps the session alive (the socket's timer restarts on every read and
 * write, the timeout itself is set only when it changes), and a session
 * silent for longer gets `* BYE Autologout` and is closed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixtureBackend } from './fixture-backend.js';
import { startImap, type TestServer } from './harness.js';
import { RawClient } from './raw-client.js';

const IDLE_MS = 600;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('idle timeout', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startImap(new FixtureBackend(), { idleTimeoutMs: IDLE_MS });
  });
  afterAll(async () => {
    await srv.close();
  });

  it('keeps a session that sends commands alive past the timeout, and logs out one that falls silent', async () => {
    const c = await RawClient.connect(srv.port);
    try {
      expect(await c.cmd('a', 'LOGIN alice secret')).toMatch(/a OK/);
      // commands at a third of the timeout, for twice the timeout in all
      for (let i = 0; i < 6; i++) {
        await sleep(IDLE_MS / 3);
        expect(await c.cmd(`n${i}`, 'NOOP')).toMatch(new RegExp(`n${i} OK`));
      }
      expect(c.closed).toBe(false);
      // silent: the post-login timeout (not the 60 s pre-auth one) ends it
      const text = await c.settle(() => c.closed, 10_000);
      expect(text).toMatch(/^\* BYE Autologout/);
      expect(c.closed).toBe(true);
    } finally {
      c.close();
    }
  });
});
