/**
 * Durable flags, over the embedded sample archive, with `state: local` (LMDB
 * in the serving process) and with a real state agent process over HTTP:
 * flags survive logout, front-end restart and agent restart, users are
 * isolated, a second session of the same user sees changes at NOOP and during
 * IDLE, and CONDSTORE/QRESYNC resync returns exactly the changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, tagged, untagged } from '../imap/raw-client.js';
import { startStack, type Stack } from '../harness/stack.js';

describe.each(['local', 'agent'] as const)('state: %s', (mode) => {
  let stack: Stack;
  /**
   * NOOP (at most 50 times, 100 ms apart: the agent's change feed is
   * asynchronous) until an untagged response comes; every NOOP must be
   * answered OK. Returns the untagged lines of the first NOOP that had any
   * ([] if none ever came), for the caller to compare with what it expects.
   */
  const noopUntilUntagged = async (c: RawClient): Promise<string[]> => {
    for (let i = 0; i < 50; i++) {
      const r = await c.cmd(`n${i}`, 'NOOP');
      expect(tagged(r, `n${i}`), r).toMatch(new RegExp(`^n${i} OK`));
      const lines = untagged(r);
      if (lines.length > 0) return lines;
      await new Promise((res) => setTimeout(res, 100));
    }
    return [];
  };
  const login = async (user = 'u1'): Promise<RawClient> => {
    const c = await RawClient.connect(stack.nf.port);
    expect(tagged(await c.cmd('L', `LOGIN ${user} pw`), 'L')).toMatch(/^L OK/);
    return c;
  };

  beforeAll(async () => {
    stack = await startStack({ users: { u1: 'pw', u2: 'pw' }, state: mode === 'local' ? 'local' : 'agent-process' });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('offers CONDSTORE/QRESYNC/ACL and permanent flags', async () => {
    const c = await login();
    const caps = await c.cmd('a', 'CAPABILITY');
    for (const cap of ['CONDSTORE', 'QRESYNC', 'ACL']) expect(caps).toContain(cap);
    const sel = await c.cmd('b', 'SELECT sample.discuss (CONDSTORE)');
    expect(sel).toMatch(/PERMANENTFLAGS \(\\Seen \\Answered \\Flagged \\Deleted \\Draft \\\*\)/);
    expect(sel).toMatch(/HIGHESTMODSEQ \d+/);
    expect(await c.cmd('c', 'MYRIGHTS sample.discuss')).toContain('* MYRIGHTS sample.discuss lrswt');
    c.close();
  });

  it('flags survive logout and restart (front-end and agent); other users do not see them', async () => {
    const c = await login();
    await c.cmd('s', 'SELECT sample.discuss');
    expect(await c.cmd('a', 'UID STORE 2:4 +FLAGS (\\Seen $Important)')).toContain('FLAGS (\\Seen $Important)');
    c.close();
    await stack.stopFrontend();
    if (mode === 'agent') await stack.agentProcess.restart();
    await stack.startFrontend();
    const d = await login();
    await d.cmd('s', 'SELECT sample.discuss');
    const f = await d.cmd('f', 'UID FETCH 1:5 (FLAGS)');
    expect(f).toContain('UID 1 FLAGS ()');
    expect(f).toContain('UID 3 FLAGS (\\Seen $Important)');
    expect(f).toContain('UID 4 FLAGS (\\Seen $Important)');
    d.close();
    const e = await login('u2');
    await e.cmd('s', 'SELECT sample.discuss');
    expect(await e.cmd('f', 'UID FETCH 3 (FLAGS)')).toContain('UID 3 FLAGS ()');
    e.close();
  });

  it('a second session sees changes at NOOP and during IDLE, and nothing else', async () => {
    const a = await login();
    const b = await login();
    try {
      expect(tagged(await a.cmd('s', 'SELECT sample.announce'), 's')).toMatch(/^s OK/);
      expect(tagged(await b.cmd('s', 'SELECT sample.announce'), 's')).toMatch(/^s OK/);
      const x = await a.cmd('x', 'UID STORE 1 +FLAGS (\\Flagged)');
      expect(tagged(x, 'x')).toMatch(/^x OK/);
      // (with state: local the storing session hears its own change once more in this response: legal, not needed)
      expect([...new Set(untagged(x))]).toEqual(['* 1 FETCH (UID 1 FLAGS (\\Flagged))']);
      expect(await noopUntilUntagged(b), 'untagged responses to NOOP in the other session').toEqual(['* 1 FETCH (UID 1 FLAGS (\\Flagged))']);

      b.write('i IDLE\r\n');
      expect(untagged(await b.settle((t) => t.includes('\r\n'))), 'IDLE continuation').toEqual(['+ idling']);
      b.take();
      expect(tagged(await a.cmd('y', 'UID STORE 2 +FLAGS (\\Answered)'), 'y')).toMatch(/^y OK/);
      // the first line IDLE brings must be the change, and nothing else may come before DONE is answered
      const heard = untagged(await b.settle((t) => t.includes('\r\n'), 20_000));
      b.write('DONE\r\n');
      const done = await b.settle((t) => /(^|\r\n)i (OK|NO|BAD)[^\r\n]*\r\n/.test(t));
      expect(heard, 'heard during IDLE').toEqual(['* 2 FETCH (UID 2 FLAGS (\\Answered))']);
      expect(untagged(done), 'during IDLE, up to the answer to DONE').toEqual(heard);
      expect(tagged(done, 'i')).toMatch(/^i OK/);
    } finally {
      a.close();
      b.close();
    }
  });

  it('QRESYNC resync of a disconnected client returns exactly the changes', async () => {
    const a = await login();
    await a.cmd('e', 'ENABLE QRESYNC');
    const sel = await a.cmd('s', 'SELECT sample.i18n');
    const uidValidity = Number(/UIDVALIDITY (\d+)/.exec(sel)![1]);
    const modseq = Number(/HIGHESTMODSEQ (\d+)/.exec(sel)![1]);
    a.close();
    const b = await login();
    await b.cmd('s', 'SELECT sample.i18n');
    await b.cmd('t', 'UID STORE 5,7 +FLAGS.SILENT (\\Seen)');
    await b.cmd('u', 'UID STORE 9 +FLAGS.SILENT (\\Flagged)');
    b.close();
    const c = await login();
    await c.cmd('e', 'ENABLE QRESYNC');
    const r = await c.cmd('q', `SELECT sample.i18n (QRESYNC (${uidValidity} ${modseq}))`);
    const fetched = [...r.matchAll(/\* \d+ FETCH \(UID (\d+) FLAGS \(([^)]*)\) MODSEQ \((\d+)\)\)/g)].map((m) => [Number(m[1]), m[2]]);
    expect(fetched).toEqual([[5, '\\Seen'], [7, '\\Seen'], [9, '\\Flagged']]);
    const changed = await c.cmd('f', `UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseq})`);
    expect([...changed.matchAll(/UID (\d+)/g)].map((m) => Number(m[1]))).toEqual([5, 7, 9]);
    const modified = await c.cmd('g', `UID STORE 5 (UNCHANGEDSINCE ${modseq}) +FLAGS (\\Answered)`);
    expect(tagged(modified, 'g')).toMatch(/^g OK \[MODIFIED 5\]/);
    c.close();
  });

  it.runIf(mode === 'agent')('agent unreachable: reading works, STORE is NO [UNAVAILABLE], then it recovers', async () => {
    const c = await login();
    await c.cmd('s', 'SELECT sample.binaries');
    await stack.agentProcess.kill();
    expect(tagged(await c.cmd('a', 'UID STORE 1 +FLAGS (\\Seen)'), 'a')).toMatch(/^a NO \[UNAVAILABLE\]/);
    expect(tagged(await c.cmd('b', 'UID FETCH 1 (BODY.PEEK[HEADER] RFC822.SIZE)'), 'b')).toMatch(/^b OK/);
    await stack.agentProcess.start();
    let ok = '';
    for (let i = 0; i < 50 && !/^r\d+ OK/.test(ok); i++) {
      ok = tagged(await c.cmd(`r${i}`, 'UID STORE 1 +FLAGS (\\Seen)'), `r${i}`);
      if (!/OK/.test(ok)) await new Promise((res) => setTimeout(res, 100));
    }
    expect(ok).toMatch(/OK/);
    expect(await c.cmd('f', 'UID FETCH 1 (FLAGS)')).toContain('FLAGS (\\Seen)');
    c.close();
  });

  it('marking a crossposted article \\Seen marks it in the other groups too', async () => {
    const c = await login();
    // open every group once, so each has its UIDs
    for (const g of ['sample.announce', 'sample.discuss', 'sample.i18n', 'sample.binaries']) await c.cmd(`o-${g}`, `EXAMINE ${g}`);
    let found: { from: string; to: string; uid: number; msgid: string } | undefined;
    for (const g of ['sample.announce', 'sample.discuss', 'sample.i18n', 'sample.binaries']) {
      await c.cmd('x', `EXAMINE ${g}`);
      const r = await c.cmd('h', 'UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (NEWSGROUPS MESSAGE-ID)])');
      for (const m of r.matchAll(/UID (\d+) BODY\[HEADER\.FIELDS \(NEWSGROUPS MESSAGE-ID\)\] \{\d+\}\r\n([\s\S]*?)\r\n\r\n/g)) {
        const ng = /Newsgroups: *([^\r\n]+)/i.exec(m[2]!)?.[1]?.split(/[ ,]+/).filter(Boolean) ?? [];
        const id = /Message-ID: *(<[^>]+>)/i.exec(m[2]!)?.[1];
        const other = ng.find((x) => x !== g);
        if (id && other && ng.includes(g)) {
          found = { from: g, to: other, uid: Number(m[1]), msgid: id };
          break;
        }
      }
      if (found) break;
    }
    expect(found, 'the sample archive has crossposts').toBeDefined();
    await c.cmd('s', `SELECT ${found!.to}`);
    const there = await c.cmd('q', `UID SEARCH HEADER Message-ID "${found!.msgid}"`);
    const uidThere = Number(/\* SEARCH (\d+)/.exec(there)![1]);
    await c.cmd('u', `UID STORE ${uidThere} -FLAGS.SILENT (\\Seen)`);
    await c.cmd('t', `SELECT ${found!.from}`);
    await c.cmd('m', `UID STORE ${found!.uid} +FLAGS (\\Seen)`);
    await c.cmd('b', `SELECT ${found!.to}`);
    expect(await c.cmd('f', `UID FETCH ${uidThere} (FLAGS)`)).toMatch(/FLAGS \([^)]*\\Seen/);
    c.close();
  });
});
