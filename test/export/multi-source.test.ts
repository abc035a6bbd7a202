/**
 * MultiSource with two in-memory fake upstreams: union of groups, primary by
 * config order, failover on UNAVAILABLE only, and no number mixing.
 */
import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { MultiSource } from '../../src/export/sources.js';
import { SourceError, type GroupInfo, type OverviewRecord, type Source } from '../../src/export/source.js';
import { silentLogger } from '../../src/util/log.js';

/** An upstream in memory: group → message-ids by article number (index + base). */
class FakeUpstream implements Source {
  down = false;
  calls = 0;
  closed = false;
  constructor(
    readonly id: string,
    private readonly groups: Record<string, { base: number; ids: string[] }>,
  ) {}
  private check(group?: string): { base: number; ids: string[] } {
    this.calls++;
    if (this.down) throw new SourceError('UNAVAILABLE', `${this.id} down`);
    if (group === undefined) return { base: 0, ids: [] };
    const g = this.groups[group];
    if (!g) throw new SourceError('NO_SUCH_GROUP', group);
    return g;
  }
  private info(name: string): GroupInfo {
    const g = this.groups[name]!;
    return { name, count: g.ids.length, low: g.base, high: g.base + g.ids.length - 1 };
  }
  async listGroups(): Promise<GroupInfo[]> {
    this.check();
    return Object.keys(this.groups).map((n) => this.info(n));
  }
  async groupInfo(group: string): Promise<GroupInfo> {
    this.check(group);
    return this.info(group);
  }
  async articleNumbers(group: string, low: number, high: number): Promise<number[]> {
    const g = this.check(group);
    return g.ids.map((_, i) => i + g.base).filter((n) => n >= low && n <= high);
  }
  async *overview(group: string, low: number, high: number): AsyncIterable<OverviewRecord> {
    const g = this.check(group);
    for (const [i, id] of g.ids.entries()) {
      const n = i + g.base;
      if (n >= low && n <= high) yield { number: n, subject: this.id, from: '', date: '', messageId: id, references: '', bytes: 1, lines: 1 };
    }
  }
  async article(group: string, number: number): Promise<Readable> {
    const g = this.check(group);
    const id = g.ids[number - g.base];
    if (id === undefined) throw new SourceError('NO_SUCH_ARTICLE', `${group}:${number}`);
    return Readable.from([Buffer.from(`${this.id} ${id}`)]);
  }
  async head(group: string, number: number): Promise<Buffer> {
    const g = this.check(group);
    return Buffer.from(`Message-ID: ${g.ids[number - g.base]}\r\n\r\n`);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

async function text(r: Readable): Promise<string> {
  let s = '';
  for await (const c of r) s += String(c);
  return s;
}

function setup() {
  const a = new FakeUpstream('nntp://a:119', { 'g.both': { base: 1, ids: ['<1@x>', '<2@x>'] }, 'g.a': { base: 1, ids: ['<a@x>'] } });
  const b = new FakeUpstream('nntp://b:119', { 'g.both': { base: 100, ids: ['<1@x>', '<2@x>', '<3@x>'] }, 'g.b': { base: 5, ids: ['<b@x>'] } });
  const switches: string[] = [];
  const m = new MultiSource([a, b], { logger: silentLogger(), onFailover: (g, f, t) => switches.push(`${g}:${f}->${t}`) });
  return { a, b, m, switches };
}

/** Counts the listings a source is asked for. */
class CountingUpstream extends FakeUpstream {
  lists = 0;
  override async listGroups(): Promise<GroupInfo[]> {
    this.lists++;
    return super.listGroups();
  }
}

describe('MultiSource warm (start-up listing)', () => {
  it('a first request after warm() lists nothing again; one made while warm() lists waits for that listing', async () => {
    const a = new CountingUpstream('nntp://a:119', { 'g.a': { base: 1, ids: ['<a@x>'] } });
    const m = new MultiSource([a], { logger: silentLogger() });
    const warming = m.warm();
    expect(await m.groupInfo('g.a')).toMatchObject({ name: 'g.a', count: 1 });
    await warming;
    expect(a.lists).toBe(1);
    expect(m.primaryOf('g.a')).toBe('nntp://a:119');
  });

  it('a group the start-up listing lacked is listed again at its first request (not after RELIST_UNKNOWN_MS)', async () => {
    const groups: Record<string, { base: number; ids: string[] }> = { 'g.a': { base: 1, ids: ['<a@x>'] } };
    const a = new CountingUpstream('nntp://a:119', groups);
    const m = new MultiSource([a], { logger: silentLogger() });
    await m.warm();
    groups['g.new'] = { base: 1, ids: ['<n@x>'] };
    expect(await m.groupInfo('g.new')).toMatchObject({ name: 'g.new' });
    expect(a.lists).toBe(2);
    // after that ordinary listing, an unknown name waits for RELIST_UNKNOWN_MS as before
    await expect(m.groupInfo('g.none')).rejects.toMatchObject({ code: 'NO_SUCH_GROUP' });
    expect(a.lists).toBe(2);
  });

  it('warm() resolves when no source can list, and warms each source that can warm', async () => {
    const a = new CountingUpstream('nntp://a:119', {});
    a.down = true;
    let warmed = 0;
    const b = Object.assign(new CountingUpstream('nntp://b:119', {}), { warm: async () => void warmed++ });
    b.down = true;
    const m = new MultiSource([a, b], { logger: silentLogger() });
    await expect(m.warm()).resolves.toBeUndefined();
    expect(warmed).toBe(1);
  });
});

describe('MultiSource', () => {
  it('lists the union and names the first carrier in config order as primary', async () => {
    const { m } = setup();
    const groups = await m.listGroups();
    expect(groups.map((g) => g.name).sort()).toEqual(['g.a', 'g.b', 'g.both']);
    expect(groups.find((g) => g.name === 'g.both')!.high).toBe(2); // info from the primary
    expect(m.primaryOf('g.both')).toBe('nntp://a:119');
    expect(m.primaryOf('g.b')).toBe('nntp://b:119');
    expect(m.primaryOf('nope')).toBeUndefined();
    expect(m.carriersOf('g.both').map((s) => s.id)).toEqual(['nntp://a:119', 'nntp://b:119']);
  });

  it('serves a group from its primary while it is up', async () => {
    const { m, b } = setup();
    await m.listGroups();
    const before = b.calls;
    expect(await text(await m.article('g.both', 2))).toBe('nntp://a:119 <2@x>');
    expect(b.calls).toBe(before);
    expect(await m.withFailover('g.both', async (s, primary) => [s.id, primary])).toEqual(['nntp://a:119', true]);
  });

  it('fails over to the next carrier when the primary is down, and reports it', async () => {
    const { m, a, switches } = setup();
    await m.listGroups();
    a.down = true;
    const [id, primary, info] = await m.withFailover('g.both', async (s, p) => [s.id, p, await s.groupInfo('g.both')] as const);
    expect([id, primary, info.low]).toEqual(['nntp://b:119', false, 100]);
    expect(switches).toEqual(['g.both:nntp://a:119->nntp://b:119']);
    expect(m.servingOf('g.both')).toBe('nntp://b:119');
    // The primary stays the primary while it is down (it keeps its listing).
    await m.listGroups();
    expect(m.primaryOf('g.both')).toBe('nntp://a:119');
    // Sticky: when a comes back, b keeps serving (numbers stay b's) until it fails.
    a.down = false;
    expect(await text(await m.article('g.both', 101))).toBe('nntp://b:119 <2@x>');
  });

  it('does not fail over on other errors', async () => {
    const { m, b } = setup();
    await m.listGroups();
    const before = b.calls;
    await expect(m.article('g.both', 77)).rejects.toMatchObject({ code: 'NO_SUCH_ARTICLE' });
    expect(b.calls).toBe(before);
    await expect(m.groupInfo('no.such')).rejects.toMatchObject({ code: 'NO_SUCH_GROUP' });
  });

  it('throws UNAVAILABLE when every carrier is down', async () => {
    const { m, a, b } = setup();
    await m.listGroups();
    a.down = true;
    b.down = true;
    const err = await m.groupInfo('g.both').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).code).toBe('UNAVAILABLE');
    expect((err as SourceError).cause).toBeInstanceOf(SourceError);
  });

  it('overview fails over before the first record and never mixes numbers', async () => {
    const { m, a } = setup();
    await m.listGroups();
    a.down = true;
    const recs = [];
    for await (const r of m.overview('g.both', 1, 1000)) recs.push([r.number, r.subject]);
    expect(recs).toEqual([
      [100, 'nntp://b:119'],
      [101, 'nntp://b:119'],
      [102, 'nntp://b:119'],
    ]);
  });

  it('overviewBatches fails over before the first batch and groups a one-record-at-a-time source', async () => {
    const { m, a } = setup();
    await m.listGroups();
    a.down = true;
    const batches: [number, string][][] = [];
    for await (const rs of m.overviewBatches('g.both', 101, 1000)) batches.push(rs.map((r) => [r.number, r.subject]));
    expect(batches).toEqual([[[101, 'nntp://b:119'], [102, 'nntp://b:119']]]);
    a.down = false;
    const none = [];
    for await (const rs of m.overviewBatches('g.both', 5000, 6000)) none.push(rs);
    expect(none).toEqual([]);
  });

  it('lists groups of the sources that answer when one is down from the start', async () => {
    const { m, a, b } = setup();
    a.down = true;
    expect((await m.listGroups()).map((g) => g.name).sort()).toEqual(['g.b', 'g.both']);
    expect(m.primaryOf('g.both')).toBe('nntp://b:119');
    b.down = true;
    await expect(new MultiSource([a], { logger: silentLogger() }).listGroups()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('closes every source', async () => {
    const { m, a, b } = setup();
    await m.close();
    expect([a.closed, b.closed]).toEqual([true, true]);
  });
});
