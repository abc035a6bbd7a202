/**
 * RFC 1733 §2 "offline" model, end to end over a real INN: a client downloads
 * the whole group (UID FETCH 1:* BODY.PEEK[]), goes away, new articles are
 * posted to INN, and the client comes back and downloads only what is new
 * (UID FETCH <old UIDNEXT>:*): exactly the new articles, byte for byte, and
 * nothing it already has. A counting relay in front of INN also shows what
 * newsfront fetched upstream for the incremental download.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCorpus } from '../corpus/generate.js';
import { startStack, type Stack } from '../harness/stack.js';
import { RawClient, bodyLiterals, tagged } from '../imap/raw-client.js';
import { createDeflateRaw, createInflateRaw, constants as zc } from 'node:zlib';

const GROUP = 'models.offline';
const FIRST = 80;
const LATER = 12;

async function download(c: RawClient, tag: string, range: string): Promise<Map<number, Buffer>> {
  c.write(`${tag} UID FETCH ${range} (UID BODY.PEEK[])\r\n`);
  await c.until((t) => new RegExp(`\\r\\n${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`).test(t), 60_000);
  const buf = c.takeBuffer();
  expect(tagged(buf.toString('latin1'), tag)).toMatch(new RegExp(`^${tag} OK`));
  return bodyLiterals(buf);
}

describe('RFC 1733 offline model', () => {
  let stack: Stack;
  let incremental: { upBytes: number; commands: string[]; newBytes?: number } | undefined;
  /** Injected before the first download; `later` while the client is away. */
  let first: Stack['corpus'];
  const later = generateCorpus({ seed: 17332, groups: [GROUP], perGroup: LATER });

  beforeAll(async () => {
    stack = await startStack({ corpus: { seed: 17331, groups: [GROUP], perGroup: FIRST }, relay: true, config: { pollIntervalMs: 1000 } });
    first = stack.corpus;
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('a full download, then an incremental one that moves only the new articles', async () => {
    // session 1: full download
    const c = await RawClient.connect(stack.nf.port);
    await c.cmd('a', 'LOGIN alice secret');
    const sel = await c.cmd('b', `EXAMINE ${GROUP}`);
    const uidValidity = Number(/UIDVALIDITY (\d+)/.exec(sel)![1]);
    const uidNext = Number(/UIDNEXT (\d+)/.exec(sel)![1]);
    const all = await download(c, 'c', '1:*');
    expect(all.size).toBe(FIRST);
    const stored = await stack.inn.storedArticles(first.map((a) => a.messageId));
    first.forEach((a, i) => expect(all.get(i + 1)?.equals(stored[i]!), `UID ${i + 1}`).toBe(true));
    expect(uidNext).toBe(FIRST + 1);
    c.close();

    // offline: new articles arrive upstream
    await stack.inn.inject(later.map((a) => a.bytes));

    // session 2: reconnect, same UIDVALIDITY, wait for the poll to see the new articles
    const d = await RawClient.connect(stack.nf.port);
    await d.cmd('a', 'LOGIN alice secret');
    let status = '';
    for (let i = 0; i < 200; i++) {
      status = await d.cmd('s', `STATUS ${GROUP} (MESSAGES UIDNEXT UIDVALIDITY)`);
      if (status.includes(`MESSAGES ${FIRST + LATER}`)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toContain(`UIDVALIDITY ${uidValidity}`);
    expect(status).toContain(`MESSAGES ${FIRST + LATER}`);
    const sel2 = await d.cmd('b', `EXAMINE ${GROUP}`);
    expect(sel2).toContain(`UIDVALIDITY ${uidValidity}`);
    const in0 = d.socket.bytesRead;
    const up0 = stack.relay.down;
    const sent0 = stack.relay.sent.length;
    const fresh = await download(d, 'c', `${uidNext}:*`);
    const clientBytes = d.socket.bytesRead - in0;
    const upBytes = stack.relay.down - up0;
    const commands = stack.relay.sent.slice(sent0).split('\r\n').filter((l) => /^(ARTICLE|HEAD|BODY) /.test(l));
    incremental = { upBytes, commands };
    expect([...fresh.keys()]).toEqual(later.map((_, i) => FIRST + 1 + i));
    const storedLater = await stack.inn.storedArticles(later.map((a) => a.messageId));
    later.forEach((a, i) => expect(fresh.get(FIRST + 1 + i)?.equals(storedLater[i]!), a.messageId).toBe(true));
    const newBytes = storedLater.reduce((s, b) => s + b.length, 0);
    const oldBytes = stored.reduce((s, b) => s + b.length, 0);
    // the client received the new articles plus per-message framing, nothing old
    expect(clientBytes).toBeGreaterThanOrEqual(newBytes);
    expect(clientBytes).toBeLessThan(newBytes + LATER * 100 + 200);
    // upstream: only new articles are asked for, none of the old ones again
    for (const c of commands) expect(Number(c.split(' ')[1]), c).toBeGreaterThan(FIRST);
    incremental.newBytes = newBytes;
    console.log(
      `[offline] full download ${FIRST} articles ${oldBytes} B; incremental ${fresh.size} articles: client ${clientBytes} B for ${newBytes} B of articles, ` +
        `upstream ${upBytes} B, commands ${commands.filter((c) => c.startsWith('ARTICLE')).length} ARTICLE + ${commands.filter((c) => c.startsWith('HEAD')).length} HEAD`,
    );
    d.close();
  });

  it('the full download with COMPRESS=DEFLATE: the same bytes, fewer on the wire', async () => {
    const c = await RawClient.connect(stack.nf.port);
    try {
      await c.cmd('a', 'LOGIN alice secret');
      await c.cmd('b', `EXAMINE ${GROUP}`);
      expect(tagged(await c.cmd('z', 'COMPRESS DEFLATE'), 'z')).toMatch(/^z OK/);
      c.socket.removeAllListeners('data');
      const wire0 = c.socket.bytesRead;
      const inflate = createInflateRaw();
      const deflate = createDeflateRaw();
      c.socket.pipe(inflate);
      deflate.pipe(c.socket);
      let plain = Buffer.alloc(0);
      const done = new Promise<void>((resolve) => {
        inflate.on('data', (d: Buffer) => {
          plain = Buffer.concat([plain, d]);
          if (/\r\nc (OK|NO|BAD)[^\r\n]*\r\n$/.test(plain.subarray(-200).toString('latin1'))) resolve();
        });
      });
      deflate.write('c UID FETCH 1:* (UID BODY.PEEK[])\r\n');
      deflate.flush(zc.Z_SYNC_FLUSH);
      await done;
      const wire = c.socket.bytesRead - wire0;
      const got = bodyLiterals(plain);
      expect(tagged(plain.toString('latin1'), 'c')).toMatch(/^c OK/);
      expect(got.size).toBe(FIRST + LATER);
      const stored = await stack.inn.storedArticles([...first, ...later].map((a) => a.messageId));
      stored.forEach((b, i) => expect(got.get(i + 1)?.equals(b), `UID ${i + 1}`).toBe(true));
      expect(wire).toBeLessThan(plain.length);
      console.log(`[offline] full download with COMPRESS=DEFLATE: ${plain.length} B of responses in ${wire} B on the wire (${Math.round((100 * wire) / plain.length)} %)`);
      deflate.destroy();
    } finally {
      c.close();
    }
  });

  // Was a BUG (efficiency, DESIGN invariant 6): reading a new, uncached article
  // with UID FETCH n (UID BODY.PEEK[]) cost two ARTICLE downloads and one HEAD
  // upstream (relay log for UIDs 81–92: ARTICLE 81,83,…; HEAD 81,83,…; ARTICLE
  // 82,84,…; HEAD 82,…; then ARTICLE 81…92 again — 2.3× the bytes). Fixed in the
  // backend (article cache / reader) on 2026-11-23; one ARTICLE per article now.
  it('the incremental download fetches each new article from upstream once', () => {
    expect(incremental).toBeDefined();
    const articles = incremental!.commands.filter((c) => c.startsWith('ARTICLE'));
    expect(articles.length).toBe(LATER);
    expect(incremental!.upBytes).toBeLessThan(incremental!.newBytes! * 1.2 + 4096);
  });
});
