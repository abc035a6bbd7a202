/**
 * RFC 1733 §2 "disconnected" model, end to end over a real INN with durable
 * flags in a state agent (in-process, `state: http://…`; the third agent of
 * RFC 1733 — `state: local` would do as well): a client syncs (SELECT with CONDSTORE, FETCH FLAGS
 * MODSEQ), goes offline, another session marks articles meanwhile and an
 * article is cancelled on INN; the client reconnects with ENABLE QRESYNC and
 * SELECT (QRESYNC (uidvalidity modseq)) — that one round trip must bring
 * exactly the flag changes and VANISHED (EARLIER) for the cancelled article.
 * Then the client pushes its own offline marks with one UID STORE
 * (UNCHANGEDSINCE) and both sides are level.
 *
 * Cancels: INN does not lower GROUP's count on a cancel, so newsfront finds
 * cancels by listing the group (LISTGROUP): every `cancelCheckMs` (config,
 * 10 min by default), when a group is reopened from its
 * saved table at start-up, and at every SELECT (QRESYNC …). The first test
 * restarts the front-end while the client is offline (front-ends hold no
 * session state, so that is a legitimate event in this model); the second one
 * reconnects to the same front-end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../harness/stack.js';
import { RawClient, tagged } from '../imap/raw-client.js';

const GROUPS = ['models.disc', 'models.disc2'];
const PER_GROUP = 30;

interface Synced {
  uidValidity: number;
  modseq: number;
  flags: Map<number, string>;
}

/** FETCH responses `* n FETCH (UID u FLAGS (...) MODSEQ (m))` in any attribute order → uid → flags. */
function flagsOf(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\r\n')) {
    if (!/^\* \d+ FETCH /.test(line)) continue;
    const uid = /UID (\d+)/.exec(line);
    const fl = /FLAGS \(([^)]*)\)/.exec(line);
    if (uid && fl) out.set(Number(uid[1]), fl[1]!);
  }
  return out;
}

describe('RFC 1733 disconnected model', () => {
  let stack: Stack;
  const login = async (): Promise<RawClient> => {
    const c = await RawClient.connect(stack.nf.port);
    expect(tagged(await c.cmd('L', 'LOGIN alice secret'), 'L')).toMatch(/^L OK/);
    return c;
  };
  /** Sync a group: SELECT (CONDSTORE) and all flags with modseqs. */
  const sync = async (group: string): Promise<Synced> => {
    const c = await login();
    const sel = await c.cmd('s', `SELECT ${group} (CONDSTORE)`);
    const uidValidity = Number(/UIDVALIDITY (\d+)/.exec(sel)![1]);
    const modseq = Number(/HIGHESTMODSEQ (\d+)/.exec(sel)![1]);
    const f = await c.cmd('f', 'UID FETCH 1:* (FLAGS MODSEQ)');
    const flags = flagsOf(f);
    expect(flags.size).toBe(PER_GROUP);
    c.close();
    return { uidValidity, modseq, flags };
  };
  const numberIn = (group: string, k: number): string => stack.corpus.filter((a) => a.groups[0] === group)[k - 1]!.messageId;

  beforeAll(async () => {
    stack = await startStack({ corpus: { seed: 17333, groups: GROUPS, perGroup: PER_GROUP, crosspostRate: 0 }, state: 'agent' });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('one QRESYNC SELECT brings the exact flag changes and VANISHED for a cancelled article', async () => {
    const g = GROUPS[0]!;
    const synced = await sync(g);
    // offline: the client marks 1 and 2 locally (to be pushed later)

    // meanwhile: another session of the same user marks articles; INN cancels one
    const other = await login();
    await other.cmd('s', `SELECT ${g}`);
    expect(tagged(await other.cmd('a', 'UID STORE 5,7 +FLAGS.SILENT (\\Seen)'), 'a')).toMatch(/^a OK/);
    expect(tagged(await other.cmd('b', 'UID STORE 9 +FLAGS.SILENT (\\Flagged $Later)'), 'b')).toMatch(/^b OK/);
    other.close();
    await stack.inn.cancel(numberIn(g, 12));
    // the front-end restarts while the client is away (see the header)
    await stack.restartFrontend();

    // reconnect: one round trip
    const c = await login();
    expect(tagged(await c.cmd('e', 'ENABLE QRESYNC'), 'e')).toMatch(/^e OK/);
    const r = await c.cmd('q', `SELECT ${g} (QRESYNC (${synced.uidValidity} ${synced.modseq} 1:${PER_GROUP}))`);
    expect(tagged(r, 'q')).toMatch(/^q OK/);
    expect(r).toContain(`UIDVALIDITY ${synced.uidValidity}`);
    expect(r).toContain(`* ${PER_GROUP - 1} EXISTS`);
    expect(r).toMatch(/\* VANISHED \(EARLIER\) 12\r\n/);
    const changed = flagsOf(r);
    expect([...changed.entries()].sort((x, y) => x[0] - y[0])).toEqual([
      [5, '\\Seen'],
      [7, '\\Seen'],
      [9, '\\Flagged $Later'],
    ]);

    // the client pushes its offline marks, conditional on its view of them
    const highest = Number(/HIGHESTMODSEQ (\d+)/.exec(r)![1]);
    const push = await c.cmd('p', `UID STORE 1,2 (UNCHANGEDSINCE ${synced.modseq}) +FLAGS (\\Seen)`);
    expect(tagged(push, 'p')).toMatch(/^p OK/);
    expect(tagged(push, 'p')).not.toContain('MODIFIED');
    // both sides level: the server's flags equal the client's merged copy
    const local = new Map(synced.flags);
    for (const [u, f] of changed) local.set(u, f);
    local.delete(12);
    local.set(1, '\\Seen');
    local.set(2, '\\Seen');
    const now = flagsOf(await c.cmd('f', 'UID FETCH 1:* (FLAGS)'));
    expect([...now.entries()].sort((x, y) => x[0] - y[0])).toEqual([...local.entries()].sort((x, y) => x[0] - y[0]));
    const after = flagsOf(await c.cmd('g', `UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${highest})`));
    expect([...after.keys()]).toEqual([1, 2]);
    c.close();
  });

  // Was a gap: a cancel on INN while the client was offline showed only after
  // the periodic LISTGROUP check (10 min) or a restart. SELECT (QRESYNC …) now
  // looks for cancels first (select.ts, QRESYNC_CHECK_WAIT_MS).
  it('without a front-end restart, a cancel while offline shows as VANISHED at reconnect', async () => {
    const g = GROUPS[1]!;
    const synced = await sync(g);
    await stack.inn.cancel(numberIn(g, 3));
    await new Promise((r) => setTimeout(r, 2500));
    const c = await login();
    await c.cmd('e', 'ENABLE QRESYNC');
    const r = await c.cmd('q', `SELECT ${g} (QRESYNC (${synced.uidValidity} ${synced.modseq} 1:${PER_GROUP}))`);
    c.close();
    expect(r).toMatch(/\* VANISHED \(EARLIER\) 3\r\n/);
  });
});
