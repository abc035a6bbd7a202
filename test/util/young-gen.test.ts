import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { semiSpaceFlagMiB, setPretenuring, startYoungGenerationCap } from '../../src/util/young-gen.js';
import { NODE_FLAGS } from '../../bench/server.js';

const MiB = 1024 * 1024;

describe('startYoungGenerationCap', () => {
  it('does nothing with 0', () => {
    const flags: string[] = [];
    const c = startYoungGenerationCap(0, { space: () => 0, setFlag: (f) => flags.push(f), observe: false });
    c.check();
    expect(flags).toEqual([]);
    expect(c.factor).toBe(0);
  });

  it('lets the new space double while two doublings stay within two semi-spaces of the cap, and stops it there', () => {
    const flags: string[] = [];
    // V8 reports two semi-spaces plus a little: 2.1 MB for two of 1 MiB
    let space = 2.1e6;
    const c = startYoungGenerationCap(8 * MiB, { space: () => space, setFlag: (f) => flags.push(f), observe: false });
    expect(flags).toEqual(['--semi-space-growth-factor=2']);
    space = 4.2e6; // semi-spaces of 2 MiB: two more doublings reach 8 MiB
    c.check();
    expect(c.factor).toBe(2);
    space = 8.4e6; // half the cap: one more growth may come before the next check
    c.check();
    expect(c.factor).toBe(1);
    c.check();
    space = 4.2e6; // V8 shrank it: it may grow again
    c.check();
    expect(flags).toEqual(['--semi-space-growth-factor=2', '--semi-space-growth-factor=1', '--semi-space-growth-factor=2']);
    space = 16.8e6;
    c.check();
    c.stop(); // V8's default growth again
    expect(flags.slice(-2)).toEqual(['--semi-space-growth-factor=1', '--semi-space-growth-factor=2']);
    expect(c.factor).toBe(0);
  });

  it("holds V8's own young generation at the cap under allocation", async () => {
    const { getHeapSpaceStatistics } = await import('node:v8');
    const newSpace = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;
    // what the test runner grew it to already stays (V8 shrinks it only when allocation is slow); it must not grow further
    const start = newSpace();
    const c = startYoungGenerationCap(4 * MiB);
    try {
      let keep: object[] = [];
      for (let r = 0; r < 150; r++) {
        for (let i = 0; i < 50_000; i++) {
          const o = { i, s: `a${i}` };
          if (i % 10 === 0) keep.push(o);
        }
        if (keep.length > 300_000) keep = keep.slice(100_000);
        if (r % 2 === 0) await new Promise((res) => setImmediate(res));
      }
      expect(keep.length).toBeGreaterThan(0);
      expect(newSpace()).toBeLessThanOrEqual(Math.max(start, 2 * 4 * MiB * 1.05));
      expect(newSpace()).toBeLessThan(32 * MiB); // V8's own growth: two semi-spaces of 16 MiB
    } finally {
      c.stop();
    }
  });
});

describe('semiSpaceFlagMiB', () => {
  it("reads node's own arguments and NODE_OPTIONS, the command line last", () => {
    expect(semiSpaceFlagMiB([], '')).toBeUndefined();
    expect(semiSpaceFlagMiB(['--expose-gc', '--max-old-space-size=512'], '--trace-warnings')).toBeUndefined();
    expect(semiSpaceFlagMiB(['--max-semi-space-size=4'], '')).toBe(4);
    expect(semiSpaceFlagMiB(['--max_semi_space_size', '8'], '')).toBe(8);
    expect(semiSpaceFlagMiB([], ' --max-semi-space-size=2 ')).toBe(2);
    expect(semiSpaceFlagMiB(['--max-semi-space-size=4'], '--max-semi-space-size=16')).toBe(4);
    expect(semiSpaceFlagMiB(['--max-semi-space-size=x'], '')).toBeUndefined();
  });
});

describe('the V8 flags newsfront is started with', () => {
  const root = new URL('../../', import.meta.url);
  const start = (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> }).scripts['start']!;
  const shebang = readFileSync(new URL('src/cli.ts', root), 'utf8').split('\n')[0]!;
  const service = /^ExecStart=.*$/m.exec(readFileSync(new URL('docs/deploy.md', root), 'utf8'))?.[0] ?? '';

  it.each([
    ['the semi-space size', /--max-semi-space-size=\d+/],
    ['the V8 platform threads', /--v8-pool-size=\d+/],
  ])('%s is the same in package.json start, the bin shebang, the systemd example and the bench', (_what, re) => {
    const flagOf = (text: string): string | undefined => re.exec(text)?.[0];
    expect(shebang.startsWith('#!/usr/bin/env -S ')).toBe(true);
    const flag = flagOf(start);
    expect(flag).toBeDefined();
    expect(flagOf(shebang)).toBe(flag);
    expect(flagOf(service)).toBe(flag);
    expect(flagOf(NODE_FLAGS.join(' '))).toBe(flag);
    // a flag goes before the script: after it node would pass it to newsfront
    expect(start.indexOf(flag!)).toBeLessThan(start.indexOf('dist/src/cli.js'));
    expect(service.indexOf(flag!)).toBeLessThan(service.indexOf('dist/src/cli.js'));
  });
});

describe('setPretenuring', () => {
  it("sets V8's allocation-site pretenuring flag both ways", () => {
    const set: string[] = [];
    setPretenuring(false, (f) => set.push(f));
    setPretenuring(true, (f) => set.push(f));
    expect(set).toEqual(['--no-allocation-site-pretenuring', '--allocation-site-pretenuring']);
  });

  it('is accepted by the running V8 (left as found)', () => {
    expect(() => setPretenuring(false)).not.toThrow();
    expect(() => setPretenuring(true)).not.toThrow();
  });
});
