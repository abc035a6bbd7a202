/**
 * FETCH of whole-article byte ranges (fetch/bodies.ts, rendered per batch
 * from Buffers the backend hands out at once): the same responses, byte for
 * byte, as the general path (a backend without `bytes`), for every item the
 * batch path answers, with bodies at hand, behind a promise, as a stream,
 * and an article that vanished.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixtureBackend } from './fixture-backend.js';
import { startImap, type TestServer } from './harness.js';
import { RawClient, tagged } from './raw-client.js';
import { BackendError, type ByteRange, type MailboxHandle } from '../../src/export/interface.js';

/** The fixture with `bytes`: UID % 3 = 1 a Buffer at once, 2 a promised Buffer, 0 a promised stream. */
class BytesBackend extends FixtureBackend {
  bytesCalls = 0;
  override async open(name: string): Promise<MailboxHandle> {
    const h = await super.open(name);
    return {
      ...h,
      bytes: (uid: number, range?: ByteRange) => {
        this.bytesCalls++;
        const a = this.boxes.get(name)?.articles.get(uid);
        if (!a) throw new BackendError('NONEXISTENT', `uid ${uid}`);
        const b = range ? a.subarray(range.start, range.end) : a;
        if (uid % 3 === 1) return b;
        if (uid % 3 === 2) return Promise.resolve(b);
        return Promise.resolve(Readable.from([b.subarray(0, 3), b.subarray(3)]));
      },
    };
  }
}

/**
 * The fixture with `lend` as well: UID % 3 = 1 lent (from one scratch buffer
 * overwritten by every lend, as lmdb-js's read buffer is), 2 lent one octet
 * short (not what the head announces: the other way), 0 not lent (then
 * `bytes`: at UID % 3 = 0 a stream, as for a long article).
 */
class LendingBackend extends BytesBackend {
  lent = 0;
  private scratch = Buffer.alloc(64 * 1024);
  override async open(name: string): Promise<MailboxHandle> {
    const h = await super.open(name);
    return {
      ...h,
      lend: (uid: number, range: ByteRange | undefined, use: (bytes: Buffer) => void) => {
        const a = this.boxes.get(name)?.articles.get(uid);
        if (!a) throw new BackendError('NONEXISTENT', `uid ${uid}`);
        if (uid % 3 === 0) return false;
        const b = range ? a.subarray(range.start, range.end) : a;
        const n = uid % 3 === 2 ? Math.max(0, b.length - 1) : b.length;
        b.copy(this.scratch, 0, 0, n);
        use(this.scratch.subarray(0, n));
        this.scratch.fill(0x58, 0, n); // gone after the call
        this.lent++;
        return true;
      },
    };
  }
}

const article = (n: number): Buffer =>
  Buffer.concat([
    Buffer.from(`Subject: article ${n}\r\nFrom: A <a@example.org>\r\nX-N: ${n}\r\n\r\nBody ${n}, some text.\r\n`, 'latin1'),
    n % 4 === 0 ? Buffer.from([0x00, 0x01, 0x0d, 0x0a]) : Buffer.from('line 2\r\n'),
  ]);

/** Serves each backend on its own server with one client logged in and g.x EXAMINEd (pushed to `servers` and `clients`, in order). */
async function serveBoth(backends: Parameters<typeof startImap>[0][], servers: TestServer[], clients: RawClient[]): Promise<void> {
  for (const b of backends) {
    const srv = await startImap(b);
    servers.push(srv);
    const c = await RawClient.connect(srv.port);
    clients.push(c);
    expect(tagged(await c.cmd('L', 'LOGIN alice secret'), 'L')).toMatch(/^L OK/);
    expect(tagged(await c.cmd('S', 'EXAMINE g.x'), 'S')).toMatch(/^S OK/);
  }
}

