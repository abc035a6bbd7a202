import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Activity } from '../../../src/export/backend/activity.js';
import { QuietBacklog, QuietGate } from '../../../src/export/backend/quiet-gate.js';

/** A turn that records its start and ends when `finish` is called. */
function turn(gate: QuietGate, key: string, log: string[], name: string): { done: Promise<void>; finish: () => void } {
  let finish!: () => void;
  const ended = new Promise<void>((r) => (finish = r));
  const done = gate.run(key, async () => {
    log.push(name);
    await ended;
  });
  return { done, finish };
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('QuietGate', () => {
  beforeEach(() => void vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => void vi.useRealTimers());

  it('runs at most `concurrency` turns at once, in order, when clients are quiet', async () => {
    const activity = new Activity();
    const gate = new QuietGate(activity, 250, 2);
    const log: string[] = [];
    const t = ['a', 'b', 'c'].map((n) => turn(gate, 'g', log, n));
    await settle();
    expect(log).toEqual(['a', 'b']);
    expect(gate.queued).toBe(1);
    t[0]!.finish();
    await t[0]!.done;
    await settle();
    expect(log).toEqual(['a', 'b', 'c']);
    t[1]!.finish();
    t[2]!.finish();
    await Promise.all(t.map((x) => x.done));
  });

  it('while clients read, turns wait until they have been quiet for quietMs', async () => {
    const activity = new Activity();
    const gate = new QuietGate(activity, 250, 3);
    const log: string[] = [];
    activity.touch();
    const t = turn(gate, 'g', log, 'a');
    await settle();
    expect(log).toEqual([]);
    await vi.advanceTimersByTimeAsync(200);
    activity.touch(); // still reading
    await vi.advanceTimersByTimeAsync(200);
    expect(log).toEqual([]);
    await vi.advanceTimersByTimeAsync(100);
    expect(log).toEqual(['a']);
    t.finish();
    await t.done;
  });

  it('a hurried key starts at once even while clients read; other keys still wait; calm ends it', async () => {
    const activity = new Activity();
    const gate = new QuietGate(activity, 250, 3);
    const log: string[] = [];
    activity.touch();
    const other = turn(gate, 'h', log, 'other');
    const mine = turn(gate, 'g', log, 'mine');
    await settle();
    expect(log).toEqual([]);
    gate.hurry('g');
    await settle();
    expect(log).toEqual(['mine']);
    gate.calm('g');
    activity.touch();
    const later = turn(gate, 'g', log, 'later');
    await settle();
    expect(log).toEqual(['mine']);
    await vi.advanceTimersByTimeAsync(300);
    expect(log).toEqual(['mine', 'other', 'later']);
    for (const x of [other, mine, later]) x.finish();
    await Promise.all([other.done, mine.done, later.done]);
  });

  it("a hurried key's turns all start at once, beyond the bound; other keys wait for a free place", async () => {
    const activity = new Activity();
    const gate = new QuietGate(activity, 250, 2);
    const log: string[] = [];
    const t = ['a', 'b', 'c', 'd'].map((n) => turn(gate, 'g', log, n));
    const other = turn(gate, 'h', log, 'other');
    await settle();
    expect(log).toEqual(['a', 'b']);
    gate.hurry('g');
    await settle();
    expect(log).toEqual(['a', 'b', 'c', 'd']);
    for (const x of t) x.finish();
    await Promise.all(t.map((x) => x.done));
    await settle();
    expect(log).toEqual(['a', 'b', 'c', 'd', 'other']);
    other.finish();
    await other.done;
  });

  it('close lets every waiting turn start', async () => {
    const activity = new Activity();
    const gate = new QuietGate(activity, 250, 1);
    const log: string[] = [];
    activity.touch();
    const t = ['a', 'b'].map((n) => turn(gate, 'g', log, n));
    await settle();
    expect(log).toEqual([]);
    gate.close();
    await settle();
    expect(log).toEqual(['a', 'b']);
    for (const x of t) x.finish();
    await Promise.all(t.map((x) => x.done));
  });

  it('a failing turn rejects its caller and frees its place', async () => {
    const gate = new QuietGate(new Activity(), 250, 1);
    await expect(gate.run('g', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.run('g', async () => 7)).resolves.toBe(7);
  });
});

describe('QuietBacklog', () => {
  beforeEach(() => void vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => void vi.useRealTimers());

  it('runs its items, in order, once clients have been quiet for quietMs', async () => {
    const activity = new Activity();
    const b = new QuietBacklog(activity, 250, 1000);
    const ran: number[] = [];
    activity.touch();
    b.add(() => ran.push(1), 10);
    await vi.advanceTimersByTimeAsync(200);
    activity.touch();
    b.add(() => ran.push(2), 10);
    await vi.advanceTimersByTimeAsync(200);
    expect(ran).toEqual([]);
    expect(b.length).toBe(2);
    await vi.advanceTimersByTimeAsync(60);
    expect(ran).toEqual([1, 2]);
    expect(b.length).toBe(0);
  });

  it('runs everything waiting at once when more than maxBytes wait, and on drain', async () => {
    const activity = new Activity();
    const b = new QuietBacklog(activity, 250, 100);
    const ran: number[] = [];
    activity.touch();
    b.add(() => ran.push(1), 60);
    expect(ran).toEqual([]);
    b.add(() => ran.push(2), 60); // 120 > 100
    expect(ran).toEqual([1, 2]);
    b.add(() => ran.push(3), 10);
    b.drain();
    expect(ran).toEqual([1, 2, 3]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(ran).toEqual([1, 2, 3]); // nothing runs twice
  });

  it('an item that throws does not stop the others', () => {
    const b = new QuietBacklog(new Activity(), 250, 1000);
    const ran: number[] = [];
    b.add(() => {
      throw new Error('boom');
    }, 1);
    b.add(() => ran.push(2), 1);
    b.drain();
    expect(ran).toEqual([2]);
  });
});
