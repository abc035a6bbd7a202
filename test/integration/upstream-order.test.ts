/**
 * UIDs agree across front-ends whatever their upstream's numbering (issue 13
 * build item 4, DESIGN invariant 2): two front-ends on one PostgreSQL UID
 * map, each reading its own INN; the second INN got the same articles in the
 * opposite order, so every article has another number there. Whichever
 * front-end sees an article first fixes its UID and the other follows the map:
 *  - the corpus: UIDVALIDITY and UID → Message-ID equal on both, and the
 *    bodies each serves under a UID carry that Message-ID (each front-end reads
 *    its own upstream by its own numbers);
 *  - new articles posted in opposite orders to the two INNs, seen first by the
 *    front-end on the renumbered INN: the same UIDs on both, above every old one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { ChildServer } from '../harness/child-server.js';
import { DIRECT_FROM, FRONTS_USERS, freshArticle, login, select, uidsAndIds } from '../harness/fronts.js';
import type { InnServer } from '../harness/inn.js';
import { startPostgres, type PostgresServer } from '../harness/postgres.js';
import { startStack, type Stack } from '../harness/stack.js';
import { RawClient, tagged } from '../imap/raw-client.js';

const GROUPS = ['comp.lang.misc', 'alt.test'];

let pg: PostgresServer;
let stack: Stack<'none'>;
let inn2: InnServer;
const fes: ChildServer[] = [];
const clients: RawClient[] = [];

beforeAll(async () => {
  pg = await startPostgres({ durable: false });
  stack = await startStack({ frontend: 'none', corpus: { seed: 16, groups: GROUPS, perGroup: 30 }, users: FRONTS_USERS });
  inn2 = await stack.addInn({ groups: GROUPS, articles: [...stack.corpus].reverse().map((a) => a.bytes) });
  const common = { uidmap: pg.url, state: pg.url };
  fes.push(await stack.spawn({ ...common, data: join(stack.dir, 'fe0') }));
  fes.push(await stack.spawn({ ...common, data: join(stack.dir, 'fe1'), upstreams: [{ url: `nntp://127.0.0.1:${inn2.port}` }] }));
}, 600_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await stack?.close();
  await pg?.stop();
}, 180_000);

async function on(i: number): Promise<RawClient> {
  const c = await RawClient.connect(fes[i]!.port, DIRECT_FROM);
  clients.push(c);
  return login(c, 'alice');
}

/** Message-ID of each UID's full article as served (BODY[] of the given UIDs). */
async function servedIds(c: RawClient, uids: number[]): Promise<Map<number, string>> {
  const r = await c.cmd('B', `UID FETCH ${uids.join(',')} (BODY.PEEK[])`);
  expect(tagged(r, 'B')).toMatch(/^B OK/);
  const out = new Map<number, string>();
  const re = /\* \d+ FETCH \(UID (\d+) BODY\[\] \{\d+\}\r\n[\s\S]*?\r\nMessage-ID:\s*(<[^>\r\n]*>)/gi;
  for (let m = re.exec(r); m; m = re.exec(r)) out.set(Number(m[1]), m[2]!);
  return out;
}

describe('two front-ends, one UID map, upstreams numbering the same articles differently', () => {
  it('agree on every UID of the corpus, and each serves the right article under it', async () => {
    // the front-end on the renumbered INN looks first: its numbering would win the first-sight rule
    const views = [];
    for (const i of [1, 0]) {
      const c = await on(i);
      const out = new Map<string, { uidValidity: number; ids: Map<number, string> }>();
      for (const g of GROUPS) out.set(g, { uidValidity: (await select(c, g)).uidValidity, ids: await uidsAndIds(c) });
      views.push(out);
      for (const g of GROUPS) {
        await select(c, g);
        const sample = [...out.get(g)!.ids.keys()].filter((_, k) => k % 5 === 0);
        const served = await servedIds(c, sample);
        expect(served.size).toBe(sample.length);
        for (const [u, id] of served) expect(id, `fe${i} ${g} UID ${u}`).toBe(out.get(g)!.ids.get(u));
      }
    }
    for (const g of GROUPS) {
      expect(views[0]!.get(g)!.ids.size).toBe(stack.byGroup.get(g)!.length);
      expect(views[1]!.get(g)).toEqual(views[0]!.get(g));
      // the numbering of the upstream seen first won: UID 1 is the group's last article on the first INN
      const byNumber = stack.byGroup.get(g)!;
      expect(views[0]!.get(g)!.ids.get(1)).toBe(byNumber[byNumber.length - 1]!.messageId);
      expect(views[0]!.get(g)!.ids.get(byNumber.length)).toBe(byNumber[0]!.messageId);
    }
  });

  it('agree on new articles posted in opposite orders, seen first on the renumbered upstream', async () => {
    const fresh = [freshArticle('alt.test', 'order-1'), freshArticle('alt.test', 'order-2'), freshArticle('alt.test', 'order-3')];
    await stack.inn.inject(fresh);
    await inn2.inject([...fresh].reverse());
    const c1 = await on(1);
    await select(c1, 'alt.test');
    const first = await uidsAndIds(c1);
    const c0 = await on(0);
    await select(c0, 'alt.test');
    const second = await uidsAndIds(c0);
    expect(second).toEqual(first);
    const newUids = [...first].filter(([, id]) => id.startsWith('<order-')).map(([u]) => u);
    expect(newUids).toHaveLength(3);
    const oldMax = Math.max(...[...first].filter(([, id]) => !id.startsWith('<order-')).map(([u]) => u));
    expect(Math.min(...newUids)).toBeGreaterThan(oldMax);
    // each serves the right bytes for them from its own upstream
    for (const c of [c0, c1]) {
      const served = await servedIds(c, newUids);
      for (const u of newUids) expect(served.get(u)).toBe(first.get(u));
    }
  });
});
