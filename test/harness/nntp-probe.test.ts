/**
 * The harness's raw NNTP probe against a scripted fake server that writes its
 * answers in awkward pieces (1 byte, across CRLF and terminators, big blocks).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Prng } from '../corpus/prng.js';
import { NntpProbe } from './nntp-probe.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** Start a fake server that answers each command line with `answer(line)`, written in pieces. */
async function fake(answer: (line: string) => Buffer, pieces: (rng: Prng) => number): Promise<number> {
  const rng = new Prng(42);
  server = createServer((sock: Socket) => {
    let pending = Buffer.alloc(0);
    const out: Buffer[] = [Buffer.from('200 fake ready\r\n')];
    const flush = (): void => {
      const all = Buffer.concat(out.splice(0));
      for (let i = 0; i < all.length; ) {
        const n = Math.max(1, Math.min(all.length - i, pieces(rng)));
        sock.write(all.subarray(i, i + n));
        i += n;
      }
    };
    flush();
    sock.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      for (let eol = pending.indexOf('\r\n'); eol >= 0; eol = pending.indexOf('\r\n')) {
        const line = pending.subarray(0, eol).toString('latin1');
        pending = pending.subarray(eol + 2);
        out.push(answer(line));
        if (line === 'QUIT') {
          flush();
          sock.end();
          return;
        }
      }
      flush();
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  const a = server!.address();
  return typeof a === 'object' && a ? a.port : 0;
}

const BIG = Buffer.alloc(3 * 1024 * 1024 + 7, 'x');
for (let i = 100; i < BIG.length; i += 100) BIG.write('\r\n', i - 2, 'latin1');
BIG.write('\r\n', BIG.length - 2, 'latin1');

function answer(line: string): Buffer {
  if (line === 'LIST') return Buffer.from('215 list\r\n..dot\r\nplain\r\n.\r\n');
  if (line === 'EMPTY') return Buffer.from('215 nothing\r\n.\r\n');
  if (line === 'BIG') return Buffer.concat([Buffer.from('220 big\r\n'), BIG, Buffer.from('.\r\n')]);
  if (line === 'MISSING') return Buffer.from('430 no such article\r\n');
  if (line === 'QUIT') return Buffer.from('205 bye\r\n');
  return Buffer.from('500 what?\r\n');
}

describe('NntpProbe', () => {
  for (const [name, pieces] of [
    ['one byte at a time', () => 1],
    ['random pieces', (r: Prng) => r.range(1, 9000)],
  ] as const) {
    it(`parses pipelined single- and multi-line answers sent ${name}`, async () => {
      const port = await fake(answer, pieces);
      const p = await NntpProbe.connect('127.0.0.1', port);
      expect(p.greeting).toBe('200 fake ready');
      const [list, empty, missing, big, other] = await Promise.all([
        p.command('LIST', [215]),
        p.command('EMPTY', [215]),
        p.command('MISSING', [220]),
        name === 'one byte at a time' ? p.command('LIST', [215]) : p.command('BIG', [220]),
        p.command('FOO'),
      ]);
      expect(list).toEqual({ code: 215, line: '215 list', data: Buffer.from('..dot\r\nplain\r\n') });
      expect(empty!.data!.length).toBe(0);
      expect(missing).toEqual({ code: 430, line: '430 no such article' });
      if (name !== 'one byte at a time') expect(big!.data!.equals(BIG)).toBe(true);
      expect(other!.code).toBe(500);
      await p.close();
    });
  }

  it('rejects pending commands when the server closes, and a bad greeting', async () => {
    server = createServer((s) => {
      s.write('201 ready\r\n');
      s.on('data', () => s.destroy());
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const addr = server.address();
    const p = await NntpProbe.connect('127.0.0.1', typeof addr === 'object' && addr ? addr.port : 0);
    await expect(p.command('GROUP x')).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(p.command('GROUP y')).rejects.toMatchObject({ code: 'CLOSED' });
    await p.close();
    await new Promise<void>((r) => server!.close(() => r()));
    server = createServer((s) => s.end('502 go away\r\n'));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const a = server.address();
    await expect(NntpProbe.connect('127.0.0.1', typeof a === 'object' && a ? a.port : 0)).rejects.toMatchObject({ code: 'BAD_GREETING' });
  });
});
