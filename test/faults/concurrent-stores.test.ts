/**
 * Many sessions of one user STORE at once, spread over two front-end
 * processes that share one state agent (DESIGN invariant 4 and the RFC 1733
 * third-agent model): every STORE answered OK is in the final state — no
 * update lost to a concurrent one — MODSEQs of one session's answers only
 * grow, and UNCHANGEDSINCE is honoured under contention (a conditional STORE
 * either applies or reports the UID in [MODIFIED], never both, never neither).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildServer } from '../harness/child-server.js';
import { startStack, type Stack } from '../harness/stack.js';
import { RawClient, tagged } from '../imap/raw-client.js';

const GROUP = 'sample.discuss';
const SESSIONS = 12;
const STORES_PER_SESSION = 15;
const UIDS = 10;

describe('concurrent STOREs through two front-ends and one agent', () => {
  let stack: Stack<'none'>;
  let fronts: ChildServer[];

  beforeAll(async () => {
    // two child front-ends on one data directory and one in-process agent
    stack = await startStack({ state: 'agent', frontend: 'none' });
    fronts = await Promise.all([stack.spawn(), stack.spawn()]);
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('no acknowledged update is lost; modseqs grow; UNCHANGEDSINCE is exact under contention', async () => {
    /** keyword → UIDs it was added to with an OK answer */
    const added = new Map<string, Set<number>>();
    const conditional: Array<{ modified: boolean }> = [];
    await Promise.all(
      Array.from({ length: SESSIONS }, async (_, s) => {
        const c = await RawClient.connect(fronts[s % 2]!.port);
        try {
          await c.cmd('l', 'LOGIN alice secret');
          await c.cmd('e', 'ENABLE CONDSTORE');
          await c.cmd('s', `SELECT ${GROUP}`);
          let lastModseq = 0;
          for (let i = 0; i < STORES_PER_SESSION; i++) {
            const uid = 1 + ((s * 7 + i) % UIDS);
            const kw = `$k${s}x${i}`;
            const r = await c.cmd(`t${i}`, `UID STORE ${uid} +FLAGS (${kw})`, 30_000);
            expect(tagged(r, `t${i}`)).toMatch(/ OK/);
            const m = /MODSEQ \((\d+)\)/.exec(r);
            expect(m, r).not.toBeNull();
            const modseq = Number(m![1]);
            expect(modseq).toBeGreaterThan(lastModseq);
            lastModseq = modseq;
            const set = added.get(kw) ?? new Set<number>();
            set.add(uid);
            added.set(kw, set);
            // a conditional store racing the others on a shared UID
            const f = await c.cmd(`u${i}`, `UID FETCH ${UIDS + 1} (MODSEQ)`);
            const seen = Number(/MODSEQ \((\d+)\)/.exec(f)![1]);
            const cr = await c.cmd(`c${i}`, `UID STORE ${UIDS + 1} (UNCHANGEDSINCE ${seen}) +FLAGS ($c${s}x${i})`, 30_000);
            const status = tagged(cr, `c${i}`);
            expect(status).toMatch(/ OK/);
            const modified = /\[MODIFIED [^\]]*\b(11)\b/.test(status);
            conditional.push({ modified });
            if (!modified) {
              const set2 = added.get(`$c${s}x${i}`) ?? new Set<number>();
              set2.add(UIDS + 1);
              added.set(`$c${s}x${i}`, set2);
            }
          }
        } finally {
          c.close();
        }
      }),
    );
    // the final state, read through each front-end
    for (const f of fronts) {
      const c = await RawClient.connect(f.port);
      await c.cmd('l', 'LOGIN alice secret');
      await c.cmd('s', `EXAMINE ${GROUP}`);
      const r = await c.cmd('f', `UID FETCH 1:${UIDS + 1} (UID FLAGS)`);
      c.close();
      const flags = new Map<number, Set<string>>();
      for (const m of r.matchAll(/UID (\d+) FLAGS \(([^)]*)\)/g)) flags.set(Number(m[1]), new Set(m[2]!.split(' ').filter(Boolean)));
      for (const [kw, uids] of added) for (const u of uids) expect(flags.get(u)?.has(kw), `${kw} on UID ${u} (port ${f.port})`).toBe(true);
      // refused conditional stores left no trace
      for (const [u, set] of flags) if (u === UIDS + 1) expect(set.size).toBe([...added.entries()].filter(([k, v]) => k.startsWith('$c') && v.has(u)).length);
    }
    const refused = conditional.filter((x) => x.modified).length;
    console.log(`[concurrent-stores] ${SESSIONS} sessions × ${STORES_PER_SESSION}: all acknowledged keywords present on both front-ends; conditional STOREs refused with MODIFIED: ${refused}/${conditional.length}`);
    for (const f of fronts) expect(f.crashed).toBeNull();
  }, 180_000);
});