describe('FETCH of article bytes, batch path', () => {
  let fast: BytesBackend;
  let plain: FixtureBackend;
  const servers: TestServer[] = [];
  const clients: RawClient[] = [];
  beforeAll(async () => {
    fast = new BytesBackend();
    plain = new FixtureBackend();
    for (const b of [fast, plain]) for (let n = 1; n <= 9; n++) b.add('g.x', n, article(n));
    await serveBoth([fast, plain], servers, clients);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    for (const s of servers) await s.close();
  });

  const both = async (cmd: string): Promise<[string, string]> => {
    const [a, b] = await Promise.all(clients.map((c) => c.cmd('a', cmd)));
    return [a!, b!];
  };

  it.each([
    'UID FETCH 1:9 (BODY.PEEK[])',
    'UID FETCH 1:9 (UID RFC822.SIZE BODY.PEEK[TEXT]<3.20> BODY.PEEK[HEADER.FIELDS (Subject)] FLAGS)',
    'FETCH 1:9 (RFC822.HEADER RFC822.TEXT RFC822)',
    'UID FETCH 1:9 (BINARY.PEEK[] BODY.PEEK[]<0.5> BODY.PEEK[]<5000.10> BINARY.PEEK[]<40.20>)',
    'FETCH 2,4,6 (BODY.PEEK[TEXT] BODY.PEEK[HEADER] BODY.PEEK[HEADER.FIELDS.NOT (X-N)])',
  ])('%s: as the general path answers it', async (cmd) => {
    const before = fast.bytesCalls;
    const [got, want] = await both(cmd);
    expect(tagged(want, 'a')).toMatch(/^a OK/);
    expect(got).toBe(want);
    expect(fast.bytesCalls).toBeGreaterThan(before); // the batch path read through `bytes`
  });

  it('leaves out an article that vanished (bytes throw NONEXISTENT), at hand or not, and sends the others', async () => {
    for (const b of [fast, plain]) {
      b.boxes.get('g.x')!.articles.delete(4);
      b.boxes.get('g.x')!.articles.delete(6);
    }
    const [got, want] = await both('UID FETCH 1:9 (UID BODY.PEEK[])');
    expect(got).not.toContain('* 4 FETCH');
    expect(got).not.toContain('* 6 FETCH');
    expect(got).toContain(`* 7 FETCH (UID 7 BODY[] {${article(7).length}}\r\n${article(7).toString('latin1')})\r\n`);
    expect(got).toBe(want);
  });

  it('after ENABLE UIDONLY: UIDFETCH responses led by the UID (RFC 9586), as the general path writes them', async () => {
    const [en] = await both('ENABLE UIDONLY');
    expect(en).toContain('* ENABLED UIDONLY');
    const [got, want] = await both('UID FETCH 1:9 (BODY.PEEK[] RFC822.SIZE)');
    expect(got).toContain(`* 7 UIDFETCH (BODY[] {${article(7).length}}`);
    expect(got).toBe(want);
  });
});

describe('FETCH of article bytes, lent bodies', () => {
  let lending: LendingBackend;
  const servers: TestServer[] = [];
  const clients: RawClient[] = [];
  /** Articles 1–9 as above, 10–69 of about 5 KB each: 300 KB, several output chunks. */
  const long = (n: number): Buffer => Buffer.concat([article(n), Buffer.alloc(5000 + n, 0x61 + (n % 20)), Buffer.from('\r\n')]);
  beforeAll(async () => {
    lending = new LendingBackend();
    const plain = new FixtureBackend();
    for (const b of [lending, plain]) {
      for (let n = 1; n <= 9; n++) b.add('g.x', n, article(n));
      for (let n = 10; n <= 69; n++) b.add('g.x', n, long(n));
    }
    await serveBoth([lending, plain], servers, clients);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    for (const s of servers) await s.close();
  });

  it.each([
    ['UID FETCH 1:69 (BODY.PEEK[])', 300_000],
    ['UID FETCH 1:69 (UID RFC822.SIZE BODY.PEEK[TEXT]<3.20> BODY.PEEK[HEADER.FIELDS (Subject)] FLAGS)', 0],
    ['FETCH 1:69 (RFC822.HEADER RFC822.TEXT RFC822)', 600_000],
    ['UID FETCH 1:69 (BINARY.PEEK[] BODY.PEEK[]<0.5> BODY.PEEK[]<5000.10> BINARY.PEEK[]<40.20>)', 300_000],
    // an empty partial (no read) beside a lent TEXT, FLAGS between them
    ['UID FETCH 1:69 (BODY.PEEK[]<99999.5> FLAGS BODY.PEEK[TEXT])', 300_000],
  ])('%s: as the general path answers it, lent, refused and streamed bodies mixed (over several written chunks)', async (cmd, atLeast) => {
    const before = lending.lent;
    const [got, want] = await Promise.all(clients.map((c) => c.cmd('a', cmd)));
    expect(tagged(want!, 'a')).toMatch(/^a OK/);
    expect(got!.length).toBeGreaterThanOrEqual(atLeast);
    expect(got).toBe(want);
    expect(lending.lent).toBeGreaterThan(before); // the lent way was taken
  });

  it('leaves out an article that vanished (lend throws NONEXISTENT) and sends the others', async () => {
    lending.boxes.get('g.x')!.articles.delete(13);
    const got = await clients[0]!.cmd('a', 'UID FETCH 10:16 (UID BODY.PEEK[])');
    expect(tagged(got, 'a')).toMatch(/^a OK/);
    expect(got).not.toContain('* 4 FETCH (UID 13 ');
    expect(got).toContain(`(UID 16 BODY[] {${long(16).length}}\r\n${long(16).toString('latin1')})\r\n`);
  });
});
