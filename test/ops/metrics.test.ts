/**
 * The operations listener of a real front-end (config `metrics.listen`;
 * src/app/metrics.ts, src/app/ops.ts) on the sample archive: /metrics after a
 * few IMAP commands counts them by name and result with latencies, sessions
 * by state, both caches and the flag store; /health and /ready answer, and
 * /ready turns 503 naming the flag store when the state agent is gone, or
 * when PostgreSQL refuses the flag store's role (and 200 again when it is
 * back); unknown paths and methods are refused.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../harness/stack.js';
import { startAgent } from '../../src/stateagent/agent/server.js';
import { Tokens } from '../../src/stateagent/agent/auth.js';
import { silentLogger } from '../../src/util/log.js';
import { Peer } from '../imap/peer.js';
import { startPostgres } from '../harness/postgres.js';
import { samples } from '../harness/metrics-text.js';

const METRICS = { metrics: { listen: { host: '127.0.0.1', port: 0 } } };

let stack: Stack | undefined;
const peers: Peer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  await stack?.close();
  stack = undefined;
});

async function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
}

async function login(port: number): Promise<Peer> {
  const p = await Peer.open(port);
  peers.push(p);
  expect(await p.cmd('l', 'LOGIN alice secret')).toMatch(/^l OK/);
  return p;
}

describe('/metrics', () => {
  it('counts commands by name and result with latencies, sessions by state, caches and flag-store calls', async () => {
    stack = await startStack({ state: 'local', config: METRICS });
    const nf = stack.nf;
    const port = nf.metricsPort!;
    const before = samples((await get(port, '/metrics')).body);
    expect(before.get('newsfront_imap_sessions{state="selected"}')).toBe(0);

    const p = await login(nf.port);
    expect(await p.cmd('n', 'SELECT no.such.group')).toMatch(/^n NO/);
    const sel = await p.cmd('s', 'SELECT sample.discuss');
    expect(sel).toMatch(/^s OK/);
    const exists = Number(/\* (\d+) EXISTS/.exec(p.text)![1]);
    expect(await p.cmd('f1', 'FETCH 1:* ENVELOPE')).toMatch(/^f1 OK/);
    expect(await p.cmd('f2', 'FETCH 1:* ENVELOPE')).toMatch(/^f2 OK/);
    expect(await p.cmd('b1', 'FETCH 1 BODY.PEEK[]')).toMatch(/^b1 OK/);
    expect(await p.cmd('b2', 'FETCH 1 BODY.PEEK[]')).toMatch(/^b2 OK/);
    expect(await p.cmd('st', 'STORE 1 +FLAGS (\\Flagged)')).toMatch(/^st OK/);
    expect(await p.cmd('x', 'FROBNICATE')).toMatch(/^x BAD/);
    const idle = await login(nf.port); // a second session, left authenticated

    const res = await get(port, '/metrics');
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/plain/);
    const m = samples(res.body);
    expect(m.get('newsfront_imap_commands_total{command="LOGIN",status="OK"}')).toBe(2);
    expect(m.get('newsfront_imap_commands_total{command="SELECT",status="OK"}')).toBe(1);
    expect(m.get('newsfront_imap_commands_total{command="SELECT",status="NO"}')).toBe(1);
    expect(m.get('newsfront_imap_commands_total{command="FETCH",status="OK"}')).toBe(4);
    expect(m.get('newsfront_imap_commands_total{command="STORE",status="OK"}')).toBe(1);
    expect(m.get('newsfront_imap_commands_total{command="unknown",status="BAD"}')).toBe(1);
    expect(m.get('newsfront_imap_command_seconds_count{command="FETCH"}')).toBe(4);
    expect(m.get('newsfront_imap_command_seconds_bucket{le="+Inf",command="FETCH"}')).toBe(4);
    expect(m.get('newsfront_imap_sessions{state="selected"}')).toBe(1);
    expect(m.get('newsfront_imap_sessions{state="auth"}')).toBe(1);
    // the second ENVELOPE listing came from the cache, every message of it
    expect(m.get('newsfront_envelope_cache_misses_total')).toBe(exists);
    expect(m.get('newsfront_envelope_cache_hits_total')).toBe(exists);
    expect(m.get('newsfront_envelope_cache_bytes')).toBeGreaterThan(0);
    // one download; the second body read joined it or read the cached file
    expect(m.get('newsfront_article_cache_fetches_total')).toBe(1);
    expect(m.get('newsfront_article_cache_hits_total')).toBe(1);
    expect(m.get('newsfront_article_cache_files')).toBeGreaterThanOrEqual(1);
    // flags went through the instrumented store: STORE is one update, no errors
    expect(m.get('newsfront_flagstore_seconds_count{op="update"}')).toBe(1);
    expect([...m.keys()].filter((k) => k.startsWith('newsfront_flagstore_errors_total{'))).toEqual([]);
    expect(m.has('process_resident_memory_bytes')).toBe(true);
    idle.close();
  });
});

describe('/health and /ready', () => {
  it('answers liveness, and readiness with each check; refuses other paths and methods', async () => {
    stack = await startStack({ state: 'local', config: METRICS });
    const port = stack.nf.metricsPort!;
    expect(await get(port, '/health')).toMatchObject({ status: 200, body: 'ok\n' });
    const ready = await get(port, '/ready');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ ready: true, checks: { upstream: 'ok', flagStore: 'ok' } });
    expect((await get(port, '/nope')).status).toBe(404);
    expect((await get(port, '/metrics', 'POST')).status).toBe(405);
  });

  it('turns /ready to 503 naming the flag store while the state agent is down, and back', async () => {
    stack = await startStack({ state: 'agent', config: METRICS });
    const port = stack.nf.metricsPort!;
    expect((await get(port, '/ready')).status).toBe(200);
    const agentPort = stack.agent.port;
    await stack.agent.close();

    const down = await get(port, '/ready');
    expect(down.status).toBe(503);
    const body = JSON.parse(down.body) as { ready: boolean; checks: Record<string, string> };
    expect(body.ready).toBe(false);
    expect(body.checks.upstream).toBe('ok');
    expect(body.checks.flagStore).toMatch(/^UNAVAILABLE: /);
    expect((await get(port, '/health')).status).toBe(200);
    // a client's STORE fails too, and the failure is counted
    const p = await login(stack.nf.port);
    expect(await p.cmd('s', 'SELECT sample.discuss')).toMatch(/^s (OK|NO)/);
    const m = samples((await get(port, '/metrics')).body);
    expect([...m.entries()].some(([k, v]) => k.startsWith('newsfront_flagstore_errors_total{') && k.includes('code="UNAVAILABLE"') && v > 0)).toBe(true);

    // the agent back on its port, with its data: ready again
    const tokens = Tokens.parse('stack-frontend-token-0123456789 frontend stack\n');
    const again = await startAgent({ host: '127.0.0.1', port: agentPort, dataDir: `${stack.dir}/agent`, tokens, logger: silentLogger() });
    try {
      expect((await get(port, '/ready')).status).toBe(200);
    } finally {
      await again.close();
    }
  });

  it('turns /ready to 503 while PostgreSQL refuses the flag store, and back', async () => {
    const pg = await startPostgres({ durable: false });
    try {
      stack = await startStack({ state: 'local', config: { ...METRICS, state: pg.url } });
      const port = stack.nf.metricsPort!;
      expect((await get(port, '/ready')).status).toBe(200);
      await pg.admin(`ALTER ROLE ${pg.user} NOLOGIN`);
      await pg.admin('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [pg.user]);
      const down = await get(port, '/ready');
      expect(down.status).toBe(503);
      expect((JSON.parse(down.body) as { checks: Record<string, string> }).checks).toMatchObject({ upstream: 'ok', flagStore: expect.stringMatching(/^UNAVAILABLE: /) });
      await pg.admin(`ALTER ROLE ${pg.user} LOGIN`);
      const deadline = Date.now() + 20_000;
      let status = 0;
      while ((status = (await get(port, '/ready')).status) !== 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(status).toBe(200);
    } finally {
      await stack?.close();
      stack = undefined;
      await pg.stop();
    }
  });
});
