/**
 * A large listing (fetch/listing.ts `writeListing`) is rendered a chunk at a
 * time into an Outbox's reused buffers: the bytes must be exactly those of
 * the same items fetched one message at a time (the small-batch path),
 * including a message whose ENVELOPE alone is longer than a chunk and one
 * longer than the headroom left in a chunk.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixtureBackend } from '../fixture-backend.js';
import { startImap, type TestServer } from '../harness.js';
import { RawClient, tagged } from '../raw-client.js';

const COUNT = 700;
/** Subject lengths that cross the 4 KiB headroom and the 64 KiB chunk. */
const LONG: Record<number, number> = { 150: 6_000, 300: 70_000, 301: 3_900, 699: 20_000 };

const article = (n: number): Buffer => {
  const subject = LONG[n] !== undefined ? `s${n} ${'x'.repeat(LONG[n]!)}` : `article number ${n} about ${n % 7 === 0 ? 'sevens' : 'others'}`;
  return Buffer.from(`Subject: ${subject}\r\nFrom: Poster ${n} <p${n}@example.org>\r\nMessage-ID: <m${n}@example.org>\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\n\r\nBody ${n}.\r\n`, 'latin1');
};

describe('a listing of many messages, rendered in reused chunks', () => {
  let srv: TestServer;
  let c: RawClient;
  let backend: FixtureBackend;
  beforeAll(async () => {
    backend = new FixtureBackend();
    for (let n = 1; n <= COUNT; n++) backend.add('g.big', n, article(n));
    srv = await startImap(backend);
    c = await RawClient.connect(srv.port);
    expect(tagged(await c.cmd('L', 'LOGIN alice secret'), 'L')).toMatch(/^L OK/);
    expect(tagged(await c.cmd('S', 'EXAMINE g.big'), 'S')).toMatch(/^S OK/);
  });
  afterAll(async () => {
    c.close();
    await srv.close();
  });

  const untagged = (out: string, tag: string): string => out.slice(0, out.lastIndexOf(`${tag} OK`));

  it('the same bytes as one FETCH per message, twice (the chunks are reused)', async () => {
    const items = '(UID FLAGS ENVELOPE RFC822.SIZE INTERNALDATE)';
    let one = '';
    for (let n = 1; n <= COUNT; n++) {
      const r = await c.cmd(`o${n}`, `UID FETCH ${n} ${items}`);
      expect(tagged(r, `o${n}`)).toMatch(/OK/);
      one += untagged(r, `o${n}`);
    }
    expect(one.length).toBeGreaterThan(3 * 64 * 1024); // several chunks
    // one batch, then the batches of a real backend (the output goes on from batch to batch)
    for (const [tag, batch] of [['a', Infinity], ['b', Infinity], ['c', 97], ['d', 500]] as const) {
      backend.readBatch = batch;
      const all = await c.cmd(tag, `UID FETCH 1:* ${items}`);
      expect(tagged(all, tag)).toMatch(new RegExp(`^${tag} OK`));
      expect(untagged(all, tag)).toBe(one);
    }
    backend.readBatch = Infinity;
  });

  it('FLAGS alone (a few octets a message) in batches: every message once, in order', async () => {
    backend.readBatch = 64;
    const all = await c.cmd('f', 'UID FETCH 1:* (UID FLAGS)');
    backend.readBatch = Infinity;
    expect(tagged(all, 'f')).toMatch(/^f OK/);
    const want = Array.from({ length: COUNT }, (_, i) => `* ${i + 1} FETCH (UID ${i + 1} FLAGS ())\r\n`).join('');
    expect(untagged(all, 'f')).toBe(want);
  });
});
