/**
 * The failed-login limiter (token buckets per source and per user, known
 * sources) and the password-check queue (bounded concurrency, ranks,
 * eviction), with a fake clock and hand-released tasks: no timing.
 */
import { describe, expect, it } from 'vitest';
import { LoginLimiter } from '../../src/app/auth/limiter.js';
import { CheckQueue, CheckQueueFull } from '../../src/app/auth/check-queue.js';

const clock = () => {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
};

describe('LoginLimiter', () => {
  it('throttles a source after its failures, whatever the user, and refills over the window', () => {
    const c = clock();
    const l = new LoginLimiter({ failuresPerAddress: 3, failuresPerUser: 100, failureWindowMs: 60_000 }, c.now);
    for (let i = 0; i < 3; i++) l.begin(`user${i}`, '192.0.2.1')!.failed();
    expect(l.begin('someone', '192.0.2.1')).toBeUndefined();
    expect(l.begin('someone', '192.0.2.2')).toBeDefined(); // another source is not held
    c.advance(20_000); // a third of the window: one token back
    l.begin('x', '192.0.2.1')!.failed();
    expect(l.begin('x', '192.0.2.1')).toBeUndefined();
  });

  it('throttles a user after failures from many sources, except from a source it logged in from', () => {
    const c = clock();
    const l = new LoginLimiter({ failuresPerAddress: 100, failuresPerUser: 3, failureWindowMs: 60_000 }, c.now);
    l.begin('alice', 'home')!.succeeded();
    for (let i = 0; i < 3; i++) l.begin('alice', `attacker${i}`)!.failed();
    expect(l.begin('alice', 'elsewhere')).toBeUndefined();
    expect(l.begin('bob', 'elsewhere')).toBeDefined();
    const fromHome = l.begin('alice', 'home');
    expect(fromHome?.rank).toBe(0);
    fromHome!.succeeded();
    // an exempt source (undefined) has no known pairs: the user bucket applies
    expect(l.begin('alice', undefined)).toBeUndefined();
  });

  it('counts attempts still being checked, and gives tokens back on success or cancel', () => {
    const l = new LoginLimiter({ failuresPerAddress: 2, failuresPerUser: 100, failureWindowMs: 60_000 }, clock().now);
    const a = l.begin('u', 's')!;
    const b = l.begin('u', 's')!;
    expect(l.begin('u', 's')).toBeUndefined(); // two in flight use the allowance
    a.succeeded();
    b.cancelled();
    b.failed(); // only the first end counts
    const c2 = l.begin('u', 's')!;
    expect(c2).toBeDefined();
    c2.failed();
    expect(l.begin('u', 's')).toBeDefined();
  });

  it('ranks attempts: known pair, untouched buckets, then the rest', () => {
    const l = new LoginLimiter({ failuresPerAddress: 5, failuresPerUser: 5, failureWindowMs: 60_000 }, clock().now);
    const first = l.begin('u', 's')!;
    expect(first.rank).toBe(1);
    first.failed();
    expect(l.begin('v', 's')!.rank).toBe(2);
    expect(l.begin('w', 't')!.rank).toBe(1);
  });

  it('keeps at most maxEntries buckets, and a 64 KiB user name does not become a 64 KiB key', () => {
    const l = new LoginLimiter({ failuresPerAddress: 5, failuresPerUser: 5, failureWindowMs: 60_000, maxEntries: 50 }, clock().now);
    for (let i = 0; i < 1000; i++) l.begin(`name${i}`, `src${i}`)!.failed();
    expect(l.size).toBeLessThanOrEqual(50);
    const long = 'x'.repeat(65536);
    for (let i = 0; i < 5; i++) l.begin(long, `s${i}`)!.failed();
    expect(l.begin(long, 'other')).toBeUndefined();
    expect(l.begin(`${long}y`, 'other')).toBeDefined();
  });
});

/** A task that runs until `finish()` is called. */
function held(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  return { task: async () => { log.push(`start ${name}`); await done; log.push(`end ${name}`); return name; }, finish };
}

describe('CheckQueue', () => {
  it('runs at most `concurrency` at once, keeps a slot for rank 0, best rank first, FIFO within a rank', async () => {
    const q = new CheckQueue(2, 10);
    const log: string[] = [];
    const ts = ['a', 'b', 'c', 'd', 'e'].map((n) => held(log, n));
    const ranks = [2, 1, 2, 0, 2];
    const results = ts.map((t, i) => q.run(t.task, ranks[i]!));
    await Promise.resolve();
    // a runs; b, c wait although a slot is free (it is kept for rank 0); d takes it; e waits
    expect(log).toEqual(['start a', 'start d']);
    expect([q.active, q.queued]).toEqual([2, 3]);
    ts[3]!.finish();
    await results[3];
    await new Promise((r) => setImmediate(r));
    expect(log).not.toContain('start b'); // the kept slot stays free for rank 0
    ts[0]!.finish();
    await results[0];
    await new Promise((r) => setImmediate(r));
    expect(log).toContain('start b'); // rank 1 before the older rank-2 c
    expect(log).not.toContain('start c');
    for (const t of ts) t.finish();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(log.filter((l) => l.startsWith('start')).map((l) => l.slice(6))).toEqual(['a', 'd', 'b', 'c', 'e']);
    expect([q.active, q.queued]).toEqual([0, 0]);
  });

  it('never runs more than `concurrency` checks, whatever the mix of ranks', async () => {
    const q = new CheckQueue(3, 1000);
    let now = 0;
    let most = 0;
    const task = async (): Promise<void> => {
      most = Math.max(most, ++now);
      await new Promise((r) => setImmediate(r));
      now--;
    };
    await Promise.all(Array.from({ length: 200 }, (_, i) => q.run(task, (i * 7) % 3)));
    expect(most).toBe(3);
  });

  it('when full, a better newcomer evicts the newest worse waiter; an equal one is refused', async () => {
    const q = new CheckQueue(1, 2);
    const log: string[] = [];
    const running = held(log, 'run');
    const r0 = q.run(running.task, 1);
    const h1 = held(log, 'w1');
    const w1 = q.run(h1.task, 2);
    const w2 = q.run(held(log, 'w2').task, 2);
    const better = held(log, 'better');
    const rb = q.run(better.task, 0);
    await expect(w2).rejects.toBeInstanceOf(CheckQueueFull);
    await expect(q.run(held(log, 'late').task, 2)).rejects.toBeInstanceOf(CheckQueueFull);
    expect(log).not.toContain('start w2');
    expect(log).not.toContain('start late');
    running.finish();
    better.finish();
    await r0;
    expect(await rb).toBe('better');
    h1.finish();
    expect(await w1).toBe('w1');
    expect(log.filter((l) => l.startsWith('start'))).toEqual(['start run', 'start better', 'start w1']);
    expect([q.active, q.queued]).toEqual([0, 0]);
  });
});
