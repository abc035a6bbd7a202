/**
 * RawImap framing: the tagged response is found after literals of any size,
 * whatever the TCP chunking, and text inside a literal that looks like a
 * tagged line (or a literal marker) does not end the response early.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RawImap } from '../imap-client.js';
import { searchHits } from '../session.js';
import { median, ratio } from '../report.js';
import { percentile } from '../load-sessions.js';

let server: Server | undefined;
/** Server-side sockets of the current fake (server.close() alone waits for them). */
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** A server that greets, then answers every command with `reply(tag)` written in `chunk`-byte pieces. */
async function fake(reply: (tag: string) => Buffer, chunk: number): Promise<number> {
  server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.setNoDelay(true);
    s.write('* OK fake\r\n');
    s.on('data', async (d: Buffer) => {
      const tag = d.toString('latin1').split(' ')[0]!;
      const out = reply(tag);
      for (let i = 0; i < out.length; i += chunk) {
        s.write(out.subarray(i, i + chunk));
        // Yield so the pieces arrive as separate reads.
        if (chunk < 64) await new Promise((r) => setImmediate(r));
      }
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  const addr = server!.address();
  return typeof addr === 'object' && addr ? addr.port : 0;
}

const tricky = (tag: string): Buffer => {
  const lit = `${tag} OK fake end inside the literal\r\n* 9 FETCH {5}\r\n`;
  return Buffer.from(
    `* 1 FETCH (UID 1 BODY[] {${Buffer.byteLength(lit)}}\r\n${lit} FLAGS (\\Seen))\r\n` +
      `* 2 FETCH (UID 2 BODY[] {0}\r\n)\r\n` +
      `* 3 FETCH (UID 3 BINARY[] ~{3}\r\nx\r\n)\r\n` +
      `* SEARCH 4 5 6\r\n${tag} OK FETCH done\r\n`,
    'latin1',
  );
};

describe('RawImap', () => {
  for (const chunk of [1, 2, 3, 7, 1 << 20]) {
    it(`finds the tagged line after literals, chunks of ${chunk} bytes`, async () => {
      const port = await fake(tricky, chunk);
      const c = await RawImap.connect('127.0.0.1', port);
      try {
        const want = tricky('B1');
        const r = await c.command('UID FETCH 1:3 BODY[]', { keep: true });
        expect(r.status).toBe('OK');
        expect(r.text).toBe('OK FETCH done');
        expect(r.responses).toBe(4);
        expect(r.bytes).toBe(want.length);
        expect(searchHits(r)).toBe(3);
        // The next command still works: no bytes were left half-parsed.
        const r2 = await c.command('NOOP');
        expect(r2.text).toBe('OK FETCH done');
      } finally {
        c.close();
      }
    });
  }

  it('reports NO and BAD as statuses and rejects in ok()', async () => {
    let n = 0;
    const port = await fake((tag) => Buffer.from(`${tag} ${++n === 1 ? 'NO [NONEXISTENT] gone' : 'BAD what'}\r\n`), 1 << 20);
    const c = await RawImap.connect('127.0.0.1', port);
    try {
      expect((await c.command('X')).status).toBe('NO');
      await expect(c.ok('Y')).rejects.toThrow(/BAD what/);
    } finally {
      c.close();
    }
  });

  it('rejects a pending command when the server drops the connection', async () => {
    const port = await fake(() => Buffer.alloc(0), 1);
    const c = await RawImap.connect('127.0.0.1', port);
    try {
      const p = c.command('X');
      await new Promise((r) => setTimeout(r, 20));
      for (const s of sockets) s.destroy();
      await expect(p).rejects.toThrow(/closed/);
    } finally {
      c.close();
    }
  });
});

describe('RawImap during IDLE', () => {
  it('hands untagged lines and the continuation to the hooks while IDLE is pending, and DONE ends it', async () => {
    // IDLE: "+ idling", then an update; DONE (a line of its own) gets the tagged OK
    server = createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.write('* OK fake\r\n');
      let tag = '';
      s.on('data', (d: Buffer) => {
        const line = d.toString('latin1').trim();
        if (line.endsWith(' IDLE')) {
          tag = line.split(' ')[0]!;
          s.write('+ idling\r\n');
          setTimeout(() => s.write('* 7 FETCH (UID 7 FLAGS (\\Flagged))\r\n* 8 EXISTS\r\n'), 10);
        } else if (line === 'DONE') s.write(`${tag} OK IDLE terminated\r\n`);
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const port = (server!.address() as { port: number }).port;
    const c = await RawImap.connect('127.0.0.1', port);
    try {
      const seen: string[] = [];
      let continued = 0;
      const two = new Promise<void>((res) => {
        c.onUntagged = (l) => {
          seen.push(l);
          if (seen.length === 2) res();
        };
      });
      c.onContinuation = () => continued++;
      const idle = c.command('IDLE');
      await two;
      c.sendLine('DONE');
      const r = await idle;
      expect(r.status).toBe('OK');
      expect(r.responses).toBe(2);
      expect(continued).toBe(1);
      expect(seen).toEqual(['* 7 FETCH (UID 7 FLAGS (\\Flagged))', '* 8 EXISTS']);
    } finally {
      c.close();
    }
  });
});

describe('report arithmetic', () => {
  it('percentile is the nearest rank', () => {
    const xs = Array.from({ length: 200 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(100);
    expect(percentile(xs, 99)).toBe(198);
    expect(percentile([5], 99)).toBe(5);
    expect(percentile([], 50)).toBeNaN();
  });
  it('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
  it('ratio is our cost over the upstream cost for times and rates', () => {
    expect(ratio({ section: '', operation: '', unit: 's', value: 2, upstream: 1 })).toBe(2);
    expect(ratio({ section: '', operation: '', unit: 'cmd/s', value: 2, upstream: 1 })).toBe(0.5);
    expect(ratio({ section: '', operation: '', unit: 's', value: 'n/a', upstream: 1 })).toBeUndefined();
  });
  it('ESEARCH ALL sets are counted', () => {
    const r = { status: 'OK' as const, text: '', bytes: 0, responses: 1, seconds: 0, lines: ['* ESEARCH (TAG "B1") UID ALL 1:3,7,10:12'] };
    expect(searchHits(r)).toBe(7);
  });
});
