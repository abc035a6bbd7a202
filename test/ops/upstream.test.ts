/**
 * Upstream figures and readiness against a fake NNTP server
 * (test/nntp/fake-peer.ts): the pool's request hook reports each request once
 * with its result; the readiness check counts an upstream that served a
 * request as up without a connection of its own, probes an idle one (greeting,
 * DATE, QUIT), and fails naming the upstream when none answers; a front-end
 * wires the hook to `newsfront_upstream_requests_total`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNewsfront } from '../../src/app/start.js';
import { Peer } from '../imap/peer.js';
import { NntpPool } from '../../src/nntp/pool.js';
import { Metrics } from '../../src/app/metrics.js';
import { UpstreamCheck } from '../../src/app/ops.js';
import { testConfig } from '../../src/app/config/load.js';
import { silentLogger } from '../../src/util/log.js';
import { fakeNntpServer, makeArticle, startFakePeer, type FakePeer } from '../nntp/fake-peer.js';

let peer: FakePeer | undefined;
let pool: NntpPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
  await peer?.close();
  peer = undefined;
});

const server = () => fakeNntpServer({ groups: { g: { articles: new Map([[1, makeArticle('<p1@x>', 'one', 'x\r\n')]]) } } });

async function sample(m: Metrics, name: string): Promise<number | undefined> {
  const line = (await m.registry.metrics()).split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe('upstream request hook', () => {
  it('reports each use once, by result: ok, the NNTP error code, after a retry only the final one', async () => {
    peer = await startFakePeer(server());
    const results: string[] = [];
    pool = new NntpPool({ host: '127.0.0.1', port: peer.port, size: 1, onRequest: (r) => results.push(r) });
    await pool.use((c) => c.stat('g', 1));
    await expect(pool.use((c) => c.stat('g', 9))).rejects.toMatchObject({ code: 'NO_SUCH_ARTICLE' });
    await expect(pool.use(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(results).toEqual(['ok', 'NO_SUCH_ARTICLE', 'other']);
  });
});

describe('upstream readiness check', () => {
  it('takes a request served since the last look as up, probes an idle upstream, and fails naming it when it is gone', async () => {
    peer = await startFakePeer(server());
    const m = new Metrics({ defaults: false });
    const url = `nntp://127.0.0.1:${peer.port}`;
    const hook = m.upstreamRequest(url);
    const config = testConfig({ upstreams: [{ url }] }).upstreams[0]!;
    const check = new UpstreamCheck([{ config, seen: hook.seen }], m, silentLogger(), 0);

    hook('ok'); // as if the pool had served a request
    await check.run();
    expect(peer.accepted).toBe(0); // no probe connection needed
    expect(await sample(m, `newsfront_upstream_up{upstream="${url}"}`)).toBe(1);
    expect(await sample(m, `newsfront_upstream_requests_total{upstream="${url}",result="ok"}`)).toBe(1);

    await check.run(); // idle since: probed
    expect(peer.accepted).toBe(1);
    expect(peer.sessions[0]!.received).toContain('DATE');

    await peer.close();
    peer = undefined;
    await expect(check.run()).rejects.toThrow(url);
    expect(await sample(m, `newsfront_upstream_up{upstream="${url}"}`)).toBe(0);
  });

  it('passes with no upstream configured (archive only)', async () => {
    await expect(new UpstreamCheck([], new Metrics({ defaults: false }), silentLogger()).run()).resolves.toBeUndefined();
  });
});

describe('a front-end on an NNTP upstream', () => {
  it('counts its upstream requests by result and is ready while the upstream answers', async () => {
    peer = await startFakePeer(server());
    const dir = mkdtempSync(join(tmpdir(), 'nf-ops-up-'));
    const url = `nntp://127.0.0.1:${peer.port}`;
    const nf = await startNewsfront(
      testConfig({ upstreams: [{ url }], data: dir, listen: { host: '127.0.0.1', port: 0 }, metrics: { listen: { host: '127.0.0.1', port: 0 } } }),
      silentLogger(),
      { defaultMetrics: false },
    );
    try {
      const c = await Peer.open(nf.port);
      expect(await c.cmd('a', 'LOGIN anonymous guest')).toMatch(/^a OK/);
      expect(await c.cmd('b', 'SELECT g')).toMatch(/^b OK/);
      expect(await c.cmd('c', 'FETCH 1 BODY.PEEK[]')).toMatch(/^c OK/);
      c.close();
      const text = await (await fetch(`http://127.0.0.1:${nf.metricsPort}/metrics`)).text();
      const ok = text.split('\n').find((l) => l.startsWith(`newsfront_upstream_requests_total{upstream="${url}",result="ok"} `));
      expect(Number(ok?.split(' ')[1])).toBeGreaterThanOrEqual(3);
      const ready = await fetch(`http://127.0.0.1:${nf.metricsPort}/ready`);
      expect([ready.status, await ready.json()]).toEqual([200, { ready: true, checks: { upstream: 'ok', flagStore: 'ok' } }]);
    } finally {
      await nf.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
