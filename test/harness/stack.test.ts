/**
 * The stack fixture itself, without INN (the embedded sample archive): the
 * users file, state wiring, restart on the same port, extra front-ends, getters
 * of parts not asked for, and that close() stops everything and removes the dir.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RawClient, tagged } from '../imap/raw-client.js';
import { startStack } from './stack.js';

async function login(port: number, user: string, pass: string): Promise<string> {
  const c = await RawClient.connect(port);
  try {
    return tagged(await c.cmd('a', `LOGIN ${user} ${pass}`), 'a');
  } finally {
    c.close();
  }
}

describe('startStack', () => {
  it('serves the sample with the given users and local state; restarts on the same port; close removes everything', async () => {
    const stack = await startStack({ users: { bob: 'pw' }, state: 'local' });
    const ports: number[] = [];
    try {
      expect(stack.config()).toMatchObject({ state: 'local', users: `${stack.dir}/users`, data: `${stack.dir}/data` });
      expect(stack.config()).not.toHaveProperty('upstreams');
      expect(await login(stack.nf.port, 'bob', 'pw')).toMatch(/^a OK/);
      expect(await login(stack.nf.port, 'alice', 'secret')).toMatch(/^a NO/);
      expect(() => stack.inn).toThrow(/corpus/);
      expect(() => stack.relay).toThrow(/relay: true/);
      expect(() => stack.agentProcess).toThrow(/agent-process/);
      const port = stack.nf.port;
      ports.push(port);
      const again = await stack.restartFrontend();
      expect(again.port).toBe(port);
      expect(await login(port, 'bob', 'pw')).toMatch(/^a OK/);
      const extra = await stack.serve();
      expect(extra.port).not.toBe(port);
      ports.push(extra.port);
      expect(await login(extra.port, 'bob', 'pw')).toMatch(/^a OK/);
    } finally {
      await stack.close();
    }
    expect(existsSync(stack.dir)).toBe(false);
    for (const p of ports) await expect(RawClient.connect(p), `port ${p} closed`).rejects.toThrow();
    await stack.close(); // a second close is harmless
  });

  it("frontend 'none' starts no front-end; spawn() children and the in-process agent are stopped by close()", async () => {
    const stack = await startStack({ frontend: 'none', state: 'agent' });
    expect(() => stack.nf).toThrow(/front-end/);
    expect(stack.config()).toMatchObject({ state: `http://127.0.0.1:${stack.agent.port}`, stateToken: stack.agentToken });
    const child = await stack.spawn();
    expect(await login(child.port, 'alice', 'secret')).toMatch(/^a OK/);
    await stack.close();
    expect(child.exitCode).toBe(0);
    expect(child.crashed).toBeNull();
    expect(existsSync(stack.dir)).toBe(false);
  }, 120_000);
});
