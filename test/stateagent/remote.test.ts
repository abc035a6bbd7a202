/**
 * The FlagStore contract against RemoteFlagStore talking to a real agent
 * (in-process, port 0); "reopen" restarts the agent on the same data.
 * Remote-only: changes by another client reach a watcher (SSE), and an
 * agent that is down answers UNAVAILABLE, never success, and the client
 * recovers on its own when the agent is back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/util/log.js';
import { Tokens } from '../../src/stateagent/agent/auth.js';
import { startAgent, type RunningAgent } from '../../src/stateagent/agent/server.js';
import { FlagStoreError, type ChangeEvent } from '../../src/stateagent/flagstore.js';
import { RemoteFlagStore } from '../../src/stateagent/stores/remote.js';
import { flagStoreContract } from './contract.js';
import { FE, client, remoteHarness } from './remote-harness.js';

async function agentOn(dataDir: string, port = 0): Promise<RunningAgent> {
  const tokens = new Tokens();
  tokens.add(FE, { kind: 'frontend', name: 'fe1' });
  return startAgent({ host: '127.0.0.1', port, dataDir, tokens, logger: silentLogger() });
}

flagStoreContract('remote', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nf-agent-'));
  return remoteHarness(() => agentOn(dir), () => rmSync(dir, { recursive: true, force: true }));
}, { persistent: true, watches: true, multiUser: true, validates: true, propertyRuns: 10 });

describe('RemoteFlagStore against a real agent', () => {
  const K = { user: 'carol', mailbox: 'alt.test', uidValidity: 42 };

  it('delivers a change made by another front-end to a watcher (SSE)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nf-agent-'));
    const agent = await agentOn(dir);
    const a = client(agent);
    const b = client(agent);
    try {
      const got: ChangeEvent[] = [];
      const stop = a.watch('carol', (e) => got.push(e));
      await a.watching('carol');
      const r = await b.update(K, [3, 4, 5, 9], 'add', ['\\Seen']);
      for (let i = 0; i < 500 && got.length === 0; i++) await new Promise((res) => setTimeout(res, 10));
      expect(got).toHaveLength(1);
      expect(got[0]!.key).toEqual(K);
      expect(got[0]!.changes.map((c) => c.uid)).toEqual([3, 4, 5, 9]);
      expect(got[0]!.changes.every((c) => c.modseq === r.modseq && c.flags.join() === '\\Seen')).toBe(true);
      stop();
    } finally {
      await a.close();
      await b.close();
      await agent.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps views current when another front-end changes flags (delta on a cached view)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nf-agent-'));
    const agent = await agentOn(dir);
    const a = client(agent);
    const b = client(agent);
    try {
      await a.update(K, [1, 2, 3, 4, 5, 6], 'add', ['\\Seen', 'old']);
      const v1 = await a.view(K, 1, 100);
      expect(v1.has(3, 'old')).toBe(true);
      const r1 = await b.update(K, [2, 3], 'remove', ['\\Seen', 'old']);
      const r2 = await b.update(K, [5, 50], 'add', ['fresh']);
      await b.update(K, [200], 'add', ['\\Flagged']); // outside the cached span
      const v2 = await a.view(K, 2, 60);
      expect(v2.highestModseq).toBe(r2.modseq + 1);
      expect([...v2.flagsOf(2)].sort()).toEqual([]);
      expect([...v2.flagsOf(4)].sort()).toEqual(['\\Seen', 'old']);
      expect([...v2.flagsOf(5)].sort()).toEqual(['\\Seen', 'fresh', 'old']);
      expect([...v2.flagsOf(50)].sort()).toEqual(['fresh']);
      expect(v2.modseqOf(3)).toBe(r1.modseq);
      expect(v2.modseqOf(50)).toBe(r2.modseq);
      expect(v2.modseqOf(7)).toBe(1);
      expect(v1.has(3, 'old')).toBe(true); // the earlier view is a snapshot
      // a span beyond the cached one is fetched whole
      const v3 = await a.view(K, 1, 300);
      expect(v3.has(200, '\\Flagged')).toBe(true);
    } finally {
      await a.close();
      await b.close();
      await agent.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers UNAVAILABLE while the agent is down and recovers (requests and feed) when it is back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nf-agent-'));
    let agent = await agentOn(dir);
    const port = agent.port;
    const s = client(agent);
    const got: ChangeEvent[] = [];
    let resyncs = 0;
    const stop = s.watch('carol', (e) => (e.resync ? resyncs++ : got.push(e)));
    try {
      await s.watching('carol');
      await s.update(K, [1], 'add', ['\\Seen']);
      await agent.close();
      for (const call of [
        () => s.update(K, [2], 'add', ['\\Seen']),
        () => s.view(K, 1, 10),
        () => s.changedSince(K, 1),
        () => s.subscriptions('carol'),
        () => s.setSubscribed('carol', 'alt.test', true),
      ]) {
        const err = await call().then(() => undefined, (e: unknown) => e);
        expect(err).toBeInstanceOf(FlagStoreError);
        expect((err as FlagStoreError).code).toBe('UNAVAILABLE');
      }
      agent = await agentOn(dir, port);
      const v = await s.view(K, 1, 10);
      expect(v.has(1, '\\Seen')).toBe(true);
      expect(v.has(2, '\\Seen')).toBe(false); // the refused change was not stored
      // the feed reconnects by itself; a change after that is heard
      await s.watching('carol');
      got.length = 0;
      await s.update(K, [7], 'add', ['\\Flagged']);
      for (let i = 0; i < 500 && got.length === 0; i++) await new Promise((res) => setTimeout(res, 10));
      expect(got.map((e) => e.changes.map((c) => c.uid))).toEqual([[7]]);
      // the restarted agent cannot replay the gap: the watcher was told to resync
      expect(resyncs).toBe(1);
    } finally {
      stop();
      await s.close();
      await agent.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('makes one request per update and answers with the flags it set (STORE reads nothing back)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nf-agent-'));
    const agent = await agentOn(dir);
    const a = client(agent);
    const real = globalThis.fetch;
    const calls: string[] = [];
    globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
      calls.push(`${init?.method ?? 'GET'} ${String(input).replace(/^http:\/\/[^/]+/, '')}`);
      return real(input, init);
    }) as typeof fetch;
    try {
      await a.update(K, [1, 2, 3], 'add', ['\\Seen']);
      calls.length = 0;
      const r = await a.update(K, [2, 3, 4], 'add', ['\\Flagged'], { unchangedSince: 1 });
      expect(calls).toEqual(['POST /v1/users/carol/mailboxes/alt.test/42/flags']);
      expect(r.modified).toEqual([2, 3]);
      expect(r.changes).toEqual([{ uid: 4, flags: ['\\Flagged'], modseq: r.modseq }]);
    } finally {
      globalThis.fetch = real;
      await a.close();
      await agent.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers UNAVAILABLE for an agent that was never there', async () => {
    const s = new RemoteFlagStore({ url: 'http://127.0.0.1:1', token: FE, logger: silentLogger(), timeoutMs: 2000 });
    const err = await s.update(K, [1], 'add', ['\\Seen']).then(() => undefined, (e: unknown) => e);
    expect((err as FlagStoreError).code).toBe('UNAVAILABLE');
    await s.close();
  });
});

describe('RemoteFlagStore figures', () => {
  it('measures STORE 1:50000, a 100k view and single-UID updates over HTTP', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nf-agent-'));
    const agent = await agentOn(dir);
    const s = client(agent);
    try {
      const K = { user: 'mia', mailbox: 'big', uidValidity: 1 };
      const uids = Array.from({ length: 50000 }, (_, i) => i + 1);
      await s.update({ ...K, mailbox: 'warm-up' }, [1], 'add', ['\\Seen']); // connection and JIT warm-up
      let t = performance.now();
      await s.update(K, uids, 'add', ['\\Seen']);
      const store = performance.now() - t;
      await s.update(K, Array.from({ length: 33333 }, (_, i) => 3 * i + 1), 'add', ['\\Flagged']);
      await s.view(K, 1, 100000);
      t = performance.now();
      const v = await s.view(K, 1, 100000);
      const view = performance.now() - t;
      expect(v.has(99997, '\\Flagged')).toBe(true);
      const N = 50;
      t = performance.now();
      for (let i = 0; i < N; i++) await s.update(K, [60000 + i], 'add', ['\\Answered']);
      const one = (performance.now() - t) / N;
      console.log(`remote flags: STORE 1:50000 ${store.toFixed(1)} ms; view 100k (33k ranges) ${view.toFixed(1)} ms; one-UID STORE ${one.toFixed(2)} ms sequential`);
    } finally {
      await s.close();
      await agent.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
