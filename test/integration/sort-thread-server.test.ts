/**
 * The real server (the embedded sample archive, the real export backend and
 * search index) offers SORT, ESORT and THREAD exactly when its index is on, and
 * answers them: every message once, in a valid order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../harness/stack.js';
import { RawClient, tagged, untagged } from '../imap/raw-client.js';

const GROUP = 'sample.discuss';

async function session(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  expect(tagged(await c.cmd('a', 'LOGIN alice secret'), 'a')).toMatch(/^a OK/);
  return c;
}

const capsOf = async (c: RawClient): Promise<string[]> => untagged(await c.cmd('c', 'CAPABILITY')).join(' ').split(' ');

describe('SORT and THREAD on the real server', () => {
  let withIndex: Stack;
  let without: Stack;
  beforeAll(async () => {
    withIndex = await startStack({});
    without = await startStack({ config: { index: { enabled: false } } });
  });
  afterAll(async () => {
    await withIndex?.close();
    await without?.close();
  });

  it('advertises and answers them with the index', async () => {
    const c = await session(withIndex.nf.port);
    try {
      const caps = await capsOf(c);
      for (const cap of ['SORT', 'SORT=DISPLAY', 'ESORT', 'THREAD=REFERENCES', 'THREAD=ORDEREDSUBJECT', 'THREAD=REFS']) expect(caps).toContain(cap);
      const sel = await c.cmd('s', `SELECT ${GROUP}`);
      const exists = Number(/\* (\d+) EXISTS/.exec(sel)![1]);
      expect(exists).toBeGreaterThan(10);
      const all = untagged(await c.cmd('u', 'UID SEARCH ALL'))[0]!.split(' ').slice(2).map(Number);
      const sorted = untagged(await c.cmd('d', 'UID SORT (DATE) UTF-8 ALL'))[0]!.split(' ').slice(2).map(Number);
      expect([...sorted].sort((a, b) => a - b)).toEqual(all);
      const reversed = untagged(await c.cmd('r', 'UID SORT (REVERSE ARRIVAL) UTF-8 ALL'))[0]!.split(' ').slice(2).map(Number);
      expect([...reversed].sort((a, b) => a - b)).toEqual(all);
      const threads = untagged(await c.cmd('t', 'UID THREAD REFERENCES UTF-8 ALL'))[0]!;
      expect(threads).toMatch(/^\* THREAD \(/);
      const inThreads = (threads.match(/\d+/g) ?? []).map(Number).sort((a, b) => a - b);
      expect(inThreads).toEqual(all);
      expect(untagged(await c.cmd('e', 'UID SORT RETURN (COUNT) (SUBJECT) UTF-8 ALL'))).toEqual([`* ESEARCH (TAG "e") UID COUNT ${all.length}`]);
    } finally {
      c.close();
    }
  });

  it('neither advertises nor answers them without the index (SEARCH still answers by scanning)', async () => {
    const c = await session(without.nf.port);
    try {
      const caps = await capsOf(c);
      expect(caps).not.toContain('SORT');
      expect(caps.some((x) => x.startsWith('THREAD='))).toBe(false);
      await c.cmd('s', `SELECT ${GROUP}`);
      expect(tagged(await c.cmd('d', 'UID SORT (DATE) UTF-8 ALL'), 'd')).toMatch(/^d NO \[CANNOT\]/);
      expect(tagged(await c.cmd('b', 'UID SEARCH BODY the'), 'b')).toMatch(/^b OK/);
    } finally {
      c.close();
    }
  });
});
