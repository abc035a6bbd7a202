import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { startMallocTrimmer } from '../../src/util/malloc-trim.js';
import { silentLogger } from '../../src/util/log.js';

type Cb = (err: unknown, res: number) => void;

/** A fake trim that records its calls and finishes when told. */
function fakeTrim() {
  const pending: Cb[] = [];
  let calls = 0;
  return {
    trim: (_pad: number, cb: Cb): void => {
      calls++;
      pending.push(cb);
    },
    finish: (err?: Error): void => pending.shift()!(err ?? null, 1),
    get calls() {
      return calls;
    },
  };
}

describe('startMallocTrimmer', () => {
  it('does nothing with interval 0', async () => {
    const f = fakeTrim();
    const t = startMallocTrimmer(0, silentLogger(), { trim: f.trim, cpuMs: () => 1e9 });
    await t.trimNow();
    expect(f.calls).toBe(0);
    t.stop();
  });

  it('trims once per 100 ms of process CPU, and a call during a trim joins it', async () => {
    const f = fakeTrim();
    let cpu = 0;
    const t = startMallocTrimmer(60_000, silentLogger(), { trim: f.trim, cpuMs: () => cpu });
    const a = t.trimNow();
    const b = t.trimNow(); // joins the one under way
    expect(f.calls).toBe(1);
    f.finish();
    await Promise.all([a, b]);
    cpu = 99; // not enough work since
    await t.trimNow();
    expect(f.calls).toBe(1);
    cpu = 100;
    const c = t.trimNow();
    expect(f.calls).toBe(2);
    f.finish();
    await c;
    t.stop();
  });

  it('a quiet tick after a busy trim trims once more (what the burst freed last), then waits for work', async () => {
    const f = fakeTrim();
    let cpu = 0;
    const t = startMallocTrimmer(60_000, silentLogger(), { trim: f.trim, cpuMs: () => cpu });
    const busy = t.tick(); // the first tick: work since start
    expect(f.calls).toBe(1);
    f.finish();
    await busy;
    cpu = 150;
    const again = t.tick(); // still busy: a busy trim
    expect(f.calls).toBe(2);
    f.finish();
    await again;
    cpu = 160; // quiet since
    const trailing = t.tick();
    expect(f.calls).toBe(3);
    f.finish();
    await trailing;
    cpu = 170;
    await t.tick(); // quiet again: nothing more
    await t.tick();
    expect(f.calls).toBe(3);
    cpu = 300; // work again
    const more = t.tick();
    expect(f.calls).toBe(4);
    f.finish();
    await more;
    t.stop();
  });

  it('no trailing trim after a trailing trim or when nothing was trimmed for work', async () => {
    const f = fakeTrim();
    let cpu = 0;
    const t = startMallocTrimmer(60_000, silentLogger(), { trim: f.trim, cpuMs: () => cpu });
    const first = t.tick();
    f.finish();
    await first;
    const trailing = t.tick();
    expect(f.calls).toBe(2);
    f.finish();
    await trailing;
    cpu = 50;
    await t.tick();
    cpu = 99;
    await t.tick();
    expect(f.calls).toBe(2);
    t.stop();
  });

  it('stops trying after a failed trim', async () => {
    const f = fakeTrim();
    let cpu = 0;
    const t = startMallocTrimmer(60_000, silentLogger(), { trim: f.trim, cpuMs: () => cpu });
    const a = t.trimNow();
    f.finish(new Error('boom'));
    await a;
    cpu = 1e6;
    await t.trimNow();
    expect(f.calls).toBe(1);
    t.stop();
  });

  const glibc = Boolean((process.report?.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime);
  it.skipIf(!glibc)('gives the free glibc heap back to the kernel (real malloc_trim)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const anonMB = (): number => Number(/Pss_Anon:\s+(\d+)/.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))![1]) / 1024;
    // ~300 MB of malloc'd buffers; one in 50 kept, so the freed ones lie between live ones (no top to trim)
    let bufs: (Buffer | null)[] = [];
    for (let i = 0; i < 100_000; i++) bufs.push(Buffer.allocUnsafeSlow(2000 + (i % 50) * 40).fill(1));
    const keep = bufs.filter((_, i) => i % 50 === 0);
    bufs = [];
    gc();
    gc();
    const before = anonMB();
    const t = startMallocTrimmer(60_000, silentLogger());
    await t.trimNow();
    t.stop();
    const after = anonMB();
    expect(keep.length).toBe(2000);
    expect(before - after).toBeGreaterThan(100);
  });
});
