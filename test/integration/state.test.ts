/**
 * Durable flags, over the embedded sample archive, with `state: local` (LMDB
 * in the serving process) and with a real state agent process over HTTP:
 * flags survive logout, front-end restart and agent restart, users are
 * isolated, a second session of the same user sees changes at NOOP and during
 * IDLE, and CONDSTORE/QRESYNC resync returns exactly the changes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNewsfront, type RunningNewsfront } from '../../src/app/start.js';
import { testConfig } from '../../src/app/config/load.js';
import { silentLogger } from '../../src/util/log.js';
import { RawClient, tagged } from '../imap/raw-client.js';
import { startAgentProcess, type AgentProcess } from './agent-process.js';

const TOKEN = 'frontend-token-for-tests-0001';

describe.each(['local', 'agent'] as const)('state: %s', (mode) => {
  let dir: string;
  let nf: RunningNewsfront;
  let agent: AgentProcess | undefined;
  const config = () =>
    testConfig({
      data: join(dir, 'data'),
      listen: { host: '127.0.0.1', port: 0 },
      users: join(dir, 'users'),
      ...(mode === 'local' ? { state: 'local' } : { state: agent!.url, stateToken: TOKEN }),
    });
  /** Send NOOP until `re` shows up (the agent's change feed is asynchronous). */
  const noopUntil = async (c: RawClient, re: RegExp): Promise<string> => {
    for (let i = 0; i < 50; i++) {
      const r = await c.cmd(`n${i}`, 'NOOP');
      if (re.test(r)) return r;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`never saw ${re}`);
  };
  const login = async (user = 'u1'): Promise<RawClient> => {
    const c = await RawClient.connect(nf.port);
    expect(tagged(await c.cmd('L', `LOGIN ${user} pw`), 'L')).toMatch(/^L OK/);
    return c;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nf-state-'));
    writeFileSync(join(dir, 'users'), 'u1:{PLAIN}pw\nu2:{PLAIN}pw\n');
    if (mode === 'agent') agent = await startAgentProcess(join(dir, 'agent'), `${TOKEN} frontend fe1\n`);
    nf = await startNewsfront(config(), silentLogger());
  });
  afterAll(async () => {
    await nf?.close();
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
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
    await nf.close();
    if (agent) await agent.restart();
    nf = await startNewsfront(config(), silentLogger());
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

  it('a second session sees changes at NOOP and during IDLE', async () => {
    const a = await login();
    const b = await login();
    await a.cmd('s', 'SELECT sample.announce');
    await b.cmd('s', 'SELECT sample.announce');
    await a.cmd('x', 'UID STORE 1 +FLAGS (\\Flagged)');
    await noopUntil(b, /\* 1 FETCH \(UID 1 FLAGS \(\\Flagged\)/);
    b.write('i IDLE\r\n');
    await b.until((t) => t.includes('+ idling'));
    b.take();
    await a.cmd('y', 'UID STORE 2 +FLAGS (\\Answered)');
    await b.until((t) => /\* 2 FETCH \(UID 2 FLAGS \(\\Answered\)/.test(t));
    b.write('DONE\r\n');
    await b.until((t) => /i OK/.test(t));
    a.close();
    b.close();
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
    await agent!.kill();
    expect(tagged(await c.cmd('a', 'UID STORE 1 +FLAGS (\\Seen)'), 'a')).toMatch(/^a NO \[UNAVAILABLE\]/);
    expect(tagged(await c.cmd('b', 'UID FETCH 1 (BODY.PEEK[HEADER] RFC822.SIZE)'), 'b')).toMatch(/^b OK/);
    await agent!.start();
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
