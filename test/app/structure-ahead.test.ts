/**
 * BODYSTRUCTURE rendered ahead on a real front-end (the sample archive, index
 * on, crawl at once): each structure the index crawler parses reaches the
 * server's render cache through Backend.onStructure, so once the crawl is
 * done every article's BODYSTRUCTURE is rendered before any client asked for
 * one, and the first listing answers exactly those renderings.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../harness/stack.js';
import { Peer } from '../imap/peer.js';
import type { ServerContext } from '../../src/imap/context.js';

const GROUP = 'sample.discuss';

let stack: Stack | undefined;
let peer: Peer | undefined;
afterEach(async () => {
  peer?.close();
  peer = undefined;
  await stack?.close();
  stack = undefined;
});

describe('BODYSTRUCTURE rendered ahead by the crawl', () => {
  it('renders every crawled article before the first listing, which answers those renderings', async () => {
    stack = await startStack({ config: { index: { crawlDelayMs: 0 } } });
    // the server's own render cache (not reachable over the wire)
    const cache = (stack.nf.imap as unknown as { ctx: ServerContext }).ctx.renderCache;
    peer = await Peer.open(stack.nf.port);
    expect(await peer.cmd('l', 'LOGIN alice secret')).toMatch(/^l OK/);
    expect(await peer.cmd('s', `EXAMINE ${GROUP}`)).toMatch(/^s OK/);
    const exists = Number(/\* (\d+) EXISTS/.exec(peer.text)![1]);
    const uv = Number(/UIDVALIDITY (\d+)/.exec(peer.text)![1]);
    expect(await peer.cmd('u', 'UID SEARCH ALL')).toMatch(/^u OK/);
    const uids = /\* SEARCH ([\d ]+)/.exec(peer.text)![1]!.trim().split(' ').map(Number);
    expect(uids.length).toBe(exists);

    // no client asked for a structure: the crawl renders them (it runs in the background)
    const end = Date.now() + 60_000;
    while (uids.some((u) => cache.renderedStructure(GROUP, uv, u, true, false) === undefined)) {
      if (Date.now() > end) throw new Error('not every BODYSTRUCTURE was rendered ahead');
      await new Promise((r) => setTimeout(r, 100));
    }
    const ahead = new Map(uids.map((u) => [u, cache.renderedStructure(GROUP, uv, u, true, false)!.toString('latin1')]));

    const from = peer.text.length;
    expect(await peer.cmd('f', 'UID FETCH 1:* (BODYSTRUCTURE)', 30_000)).toMatch(/^f OK/);
    const listed = [...peer.text.slice(from).matchAll(/^\* \d+ FETCH \(UID (\d+) BODYSTRUCTURE (.*)\)\r$/gm)];
    expect(listed.length).toBe(exists);
    for (const [, uid, body] of listed) expect(body).toBe(ahead.get(Number(uid)));
  }, 90_000);
});
