/**
 * NntpSource over a fake pool (a named in-memory stand-in for NntpPool):
 * NntpError → SourceError mapping with cause, OVER batching, HEAD gets its
 * empty line, mid-stream errors are mapped, ids never carry passwords.
 */
import { describe, expect, it } from 'vitest';
import { PassThrough, Readable } from 'node:stream';
import { NntpSource, OVERVIEW_AHEAD, OVERVIEW_BATCH, toSourceError, type ClientPool, type SourceClient } from '../../src/export/nntp-source.js';
import { NntpError, type NntpErrorCode } from '../../src/nntp/errors.js';
import { SourceError } from '../../src/export/source.js';
import type { OverRecord } from '../../src/nntp/client.js';
import type { UseMode } from '../../src/nntp/pool.js';
import { silentLogger } from '../../src/util/log.js';

/** A pool whose one client answers from fixed data, or fails with a given NntpError code. */
class FakeNntpPool implements ClientPool {
  failWith: NntpErrorCode | undefined;
  overCalls: [number, number][] = [];
  newsgroupsCalls = 0;
  closed = false;
  headBytes = Buffer.from('Subject: s\r\nMessage-ID: <1@x>\r\n');
  articleStream: Readable = Readable.from([Buffer.from('a\r\n')]);
  /** How each use was placed (NntpPool `use` mode). */
  modes: (UseMode | undefined)[] = [];
  constructor(private readonly high: number) {}
  async use<T>(fn: (c: SourceClient) => Promise<T>, mode?: UseMode): Promise<T> {
    this.modes.push(mode);
    if (this.failWith) throw new NntpError(this.failWith, `fake ${this.failWith}`);
    const self = this;
    const client = {
      async group(name: string) {
        return { name, count: self.high, low: 1, high: self.high };
      },
      async listGroup(_n: string, r?: [number, number]) {
        return Array.from({ length: self.high }, (_, i) => i + 1).filter((n) => !r || (n >= r[0] && n <= r[1]));
      },
      async listActive() {
        return [{ name: 'g.one', high: self.high, low: 1, status: 'y' }, { name: 'g.empty', high: 0, low: 1, status: 'm' }];
      },
      async listNewsgroups() {
        self.newsgroupsCalls++;
        return new Map([['g.one', 'The first group']]);
      },
      async overRecords(_g: string, r: [number, number]): Promise<OverRecord[]> {
        self.overCalls.push(r);
        const out: OverRecord[] = [];
        for (let n = r[0]; n <= Math.min(r[1], self.high); n++) {
          out.push({ number: n, subject: 's', from: 'f', date: 'd', messageId: `<${n}@x>`, references: '', bytes: 10, lines: 1 });
        }
        return out;
      },
      async article(_g: string, n: number) {
        return { number: n, messageId: '<1@x>', stream: self.articleStream };
      },
      async *hdr(_g: string, _f: string, r: [number, number]) {
        for (let n = r[0]; n <= Math.min(r[1], self.high); n++) yield { number: n, value: Buffer.from(`<p${n}@x>`) };
      },
      async head(_g: string, n: number) {
        return { number: n, messageId: '<1@x>', head: self.headBytes };
      },
      // by number the fake answers <1@x> for every n; by Message-ID it answers that ID
      async articleInto(_g: string | undefined, ref: number | string, sink: (c: Buffer) => void, accept: (id: string) => boolean) {
        const messageId = typeof ref === 'string' ? ref : '<1@x>';
        const accepted = accept(messageId);
        if (self.failWith) throw new NntpError(self.failWith, 'fake');
        if (accepted) for (const c of [`Message-ID: ${messageId}\r\n`, '\r\nbody\r\n']) sink(Buffer.from(c));
        return { number: typeof ref === 'number' ? ref : 0, messageId, accepted };
      },
    };
    return fn(client as unknown as SourceClient);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

const upstream = { url: 'nntp://reader:s3cret@news.example:1119', poolSize: 2, pipelineWindow: 10, starttls: false };

/** A fake pool that can warm and answers LIST OVERVIEW.FMT, counting both. */
class WarmingPool extends FakeNntpPool {
  warmed: number[] = [];
  fmtCalls = 0;
  async warm(n: number): Promise<void> {
    this.warmed.push(n);
  }
  override use<T>(fn: (c: SourceClient) => Promise<T>, mode?: UseMode): Promise<T> {
    return super.use((c) => {
      const client = Object.create(c as object) as SourceClient;
      client.listOverviewFmt = async () => (this.fmtCalls++, ['Subject:', 'From:']);
      return fn(client);
    }, mode);
  }
}

describe('NntpSource warm', () => {
  it('opens the OVER connections and reads LIST OVERVIEW.FMT once: the first overview asks it no more', async () => {
    const pool = new WarmingPool(3);
    const s = new NntpSource({ upstream, logger: silentLogger(), pool });
    await s.warm();
    expect(pool.warmed).toEqual([OVERVIEW_AHEAD]);
    expect(pool.fmtCalls).toBe(1);
    const got: number[] = [];
    for await (const r of s.overview('g.one', 1, 3)) got.push(r.number);
    expect(got).toEqual([1, 2, 3]);
    expect(pool.fmtCalls).toBe(1);
  });
});

describe('NntpSource', () => {
  it('has an id without the password', () => {
    const s = new NntpSource({ upstream, logger: silentLogger(), pool: new FakeNntpPool(1) });
    expect(s.id).toBe('nntp://reader@news.example:1119');
  });

  it('lists groups with descriptions, status and count estimates', async () => {
    const s = new NntpSource({ upstream, logger: silentLogger(), pool: new FakeNntpPool(5) });
    expect(await s.listGroups()).toEqual([
      { name: 'g.one', count: 5, low: 1, high: 5, status: 'y', description: 'The first group' },
      { name: 'g.empty', count: 0, low: 1, high: 0, status: 'm' },
    ]);
  });

  it('fetches group descriptions once per DESCRIPTIONS_TTL_MS, not on every listing', async () => {
    const pool = new FakeNntpPool(1);
    const s = new NntpSource({ upstream, logger: silentLogger(), pool });
    await s.listGroups();
    const again = await s.listGroups();
    expect(pool.newsgroupsCalls).toBe(1);
    expect(again[0]!.description).toBe('The first group');
  });

  it('reads overview in batches of OVERVIEW_BATCH, ascending', async () => {
    const pool = new FakeNntpPool(OVERVIEW_BATCH * 2 + 5);
    const s = new NntpSource({ upstream, logger: silentLogger(), pool });
    const nums: number[] = [];
    for await (const r of s.overview('g.one', 1, OVERVIEW_BATCH * 2 + 5)) nums.push(r.number);
    expect(nums.length).toBe(OVERVIEW_BATCH * 2 + 5);
    expect(nums.every((n, i) => n === i + 1)).toBe(true);
    expect(pool.overCalls).toEqual([
      [1, OVERVIEW_BATCH],
      [OVERVIEW_BATCH + 1, OVERVIEW_BATCH * 2],
      [OVERVIEW_BATCH * 2 + 1, OVERVIEW_BATCH * 2 + 5],
    ]);
  });

  it('adds the empty line HEAD does not send', async () => {
    const pool = new FakeNntpPool(1);
    const s = new NntpSource({ upstream, logger: silentLogger(), pool });
    expect((await s.head('g.one', 1)).toString()).toBe('Subject: s\r\nMessage-ID: <1@x>\r\n\r\n');
    pool.headBytes = Buffer.from('A: b\r\n\r\n');
    expect((await s.head('g.one', 1)).toString()).toBe('A: b\r\n\r\n');
  });

  it.each([
    ['NO_SUCH_GROUP', 'NO_SUCH_GROUP'],
    ['NO_SUCH_ARTICLE', 'NO_SUCH_ARTICLE'],
    ['AUTH_REQUIRED', 'AUTH_REQUIRED'],
    ['AUTH_FAILED', 'AUTH_REQUIRED'],
    ['UNAVAILABLE', 'UNAVAILABLE'],
    ['CLOSED', 'UNAVAILABLE'],
    ['TIMEOUT', 'UNAVAILABLE'],
    ['TLS', 'UNAVAILABLE'],
    ['PROTOCOL', 'PROTOCOL'],
    ['UNEXPECTED_STATUS', 'PROTOCOL'],
  ] as const)('maps NntpError %s to SourceError %s with the cause', async (nntp, source) => {
    const pool = new FakeNntpPool(1);
    pool.failWith = nntp;
    const s = new NntpSource({ upstream, logger: silentLogger(), pool });
    const err = await s.groupInfo('g.one').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).code).toBe(source);
    expect(((err as SourceError).cause as NntpError).code).toBe(nntp);
    expect((err as Error).message).not.toContain('s3cret');
  });

  it('maps an error in the middle of an article stream', async () => {
    const pool = new FakeNntpPool(1);
    const inner = new PassThrough();
    pool.articleStream = inner;
    const s = new NntpSource({ upstream, logger: silentLogger(), pool });
    const out = await s.article('g.one', 1);
    const got: Buffer[] = [];
    const done = new Promise<unknown>((res) => {
      out.on('data', (c: Buffer) => got.push(c));
      out.on('error', res);
    });
    inner.write('partial');
    setImmediate(() => inner.destroy(new NntpError('CLOSED', 'peer went away')));
    const err = await done;
    expect(Buffer.concat(got).toString()).toBe('partial');
    expect((err as SourceError).code).toBe('UNAVAILABLE');
  });

  it('articleInto: checks the Message-ID, falls back to it, and the sink starts over', async () => {
    const pool = new FakeNntpPool(3);
    const s = new NntpSource({ upstream, logger: silentLogger(), pool });
    const got: string[] = [];
    let begins = 0;
    const sink = { begin: () => void (begins++, (got.length = 0)), data: (c: Buffer) => void got.push(c.toString()) };
    await s.articleInto('g.one', 1, '<1@x>', sink);
    expect(got.join('')).toBe('Message-ID: <1@x>\r\n\r\nbody\r\n');
    await s.articleInto('g.one', 2, '<2@x>', sink); // number 2 names <1@x> upstream: fetched by ID
    expect(got.join('')).toBe('Message-ID: <2@x>\r\n\r\nbody\r\n');
    expect(begins).toBe(2);
  });

  it('closes its pool', async () => {
    const pool = new FakeNntpPool(1);
    await new NntpSource({ upstream, logger: silentLogger(), pool }).close();
    expect(pool.closed).toBe(true);
    expect(toSourceError(new Error('x'), 'w').code).toBe('UNAVAILABLE');
  });

  it('reads header values as background uses of the pool (client reads never queue behind them), articles as bulk uses when asked', async () => {
    const pool = new FakeNntpPool(5);
    const s = new NntpSource({ upstream, logger: silentLogger(), pool });
    const got: string[] = [];
    for await (const v of s.headerValues!('g.one', 'In-Reply-To', 2, 4)) got.push(`${v.number} ${v.value.toString()}`);
    expect(got).toEqual(['2 <p2@x>', '3 <p3@x>', '4 <p4@x>']);
    expect(pool.modes).toEqual(['background']);
    pool.modes = [];
    await s.articleInto('g.one', 1, undefined, { begin: () => undefined, data: () => undefined }, true);
    await s.groupInfo('g.one');
    expect(pool.modes).toEqual([true, false]);
  });
});
