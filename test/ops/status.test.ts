/**
 * The operator's view of the search index on a real front-end (the sample
 * archive, index on): GET /status on the operations listener tells per group
 * the articles with headers and bodies indexed of the total and what the
 * crawl does (waiting for index.crawlDelayMs, then idle once every body is
 * in), the index's bytes on disk and per article; /metrics has the same as
 * gauges; `newsfront status` prints it from the server, and from the index
 * file when no server answers (exit 1 when there is neither).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, type Stack } from '../harness/stack.js';
import { Peer } from '../imap/peer.js';
import type { ServerStatus } from '../../src/app/ops.js';
import { runCli } from '../harness/cli-run.js';
import { samples } from '../harness/metrics-text.js';

const GROUP = 'sample.discuss';

let stack: Stack | undefined;
let empty: string | undefined;
const peers: Peer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  await stack?.close();
  stack = undefined;
  if (empty) await rm(empty, { recursive: true, force: true });
  empty = undefined;
});

async function status(port: number): Promise<ServerStatus> {
  const r = await fetch(`http://127.0.0.1:${port}/status`);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toBe('application/json');
  return (await r.json()) as ServerStatus;
}

/** Polls /status until `done` holds of the group (the crawl runs in the background). */
async function until(port: number, done: (g: NonNullable<ServerStatus['index']>['groups'][number]) => boolean): Promise<ServerStatus> {
  const end = Date.now() + 60_000;
  for (;;) {
    const s = await status(port);
    const g = s.index?.groups.find((x) => x.group === GROUP);
    if (g !== undefined && done(g)) return s;
    if (Date.now() > end) throw new Error(`status never got there: ${JSON.stringify(g)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function select(port: number): Promise<number> {
  const p = await Peer.open(port);
  peers.push(p);
  expect(await p.cmd('l', 'LOGIN alice secret')).toMatch(/^l OK/);
  expect(await p.cmd('s', `EXAMINE ${GROUP}`)).toMatch(/^s OK/);
  return Number(/\* (\d+) EXISTS/.exec(p.text)![1]);
}

describe('index status', () => {
  it('/status, the gauges and `newsfront status` follow the crawl to the end, then the file alone is read', async () => {
    stack = await startStack({ config: { metrics: { listen: { host: '127.0.0.1', port: 0 } }, index: { crawlDelayMs: 0 } } });
    const mport = stack.nf.metricsPort!;
    const exists = await select(stack.nf.port);
    expect(exists).toBeGreaterThan(100);

    const s = await until(mport, (g) => g.total !== null && g.bodies >= g.total && g.crawl?.state === 'idle');
    expect(s.pid).toBe(process.pid);
    expect(s.startedAt).toBeLessThanOrEqual(Date.now());
    const ix = s.index!;
    const dataDir = join(stack.dir, 'data');
    expect(ix.path).toBe(join(dataDir, 'search.db'));
    expect(ix.bytes).toBeGreaterThanOrEqual(statSync(ix.path).size);
    expect(ix.documents).toBeGreaterThanOrEqual(exists);
    expect(ix.bytesPerArticle).toBe(Math.round(ix.bytes / ix.documents));
    const g = ix.groups.find((x) => x.group === GROUP)!;
    expect(g).toMatchObject({ total: exists, headers: exists, bodies: exists, policy: 'all' });
    expect(g.crawl).toMatchObject({ state: 'idle', rate: 0, etaS: 0 });
    expect(g.crawl!.articles).toBeGreaterThan(0);

    const m = samples(await (await fetch(`http://127.0.0.1:${mport}/metrics`)).text());
    for (const part of ['total', 'headers', 'bodies']) expect(m.get(`newsfront_index_articles{group="${GROUP}",part="${part}"}`), part).toBe(exists);
    expect(m.get(`newsfront_index_crawling{group="${GROUP}"}`)).toBe(0);
    expect(m.get('newsfront_index_bytes')).toBeGreaterThan(0);
    expect(m.get('newsfront_index_documents')).toBe(ix.documents);

    const human = await runCli(['status', '--url', `http://127.0.0.1:${mport}`]);
    expect(human.code).toBe(0);
    expect(human.out).toMatch(new RegExp(`^server: pid ${process.pid}, up `, 'm'));
    expect(human.out).toMatch(/^index: {2}.*search\.db, [\d.]+ MB on disk, [\d,]+ B per article/m);
    expect(human.out).toMatch(new RegExp(`^${GROUP.replace('.', '\\.')} +${exists} of ${exists} +${exists} of ${exists} +idle$`, 'm'));
    const json = await runCli(['status', '--url', `http://127.0.0.1:${mport}/status`, '--json']);
    expect(json.code).toBe(0);
    expect((JSON.parse(json.out) as ServerStatus).index!.groups.find((x) => x.group === GROUP)).toMatchObject({ total: exists, bodies: exists });

    // no server: the index file tells what is indexed, not the total or the crawl
    await stack.stopFrontend();
    const off = await runCli(['status', '--data', dataDir, '--json']);
    expect(off.code, off.err).toBe(0);
    const fromFile = JSON.parse(off.out) as { pid: null; index: NonNullable<ServerStatus['index']> };
    expect(fromFile.pid).toBeNull();
    expect(fromFile.index.groups.find((x) => x.group === GROUP)).toMatchObject({ total: null, headers: exists, bodies: exists, crawl: null });
    const offHuman = await runCli(['status', '--data', dataDir, '--url', `http://127.0.0.1:${mport}`]);
    expect(offHuman.code).toBe(0);
    expect(offHuman.out).toMatch(/^server: no server answered at .*; from the index file$/m);
    expect(offHuman.out).toMatch(new RegExp(`^${GROUP.replace('.', '\\.')} +${exists} +${exists} of ${exists} +not running$`, 'm'));

    empty = await mkdtemp(join(tmpdir(), 'nf-status-empty-'));
    const none = await runCli(['status', '--data', empty]);
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/no operations listener configured.*no search index at/);
  }, 120_000);

  it('says the crawl waits for index.crawlDelayMs, and when it will start', async () => {
    stack = await startStack({ config: { metrics: { listen: { host: '127.0.0.1', port: 0 } }, index: { crawlDelayMs: 3_600_000 } } });
    const mport = stack.nf.metricsPort!;
    const before = Date.now();
    const exists = await select(stack.nf.port);
    const s = await until(mport, (g) => g.headers >= exists && g.crawl?.state === 'waiting');
    const g = s.index!.groups.find((x) => x.group === GROUP)!;
    expect(g.bodies).toBeLessThan(exists);
    expect(g.crawl!.articles).toBe(0);
    expect(g.crawl!.resumesAt).toBeGreaterThanOrEqual(before + 3_600_000);
    const human = await runCli(['status', '--url', `http://127.0.0.1:${mport}`]);
    expect(human.out).toMatch(new RegExp(`^${GROUP.replace('.', '\\.')} +${exists} of ${exists} +\\d+ of ${exists} \\d+% +waiting +starts in (59 min|1 h)`, 'm'));
  }, 60_000);
});
