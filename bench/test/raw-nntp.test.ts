/**
 * rawArticles: counts every article and its data bytes whatever the chunking,
 * including a terminator split across reads and a body line "..", and fails
 * on a non-220 answer.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { rawArticles } from '../raw-nntp.js';

let server: Server | undefined;
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** Wire bytes of article n (dot-stuffed data without the terminator). */
const data = (n: number): string => `Subject: a${n}\r\nMessage-ID: <${n}@x>\r\n\r\n..stuffed\r\nline ${'x'.repeat(n * 7)}\r\n`;

async function fakeInn(chunk: number, missing?: number): Promise<number> {
  server = createServer((s) => {
    sockets.add(s);
    s.write('200 fake\r\n');
    let pending = '';
    let out = Promise.resolve();
    s.on('data', (d: Buffer) => {
      pending += d.toString('latin1');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const cmd = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        let reply: string;
        if (cmd.startsWith('GROUP')) reply = '211 3 1 3 g\r\n';
        else if (cmd === 'QUIT') reply = '205 bye\r\n';
        else {
          const n = Number(cmd.split(' ')[1]);
          reply = n === missing ? '423 no such article\r\n' : `220 ${n} <${n}@x>\r\n${data(n)}.\r\n`;
        }
        const buf = Buffer.from(reply, 'latin1');
        out = out.then(async () => {
          for (let i = 0; i < buf.length && !s.destroyed; i += chunk) {
            s.write(buf.subarray(i, i + chunk));
            if (chunk < 8) await new Promise((r) => setImmediate(r));
          }
        });
      }
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  const a = server!.address();
  return typeof a === 'object' && a ? a.port : 0;
}

describe('rawArticles', () => {
  for (const chunk of [1, 3, 5, 1 << 20]) {
    it(`counts articles and data bytes, chunks of ${chunk}`, async () => {
      const port = await fakeInn(chunk);
      const nums = [1, 2, 3, 4, 5, 6, 7];
      const t = await rawArticles(port, 'g', nums, 3);
      expect(t.articles).toBe(nums.length);
      expect(t.bytes).toBe(nums.reduce((n, k) => n + Buffer.byteLength(data(k)), 0));
    });
  }
  it('rejects on a non-220 answer', async () => {
    const port = await fakeInn(1 << 20, 2);
    await expect(rawArticles(port, 'g', [1, 2, 3], 2)).rejects.toThrow(/423/);
  });
});
