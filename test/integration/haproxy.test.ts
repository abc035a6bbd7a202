/**
 * Two front-ends behind a real HAProxy (Debian `haproxy`, installed through
 * test/harness/apt.ts when missing), as docs/deploy.md sets them up: mode tcp,
 * `balance roundrobin`, `send-proxy-v2` to each server, health checks (which
 * HAProxy sends as PROXY v2 LOCAL). HAProxy runs as a child with a generated
 * config on free loopback ports and is stopped by PID (test/harness/haproxy.ts).
 *
 * Every connection reaches the front-ends from 127.0.0.1 (HAProxy), so only
 * the PROXY header can tell them the client: clients connect from 127.0.0.2
 * and 127.0.0.3, each front-end admits one connection per address, and
 *   - of three connections from 127.0.0.2 two are served (one per front-end)
 *     and the third is refused "from your address";
 *   - a fourth, from 127.0.0.3, is served, which it would not be if the
 *     front-ends counted HAProxy's address;
 *   - the front-ends log each client with its own address, via 127.0.0.1;
 *   - health checks keep both servers up (the LOCAL header is accepted).
 * A second frontend uses the backend docs/deploy.md recommends: `balance
 * source` (a client stays on one front-end: its second connection from one
 * address meets that front-end's cap) and HTTP checks of each front-end's
 * /ready; HAProxy's runtime API (`show stat`) must show every server UP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { HAPROXY_INSTALL_TIMEOUT_MS, startHaproxy, type Haproxy } from '../harness/haproxy.js';
import { startNewsfront, type RunningNewsfront } from '../../src/app/start.js';
import { testConfig } from '../../src/app/config/load.js';
import { Peer } from '../imap/peer.js';

interface Frontend {
  nf: RunningNewsfront;
  /** Its log, one parsed JSON object per line. */
  log: Array<Record<string, unknown>>;
}

let dir: string;
let lb: Haproxy | undefined;
const fronts: Frontend[] = [];
const peers: Peer[] = [];

async function startFrontend(name: string): Promise<Frontend> {
  const log: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void log.push(JSON.parse(line) as Record<string, unknown>) });
  const config = testConfig({
    data: join(dir, name),
    listen: { host: '127.0.0.1', port: 0 },
    proxy: { trusted: ['127.0.0.1'] },
    limits: { maxConnectionsPerAddress: 1, exemptAddresses: [] },
    metrics: { listen: { host: '127.0.0.1', port: 0 } },
  });
  const nf = await startNewsfront(config, logger, { defaultMetrics: false });
  return { nf, log };
}

/** The value of one sample line of a front-end's /metrics, 0 when absent. */
async function metric(f: Frontend, sample: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${f.nf.metricsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}

async function waitFor(what: string, pred: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timeout waiting for ${what}; haproxy said:\n${lb?.output ?? ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nf-haproxy-'));
  fronts.push(await startFrontend('fe1'), await startFrontend('fe2'));
  const servers = fronts.map((f, i) => ({ name: `fe${i + 1}`, port: f.nf.port, checkPort: f.nf.metricsPort }));
  lb = await startHaproxy(dir, [
    // roundrobin with checks of the IMAP port itself (sent as PROXY v2 LOCAL)
    { name: 'newsfront', servers, check: { kind: 'imap' } },
    // the backend docs/deploy.md recommends: balance source, /ready checks
    { name: 'newsfront-ready', balance: 'source', servers, check: { kind: 'http-ready' } },
  ]);
  // both servers health-checked through a LOCAL header, so both are up before clients come
  await waitFor('health checks on both front-ends', async () => {
    for (const f of fronts) if ((await metric(f, 'newsfront_proxy_headers_total{outcome="local"}')) < 2) return false;
    return true;
  });
}, HAPROXY_INSTALL_TIMEOUT_MS);

afterAll(async () => {
  for (const p of peers) p.close();
  await lb?.stop();
  for (const f of fronts) await f.nf.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** HAProxy's own view: `backend/server` → `status check_status`. */
async function haproxyServers(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [k, v] of await lb!.servers()) out.set(k, `${v.status} ${v.check}`);
  return out;
}

async function viaHaproxy(from: string, port = lb!.port('newsfront')): Promise<Peer> {
  const p = await Peer.open(port, from);
  peers.push(p);
  return p;
}

describe('newsfront behind HAProxy (send-proxy-v2, roundrobin)', () => {
  it('sees every client by its own address: per-address caps and logs', async () => {
    const first = await Promise.all([0, 1, 2].map(async () => (await viaHaproxy('127.0.0.2')).firstLine));
    // sequential would be clearer, but order across the two servers is HAProxy's: count instead
    expect(first.filter((l) => l.startsWith('* OK ')).length).toBe(2);
    expect(first.filter((l) => /^\* BYE \[UNAVAILABLE\] Too many connections from your address/.test(l)).length).toBe(1);
    const other = await viaHaproxy('127.0.0.3');
    expect(other.firstLine).toMatch(/^\* OK /);
    expect(await other.cmd('a', 'LOGIN demo demo')).toMatch(/^a OK/);
    expect(await other.cmd('b', 'SELECT sample.discuss')).toMatch(/^b OK/);

    // one served 127.0.0.2 connection on each front-end, and 127.0.0.3 on one of them
    const seen = fronts.map((f) => f.log.filter((l) => l.msg === 'connection' && l.remote !== '127.0.0.1').map((l) => `${String(l.remote)} via ${String(l.via)}`));
    expect(seen.map((s) => s.filter((x) => x === '127.0.0.2 via 127.0.0.1').length)).toEqual([1, 1]);
    expect(seen.flat().filter((x) => x === '127.0.0.3 via 127.0.0.1')).toHaveLength(1);
    expect(seen.flat().every((x) => x.endsWith(' via 127.0.0.1')), JSON.stringify(seen)).toBe(true); // the message names a stray connection
    // HAProxy kept both servers in rotation: no header was ever refused
    for (const f of fronts) expect(await metric(f, 'newsfront_proxy_headers_total{outcome="invalid"}')).toBe(0);
  });

  it('works with the documented backend: /ready checks keep both servers up, balance source keeps a client on one', async () => {
    await waitFor('/ready checks passing', async () => [...(await haproxyServers()).values()].every((v) => v === 'UP L7OK'));
    expect(await haproxyServers()).toEqual(
      new Map([
        ['newsfront/fe1', 'UP L7OK'], ['newsfront/fe2', 'UP L7OK'],
        ['newsfront-ready/fe1', 'UP L7OK'], ['newsfront-ready/fe2', 'UP L7OK'],
      ]),
    );
    // one address always lands on the same front-end: its second connection meets the cap there
    const a = await viaHaproxy('127.0.0.4', lb!.port('newsfront-ready'));
    expect(a.firstLine).toMatch(/^\* OK /);
    expect((await viaHaproxy('127.0.0.4', lb!.port('newsfront-ready'))).firstLine).toMatch(/^\* BYE \[UNAVAILABLE\] Too many connections from your address/);
    expect((await viaHaproxy('127.0.0.5', lb!.port('newsfront-ready'))).firstLine).toMatch(/^\* OK /);
  });
});
