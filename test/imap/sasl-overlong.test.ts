/**
 * A SASL response line (RFC 9051 §6.2.2) longer than the line limit is
 * answered at once — BAD for the AUTHENTICATE — and the session reads the
 * next line as the next command, as it does for any over-long command line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixtureBackend } from './fixture-backend.js';
import { startImap, type TestServer } from './harness.js';
import { RawClient, tagged } from './raw-client.js';

const doneRe = (tag: string): RegExp => new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`);

describe('over-long AUTHENTICATE continuation lines', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startImap(new FixtureBackend());
  });
  afterAll(async () => srv.close());

  /** Start AUTHENTICATE `mech` and wait for its `+`. */
  async function started(mech: string): Promise<RawClient> {
    const c = await RawClient.connect(srv.port);
    c.write(`a AUTHENTICATE ${mech}\r\n`);
    expect(await c.settle((t) => t.includes('\r\n'))).toBe('+ \r\n');
    c.take();
    return c;
  }

  /** After the response line was sent: the AUTHENTICATE is answered, then `x NOOP` gets `x OK`. */
  async function answeredAndInSync(c: RawClient, status: RegExp): Promise<void> {
    const reply = await c.settle((t) => doneRe('a').test(t));
    expect(tagged(reply, 'a'), `answered before any further command: ${JSON.stringify(reply.slice(0, 200))}`).toMatch(status);
    c.take();
    const noop = await c.cmd('x', 'NOOP');
    expect(tagged(noop, 'x'), noop).toMatch(/^x OK/);
    expect(noop, 'nothing left over from the long line').not.toMatch(/^\* BAD/m);
    expect(tagged(await c.cmd('y', 'CAPABILITY'), 'y'), 'still not authenticated, still serving').toMatch(/^y OK/);
    expect(tagged(await c.cmd('z', 'LOGIN alice secret'), 'z')).toMatch(/^z OK/);
    c.close();
  }

  it('a 65,000-octet line (within the limit) is a BAD response and the session stays in sync', async () => {
    const c = await started('PLAIN');
    c.write('A'.repeat(65_000) + '\r\n');
    await answeredAndInSync(c, /^a BAD/);
  });

  it('a 66,000-octet line gets BAD for the AUTHENTICATE, and the next line is a command again', async () => {
    const c = await started('PLAIN');
    c.write('A'.repeat(66_000) + '\r\n');
    await answeredAndInSync(c, /^a BAD/);
  });

  it('a 200,000-octet line, ANONYMOUS as well', async () => {
    const c = await started('ANONYMOUS');
    c.write('QUFB'.repeat(50_000) + '\r\n');
    await answeredAndInSync(c, /^a BAD/);
  });

  it('a 100,000-octet line split across many TCP writes', async () => {
    const c = await started('PLAIN');
    const line = Buffer.from('B'.repeat(100_000) + '\r\n');
    for (let i = 0; i < line.length; i += 997) {
      c.write(line.subarray(i, i + 997));
      // let each piece go out as its own segment
      await new Promise((r) => setImmediate(r));
    }
    await answeredAndInSync(c, /^a BAD/);
  });

  it('the long line and the next command in one write: BAD, then the command runs', async () => {
    const c = await started('PLAIN');
    c.write(`${'C'.repeat(70_000)}\r\nx NOOP\r\n`);
    const r = await c.settle((t) => doneRe('x').test(t));
    expect(tagged(r, 'a'), r.slice(0, 300)).toMatch(/^a BAD/);
    expect(tagged(r, 'x'), r.slice(0, 300)).toMatch(/^x OK/);
    expect(r.indexOf('\r\na BAD') < 0 ? r.indexOf('a BAD') : r.indexOf('\r\na BAD')).toBeLessThan(r.indexOf('x OK'));
    c.close();
  });
});
