/**
 * The INN ceiling without our NNTP client: ARTICLE (or HEAD) pipelined over a plain
 * socket, counting bytes up to each terminating ".\r\n" line and nothing more
 * (no un-stuffing, no streams). Next to the NntpClient rows it shows how much
 * of a transfer's time is the client's own work.
 *
 *   C: GROUP g / ARTICLE 1 / ARTICLE 2 / …  (`window` commands in flight)
 *   S: 211 … / 220 … <data> . / 220 … <data> . / …
 *
 * Resolves with the transfer; rejects on a non-2xx answer, a closed socket or
 * RAW_TIMEOUT_MS without data. The socket is always destroyed before returning.
 */
import { connect } from 'node:net';
import type { Transfer } from './upstream.js';

/** No byte for this long ⇒ give up (INN answers in ms; a stall is a bug). */
const RAW_TIMEOUT_MS = 60_000;
const TERMINATOR = Buffer.from('\r\n.\r\n', 'latin1');

/** ARTICLE (220) or HEAD (221): both answer a multi-line block ending in ".\r\n". */
export type RawVerb = 'ARTICLE' | 'HEAD';

export function rawArticles(port: number, group: string, numbers: readonly number[], window: number, verb: RawVerb = 'ARTICLE'): Promise<Transfer> {
  const okCode = verb === 'ARTICLE' ? '220 ' : '221 ';
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.setNoDelay(true);
    sock.setTimeout(RAW_TIMEOUT_MS);
    let carry = Buffer.alloc(0);
    /** 'greeting' and 'group' expect one status line; 'status' an ARTICLE status line; 'data' article bytes. */
    let state: 'greeting' | 'group' | 'status' | 'data' = 'greeting';
    let sent = 0;
    let done = 0;
    let bytes = 0;
    let t0 = 0;
    const fail = (msg: string): void => {
      sock.destroy();
      reject(new Error(`raw NNTP: ${msg}`));
    };
    const send = (): void => {
      let out = '';
      while (sent < numbers.length && sent - done < window) out += `${verb} ${numbers[sent++]}\r\n`;
      if (out) sock.write(out);
    };
    sock.on('timeout', () => fail('timeout'));
    sock.on('error', (e) => fail(e.message));
    sock.on('close', () => {
      if (done < numbers.length) fail(`closed after ${done} articles`);
    });
    sock.on('data', (chunk: Buffer) => {
      let buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      let i = 0;
      for (;;) {
        if (state === 'data') {
          const t = buf.indexOf(TERMINATOR, i);
          if (t < 0) {
            bytes += buf.length - i;
            // Keep the last bytes: a terminator may straddle chunks.
            const keep = Math.min(4, buf.length - i);
            bytes -= keep;
            carry = Buffer.from(buf.subarray(buf.length - keep));
            return;
          }
          bytes += t + 2 - i;
          i = t + TERMINATOR.length;
          state = 'status';
          if (++done === numbers.length) {
            const seconds = (performance.now() - t0) / 1000;
            sock.end('QUIT\r\n');
            sock.destroy();
            resolve({ seconds, articles: done, bytes });
            return;
          }
          send();
          continue;
        }
        const nl = buf.indexOf(0x0a, i);
        if (nl < 0) {
          carry = Buffer.from(buf.subarray(i));
          return;
        }
        const line = buf.toString('latin1', i, nl).trimEnd();
        i = nl + 1;
        if (state === 'greeting') {
          if (!/^20[01] /.test(line)) return fail(`greeting ${line}`);
          state = 'group';
          sock.write(`GROUP ${group}\r\n`);
        } else if (state === 'group') {
          if (!line.startsWith('211 ')) return fail(`GROUP: ${line}`);
          state = 'status';
          t0 = performance.now();
          send();
        } else {
          if (!line.startsWith(okCode)) return fail(`${verb}: ${line}`);
          state = 'data';
          // Search from the status line's own CRLF, so even an empty body ends in "\r\n.\r\n";
          // those 2 bytes are not data.
          i = nl - 1;
          bytes -= 2;
        }
        buf = buf.subarray(i);
        i = 0;
      }
    });
  });
}
